"""S3 sources and lakes, against a real S3 endpoint on loopback (moto's server)."""

import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

from conftest import (
    accel,
    new_bucket,
    start_s3_server,
    table_digests,
    upload,
    write_source,
)
from stedi import pipeline
from stedi.cli import app
from stedi.generator import generate
from stedi.lake import Lake

runner = CliRunner()
T = 1655564444000


def test_an_s3_to_s3_run_of_the_real_data_equals_a_local_run(s3, real_data, tmp_path):
    source, lake_bucket = new_bucket(s3), new_bucket(s3)
    upload(s3, real_data, source, "feeds/stedi")

    s3_lake = Lake(f"s3://{lake_bucket}/lakes/prod")
    result = pipeline.run(f"s3://{source}/feeds/stedi", s3_lake)
    local_lake = Lake(tmp_path / "lake")
    pipeline.run(real_data, local_lake)

    tables = [*result.land.tables, *result.trusted.tables, *result.curated.tables]
    assert {t.table: t.rows for t in tables} == {
        "customer_landing": 956,
        "accelerometer_landing": 81273,
        "step_trainer_landing": 28680,
        "quarantine": 0,
        "customer_trusted": 482,
        "accelerometer_trusted": 40981,
        "step_trainer_trusted": 14460,
        "customer_curated": 482,
        "machine_learning_curated": 40981,
    }
    assert table_digests(s3_lake) == table_digests(local_lake)
    answer = runner.invoke(
        app,
        [
            "inspect",
            "--lake",
            f"s3://{lake_bucket}/lakes/prod",
            "--format",
            "csv",
            "select count(*) as n from machine_learning_curated",
        ],
    )
    assert (answer.exit_code, answer.output) == (0, "n\n40981\n")


def test_listing_pages_through_more_than_1000_objects(s3, tmp_path):
    source = new_bucket(s3)
    for i in range(1500):
        record = accel(f"user{i}@example.com", T + i)
        s3.put_object(
            Bucket=source,
            Key=f"in/accelerometer/landing/2022/06/part-{i:04d}.json",
            Body=f'{{"user": "{record["user"]}", "timestamp": {T + i}, "x": 1, "y": 2, "z": 3}}\n',
        )
    for marker in ("in/", "in/accelerometer/", "in/accelerometer/landing/"):
        s3.put_object(Bucket=source, Key=marker, Body=b"")  # folder markers, as consoles make
    s3.put_object(Bucket=source, Key="in/README.md", Body=b"notes")

    result = pipeline.run(f"s3://{source}/in", Lake(tmp_path / "lake"))

    [accelerometer] = [d for d in result.land.datasets if d.dataset == "accelerometer"]
    assert (accelerometer.files, accelerometer.landed) == (1500, 1500)
    assert result.land.ignored == ["README.md"]


def test_objects_already_landed_are_skipped_by_etag_and_a_changed_one_lands_again(s3, tmp_path):
    source = new_bucket(s3)
    write_source(
        tmp_path / "src",
        {
            "accelerometer/a.json": [accel("a@x.com", T)],
            "accelerometer/b.json": [accel("b@x.com", T)],
        },
    )
    upload(s3, tmp_path / "src", source, "in")
    lake = Lake(f"s3://{new_bucket(s3)}")
    pipeline.run(f"s3://{source}/in", lake)
    s3.put_object(
        Bucket=source,
        Key="in/accelerometer/b.json",
        Body=b'{"user": "c@x.com", "timestamp": 1655564444000, "x": 0, "y": 0, "z": 0}\n',
    )

    again = pipeline.run(f"s3://{source}/in", lake)

    [accelerometer] = [d for d in again.land.datasets if d.dataset == "accelerometer"]
    assert (accelerometer.files, accelerometer.skipped) == (1, 1)
    etags = {o["Key"]: o["ETag"].strip('"') for o in s3.list_objects_v2(Bucket=source)["Contents"]}
    from stedi import catalog

    landed = catalog.query(
        lake, "select source_file, etag from landed_files order by batch_id, source_file"
    ).to_pylist()
    assert [(r["source_file"], r["etag"]) for r in landed][-1] == (
        "accelerometer/b.json",
        etags["in/accelerometer/b.json"],
    )
    users = catalog.query(lake, "select user from accelerometer_landing order by user")
    assert users["user"].to_pylist() == ["a@x.com", "c@x.com"]


def test_a_missing_bucket_is_one_line_and_exit_1(s3, tmp_path):
    write_source(tmp_path / "src", {"accelerometer/a.json": [accel("a@x.com", T)]})

    as_source = runner.invoke(app, ["run", "s3://no-such-bucket/in", "--lake", str(tmp_path)])
    as_lake = runner.invoke(app, ["run", str(tmp_path / "src"), "--lake", "s3://no-such-bucket"])

    assert (as_source.exit_code, as_source.output) == (
        1,
        "error: S3 bucket not found: no-such-bucket (for s3://no-such-bucket/in)\n",
    )
    assert (as_lake.exit_code, as_lake.output) == (
        1,
        "error: S3 bucket not found: no-such-bucket (for s3://no-such-bucket)\n",
    )


def test_wrong_credentials_are_one_line_and_exit_1_and_no_secret_is_shown(
    s3, tmp_path, monkeypatch
):
    # A second endpoint that checks credentials: it knows no access key at all.
    server, endpoint = start_s3_server(INITIAL_NO_AUTH_ACTION_COUNT="0")
    try:
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value")
        result = runner.invoke(
            app,
            ["run", "s3://feeds/in", "--lake", str(tmp_path), "--endpoint-url", endpoint],
        )
    finally:
        server.terminate()
        server.wait()

    assert result.exit_code == 1
    assert result.output == (
        "error: S3 refused access to s3://feeds/in (InvalidAccessKeyId): check the credentials"
        " (AWS_ACCESS_KEY_ID, AWS_PROFILE or --profile) and their permissions\n"
    )
    assert "very-secret-value" not in result.output


def test_a_run_killed_during_its_upload_leaves_the_lake_at_its_previous_version(s3, tmp_path):
    generate(tmp_path / "first", customers=60, seed=2)
    generate(tmp_path / "second", customers=300, seed=3)
    uri = f"s3://{new_bucket(s3)}/lake"
    lake = Lake(uri)
    pipeline.run(tmp_path / "first", lake)
    before = table_digests(lake)
    bucket = uri.removeprefix("s3://").split("/")[0]
    known = {o["Key"] for o in _objects(s3, bucket)}

    command = ["run", str(tmp_path / "second"), "--lake", uri, "--quiet"]
    run = subprocess.Popen([sys.executable, "-c", "from stedi.cli import app; app()", *command])
    deadline = time.monotonic() + 60
    while not any(k.endswith(".parquet") for k in {o["Key"] for o in _objects(s3, bucket)} - known):
        assert time.monotonic() < deadline and run.poll() is None
        time.sleep(0.01)
    run.send_signal(signal.SIGKILL)
    run.wait()

    assert table_digests(lake) == before
    pipeline.run(tmp_path / "second", lake)
    reference = Lake(tmp_path / "reference")
    pipeline.run(tmp_path / "first", reference)
    pipeline.run(tmp_path / "second", reference)
    assert table_digests(lake) == table_digests(reference)


def _objects(s3, bucket: str) -> list[dict]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [o for page in pages for o in page.get("Contents", [])]


def test_the_lock_on_s3_is_a_conditional_put(s3):
    bucket = new_bucket(s3)
    s3.put_object(
        Bucket=bucket,
        Key="lake/_system/lock",
        Body=b'{"host": "elsewhere", "pid": 42, "started": "2026-12-03T10:00:00+00:00"}',
    )

    result = runner.invoke(app, ["trust", "--lake", f"s3://{bucket}/lake"])

    assert result.exit_code == 4
    assert result.output == (
        "error: the lake is locked by another run (host elsewhere, pid 42,"
        " started 2026-12-03T10:00:00+00:00); try again when it ends,"
        f" or delete s3://{bucket}/lake/_system/lock if that run is gone\n"
    )


def test_a_stale_lock_on_s3_is_taken_over_and_released(s3, tmp_path):
    import socket

    bucket = new_bucket(s3)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    s3.put_object(
        Bucket=bucket,
        Key="lake/_system/lock",
        Body=f'{{"host": "{socket.gethostname()}", "pid": {dead.pid}, "started": "x"}}'.encode(),
    )
    write_source(tmp_path / "src", {"accelerometer/a.json": [accel("a@x.com", T)]})

    result = runner.invoke(app, ["land", str(tmp_path / "src"), "--lake", f"s3://{bucket}/lake"])

    assert result.exit_code == 0, result.output
    assert [o["Key"] for o in _objects(s3, bucket) if o["Key"].endswith("lock")] == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("s3://", "an S3 location needs a bucket: s3:// (s3://bucket/prefix)"),
        ("s3:///x", "an S3 location needs a bucket: s3:///x (s3://bucket/prefix)"),
        ("s3://b/a//c", "an S3 location may not have an empty path segment (//): s3://b/a//c"),
        ("S3://b/x", "unsupported location S3://b/x: give a local folder or s3://bucket/prefix"),
        ("s3:/b/x", "unsupported location s3:/b/x: give a local folder or s3://bucket/prefix"),
    ],
)
@pytest.mark.parametrize("role", ["source", "lake"])
def test_a_malformed_s3_location_is_refused(s3, tmp_path, value, message, role):
    args = (
        [value, "--lake", str(tmp_path)] if role == "source" else [str(tmp_path), "--lake", value]
    )

    result = runner.invoke(app, ["run", *args])

    assert (result.exit_code, result.output) == (1, f"error: {message}\n")


@pytest.mark.parametrize("endpoint", ["127.0.0.1:5077", "http://", "http://127.0.0.1:notaport"])
def test_a_malformed_endpoint_is_one_line(s3, tmp_path, endpoint):
    result = runner.invoke(
        app, ["run", "s3://feeds/in", "--lake", str(tmp_path), "--endpoint-url", endpoint]
    )

    assert (result.exit_code, result.output) == (
        1,
        f"error: invalid S3 endpoint URL: {endpoint!r} (give http(s)://host[:port])\n",
    )


def test_inspect_of_a_lake_in_a_missing_bucket_is_one_line(s3):
    result = runner.invoke(app, ["inspect", "--lake", "s3://no-such-bucket/lake"])

    assert (result.exit_code, result.output) == (
        1,
        "error: S3 bucket not found: no-such-bucket (for s3://no-such-bucket/lake)\n",
    )
