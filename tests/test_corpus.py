"""The defect corpus: `tests/corpus/` holds small source files with the defects real feeds have.

- customer/landing/customers-1.json: Ann grants consent, then withdraws it; Bob moves from
  serial s-bob-1 to s-bob-2; Cara and Dan share serial s-shared (the fulfilment defect), Dan
  without consent; Eve's email comes with case and spaces; Cara's record has a field new
  to the feed; a record without an email.
- customer/landing/customers-2.json: Eve again, same lastUpdateDate, another phone (a tie).
- accelerometer/landing/firehose.json: objects back to back on a line, with and without
  white space between them (as Kinesis Firehose writes them).
- accelerometer/landing/array.json: one JSON array over several lines, one record of the
  wrong type.
- accelerometer/landing/messy.json: a byte-order mark, CRLF line ends, a blank line,
  numbers sent as strings, a line that is not JSON, a JSON string, invalid UTF-8, epoch
  seconds, a time in 1999, a missing and a null field, `"x": "abc"`, new fields, and a
  truncated last record.
- accelerometer/landing/more.json.gz, empty.json, and README.md and .DS_Store that are
  not JSON lines.
- step_trainer/landing/readings.json and resend.json: a reading twice in one file, one in
  both files, and one that conflicts (same serial and time, another distance).
"""

from pathlib import Path

import pytest

from conftest import customer_id
from stedi import catalog, pipeline
from stedi.lake import Lake

CORPUS = Path(__file__).parent / "corpus"
T0 = 1655564444000


def T(k: int) -> int:
    return 1655564500000 + k * 1000


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory, module_key):
    lake = Lake(tmp_path_factory.mktemp("corpus") / "lake")
    return lake, pipeline.run(CORPUS, lake)


@pytest.fixture(scope="module")
def module_key():
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STEDI_PSEUDONYM_KEY", "test-pseudonym-key")
        yield


def query(lake: Lake, sql: str) -> list[tuple]:
    return [tuple(row.values()) for row in catalog.query(lake, sql).to_pylist()]


def test_every_defect_is_quarantined_with_its_place_and_reason(corpus_run):
    lake, _ = corpus_run
    assert query(
        lake,
        "select source_file, line_number, record_number, reason, field"
        " from quarantine order by source_file, record_number",
    ) == [
        ("accelerometer/landing/array.json", 16, 3, "wrong_type", "x"),
        ("accelerometer/landing/messy.json", 4, 3, "invalid_json", None),
        ("accelerometer/landing/messy.json", 5, 4, "not_an_object", None),
        ("accelerometer/landing/messy.json", 6, 5, "invalid_utf8", None),
        ("accelerometer/landing/messy.json", 7, 6, "timestamp_out_of_range", "timestamp"),
        ("accelerometer/landing/messy.json", 8, 7, "timestamp_out_of_range", "timestamp"),
        ("accelerometer/landing/messy.json", 9, 8, "missing_field", "user"),
        ("accelerometer/landing/messy.json", 10, 9, "null_field", "x"),
        ("accelerometer/landing/messy.json", 11, 10, "wrong_type", "x"),
        ("accelerometer/landing/messy.json", 13, 12, "invalid_json", None),
        ("customer/landing/customers-1.json", 8, 8, "missing_field", "email"),
    ]
    assert query(
        lake, "select raw from quarantine where reason = 'invalid_json' order by record_number"
    ) == [("<html>503 Service Unavailable</html>",), ('{"user":"bob@example.com","tim',)]


def test_several_records_on_a_line_and_a_json_array_are_recovered(corpus_run):
    lake, _ = corpus_run
    assert query(
        lake,
        "select _source_file, _line_number, _record_number, user, timestamp"
        " from accelerometer_landing"
        " where _source_file in ('accelerometer/landing/firehose.json',"
        " 'accelerometer/landing/array.json')"
        " order by _source_file, _record_number",
    ) == [
        ("accelerometer/landing/array.json", 2, 1, "ann@example.com", T(1)),
        ("accelerometer/landing/array.json", 9, 2, "bob@example.com", T(4)),
        ("accelerometer/landing/firehose.json", 1, 1, "bob@example.com", T(1)),
        ("accelerometer/landing/firehose.json", 1, 2, "bob@example.com", T(2)),
        ("accelerometer/landing/firehose.json", 1, 3, "bob@example.com", T(3)),
        ("accelerometer/landing/firehose.json", 2, 4, "cara@example.com", T(1)),
        ("accelerometer/landing/firehose.json", 2, 5, "dan@example.com", T(1)),
        ("accelerometer/landing/firehose.json", 2, 6, "dan@example.com", T(7)),
    ]


def test_messy_lines_land_typed_and_unknown_fields_are_kept(corpus_run):
    lake, _ = corpus_run
    assert query(
        lake,
        "select _source_file, _line_number, user, timestamp, x, y, z, _extra_fields"
        " from accelerometer_landing"
        " where _source_file in ('accelerometer/landing/messy.json',"
        " 'accelerometer/landing/more.json.gz')"
        " order by _source_file, _record_number",
    ) == [
        ("accelerometer/landing/messy.json", 1, "bob@example.com", T(5), 0.5, 1.0, -1.0, None),
        ("accelerometer/landing/messy.json", 3, "bob@example.com", T(6), 0.5, 1.0, -2.0, None),
        (
            "accelerometer/landing/messy.json",
            12,
            "bob@example.com",
            T(8),
            0.5,
            1.0,
            -1.0,
            '{"firmware":"2.1","battery":{"level":0.9}}',
        ),
        ("accelerometer/landing/more.json.gz", 1, "cara@example.com", T(2), 0.5, 1.0, -1.0, None),
    ]
    assert query(
        lake, "select email, _extra_fields from customer_landing where _extra_fields is not null"
    ) == [("cara@example.com", '{"loyaltyTier":"gold"}')]


def test_the_summary_lists_empty_and_ignored_files_and_the_record_counts(corpus_run):
    _, result = corpus_run
    assert result.land.empty == ["accelerometer/landing/empty.json"]
    assert result.land.unreadable == []
    assert result.land.ignored == ["accelerometer/README.md", "accelerometer/landing/.DS_Store"]
    assert [(d.dataset, d.files, d.landed, d.quarantined) for d in result.land.datasets] == [
        ("customer", 2, 8, 1),
        ("accelerometer", 5, 12, 10),
        ("step_trainer", 2, 10, 0),
    ]


def test_the_change_log_keeps_each_consenting_customers_latest_record(corpus_run):
    lake, _ = corpus_run
    assert query(
        lake,
        "select email_key, email, phone, serial_numbers, _source_file from customer_trusted"
        " order by email_key",
    ) == [
        (
            "bob@example.com",
            "bob@example.com",
            "555-0100",
            ["s-bob-1", "s-bob-2"],
            "customer/landing/customers-1.json",
        ),
        (
            "cara@example.com",
            "cara@example.com",
            "555-0100",
            ["s-shared"],
            "customer/landing/customers-1.json",
        ),
        # A tie on lastUpdateDate goes to the later file.
        (
            "eve@example.com",
            "eve@example.com",
            "555-0102",
            ["s-eve"],
            "customer/landing/customers-2.json",
        ),
    ]


def test_trusted_readings_are_deduplicated_and_attributed(corpus_run):
    lake, _ = corpus_run
    assert query(
        lake,
        "select _source_file, count(*) from step_trainer_landing"
        " where serialNumber = 's-bob-1' group by all order by all",
    ) == [("step_trainer/landing/readings.json", 3), ("step_trainer/landing/resend.json", 2)]
    # Ann withdrew and Dan never consented: none of their readings are trusted.
    assert query(lake, "select email_key, timestamp from accelerometer_trusted order by all") == [
        ("bob@example.com", T(1)),
        ("bob@example.com", T(2)),
        ("bob@example.com", T(3)),
        ("bob@example.com", T(4)),
        ("bob@example.com", T(5)),
        ("bob@example.com", T(6)),
        ("bob@example.com", T(8)),
        ("cara@example.com", T(1)),
        ("cara@example.com", T(2)),
    ]
    # s-shared at T(7) was Dan's reading; s-bob-2 at T(4) keeps the last landed distance.
    assert query(
        lake,
        "select serialNumber, sensorReadingTime, distanceFromObject, _source_file"
        " from step_trainer_trusted order by all",
    ) == [
        ("s-bob-1", T(1), 10, "step_trainer/landing/readings.json"),
        ("s-bob-1", T(2), 20, "step_trainer/landing/resend.json"),
        ("s-bob-1", T(3), 30, "step_trainer/landing/resend.json"),
        ("s-bob-2", T(4), 41, "step_trainer/landing/resend.json"),
        ("s-shared", T(1), 5, "step_trainer/landing/readings.json"),
    ]


def test_conflicts_are_counted_in_the_summary_and_the_run_history(corpus_run):
    lake, result = corpus_run
    assert {t.table: t.conflicts for t in result.trusted.tables} == {
        "customer_trusted": 1,
        "accelerometer_trusted": 0,
        "step_trainer_trusted": 1,
    }
    assert query(lake, "select status, conflicts, quarantined from runs") == [
        ("succeeded", '{"customer_trusted": 1, "step_trainer_trusted": 1}', 11)
    ]


PASSED_CHECKS = (
    '{"landing/reconciliation": 0, "trusted/consent": 0, "trusted/subset_of_landing": 0,'
    ' "trusted/unique_keys": 0, "curated/consent": 0, "curated/no_direct_identifiers": 0,'
    ' "curated/unique_keys": 0}'
)


def test_a_rerun_with_nothing_new_resolves_and_counts_no_conflicts(tmp_path, module_key):
    lake = Lake(tmp_path / "lake")
    pipeline.run(CORPUS, lake)

    rerun = pipeline.run(CORPUS, lake)

    assert [(t.table, t.conflicts, t.published) for t in rerun.trusted.tables] == [
        ("customer_trusted", 1, False),
        ("accelerometer_trusted", 0, False),
        ("step_trainer_trusted", 1, False),
    ]
    assert query(lake, "select conflicts, checks from runs order by started_at") == [
        ('{"customer_trusted": 1, "step_trainer_trusted": 1}', PASSED_CHECKS),
        ("{}", "{}"),
    ]


def test_machine_learning_pairs_each_reading_with_its_owners_reading(corpus_run):
    lake, _ = corpus_run
    bob, cara = customer_id("bob@example.com"), customer_id("cara@example.com")
    assert query(
        lake,
        "select customer_id, serialNumber, sensorReadingTime, distanceFromObject"
        " from machine_learning_curated order by serialNumber, sensorReadingTime",
    ) == [
        (bob, "s-bob-1", T(1), 10),
        (bob, "s-bob-1", T(2), 20),
        (bob, "s-bob-1", T(3), 30),
        (bob, "s-bob-2", T(4), 41),
        (cara, "s-shared", T(1), 5),
    ]


def test_a_rerun_over_the_same_corpus_publishes_nothing(corpus_run):
    lake, _ = corpus_run
    versions = {table: lake.version(table) for table in lake.tables() if table != "runs"}

    again = pipeline.run(CORPUS, lake)

    tables = [*again.land.tables, *again.trusted.tables, *again.curated.tables]
    assert [t.table for t in tables if t.published] == []
    assert [(d.files, d.skipped) for d in again.land.datasets] == [(0, 2), (0, 5), (0, 2)]
    assert {table: lake.version(table) for table in versions} == versions
