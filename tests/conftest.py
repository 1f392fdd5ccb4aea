"""Shared fixtures and builders of small source files."""

import hashlib
import hmac
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from stedi import catalog
from stedi.lake import Lake

REAL_DATA = Path(
    os.environ.get(
        "STEDI_REAL_DATA", Path(__file__).parents[1] / ".." / "shared" / "data" / "stedi"
    )
)
TEST_KEY = "test-pseudonym-key"
EXIT_STATUS = pytest.StashKey[int]()


@pytest.fixture(autouse=True)
def pseudonym_key(monkeypatch):
    """A fixed key, so that tests can compute the customer_id they expect."""
    monkeypatch.setenv("STEDI_PSEUDONYM_KEY", TEST_KEY)
    return TEST_KEY.encode()


@pytest.fixture
def lake(tmp_path) -> Lake:
    return Lake(tmp_path / "lake")


@pytest.fixture
def real_data() -> Path:
    """The real course data; in CI its absence fails the test rather than skipping it."""
    if not (REAL_DATA / "customer").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"real STEDI data not found at {REAL_DATA} (set STEDI_REAL_DATA)")
        pytest.skip(f"real STEDI data not found at {REAL_DATA}")
    return REAL_DATA


def write_source(root: Path, files: dict[str, list]) -> Path:
    """Write source files: {"customer/a.json": [record or raw line, ...]}; dicts become JSON."""
    for name, lines in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
        path.write_text(text + "\n")
    return root


def rows(lake: Lake, table: str, columns: list[str], order_by: list[str] | None = None) -> list:
    """A table's rows as tuples of `columns`, sorted."""
    data = lake.open(table).to_pyarrow_dataset().to_table(columns=columns).to_pylist()
    return sorted((tuple(r[c] for c in columns) for r in data), key=repr)


# Columns that differ between two runs over the same data: batch ids, clock times, and the
# stat or ETag of a source file, which depend on where it was read from.
VOLATILE = [
    "_batch_id",
    "_ingested_at",
    "batch_id",
    "ingested_at",
    "landed_at",
    "modified_ns",
    "changed_ns",
    "etag",
]


def table_digests(lake: Lake) -> dict[str, tuple]:
    """Each table's row count and an order-free digest of its rows, volatile columns aside."""
    volatile = ", ".join(f"'{c}'" for c in VOLATILE)
    digests = {}
    for table in lake.tables():
        if table == "runs":
            continue
        [row] = catalog.query(
            lake,
            f"select count(*) as n, sum(hash(*columns(lambda c: c not in ({volatile}))))::varchar"
            f" as digest from {table}",
        ).to_pylist()
        digests[table] = (row["n"], row["digest"])
    return digests


def customer(email, updated, consent=None, serial="s-1", **extra) -> dict:
    record = {
        "customerName": "Test Person",
        "email": email,
        "phone": "5550100",
        "birthDay": "1980-01-01",
        "serialNumber": serial,
        "registrationDate": 1655564000000,
        "lastUpdateDate": updated,
        "shareWithResearchAsOfDate": consent,
    }
    return record | extra


def accel(user, t, x=0.0, y=0.0, z=0.0) -> dict:
    return {"user": user, "timestamp": t, "x": x, "y": y, "z": z}


def step(serial, t, distance=200) -> dict:
    return {"sensorReadingTime": t, "serialNumber": serial, "distanceFromObject": distance}


def customer_id(email: str, key: bytes = TEST_KEY.encode()) -> str:
    """The expected pseudonym: HMAC-SHA256 of the normalised email."""
    return hmac.new(key, email.strip().lower().encode(), hashlib.sha256).hexdigest()


def pytest_sessionfinish(session, exitstatus):
    session.config.stash[EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """End the process once pytest has reported, skipping interpreter finalisation.

    With pytest's assertion rewriting and hypothesis loaded, DuckDB 2.0's bindings (nanobind)
    print a false "leaked instances" report at finalisation, after the test summary.
    """
    if EXIT_STATUS in config.stash:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config.stash[EXIT_STATUS])


def start_s3_server(**env: str) -> tuple[subprocess.Popen, str]:
    """A real S3 endpoint: moto's server, in its own process, on a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.1)


@pytest.fixture(scope="session")
def s3_endpoint():
    server, endpoint = start_s3_server()
    yield endpoint
    server.terminate()
    server.wait()


@pytest.fixture
def s3(s3_endpoint, monkeypatch, tmp_path):
    """A boto3 client of the test endpoint, whose settings stedi also finds in the environment."""
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    import boto3

    return boto3.client("s3", endpoint_url=s3_endpoint)


def new_bucket(s3) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def upload(s3, folder: Path, bucket: str, prefix: str) -> int:
    """Copy a local folder's files to s3://bucket/prefix/, keeping relative paths."""
    files = [p for p in sorted(folder.rglob("*")) if p.is_file()]
    for path in files:
        key = f"{prefix}/{path.relative_to(folder).as_posix()}"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    return len(files)
