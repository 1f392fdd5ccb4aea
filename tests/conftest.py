"""Shared fixtures and builders of small source files."""

import hashlib
import hmac
import json
import os
import sys
from pathlib import Path

import pytest

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
