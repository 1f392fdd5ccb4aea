import os
from datetime import date

import pytest

from conftest import accel, customer, rows, step, write_source
from stedi import queries
from stedi.land import land

T = 1655564444103  # 2022-06-18 in epoch milliseconds


def quarantined(lake):
    return rows(lake, "quarantine", ["dataset", "line_number", "reason", "field"])


@pytest.mark.parametrize(
    ("line", "reason", "field"),
    [
        ('{"user": "a@x.com", "timestamp": 16555644', "invalid_json", None),
        ("<html>503</html>", "invalid_json", None),
        ('"a@x.com"', "not_an_object", None),
        ("1655564444103", "not_an_object", None),
        (
            '{"user": "a@x.com", "user": "b@x.com", "timestamp": 1, "x": 0, "y": 0, "z": 0}',
            "duplicate_key",
            None,
        ),
        ('{"timestamp": 1655564444103, "x": 0, "y": 0, "z": 0}', "missing_field", "user"),
        (
            '{"user": null, "timestamp": 1655564444103, "x": 0, "y": 0, "z": 0}',
            "null_field",
            "user",
        ),
        (
            '{"user": "  ", "timestamp": 1655564444103, "x": 0, "y": 0, "z": 0}',
            "null_field",
            "user",
        ),
        (
            '{"user": "a@x.com", "timestamp": 1655564444103, "x": "abc", "y": 0, "z": 0}',
            "wrong_type",
            "x",
        ),
        (
            '{"user": "a@x.com", "timestamp": true, "x": 0, "y": 0, "z": 0}',
            "wrong_type",
            "timestamp",
        ),
        (
            '{"user": {"a": 1}, "timestamp": 1655564444103, "x": 0, "y": 0, "z": 0}',
            "wrong_type",
            "user",
        ),
        (
            '{"user": "a@x.com", "timestamp": 1655564444, "x": 0, "y": 0, "z": 0}',
            "timestamp_out_of_range",
            "timestamp",
        ),
        (
            '{"user": "a@x.com", "timestamp": 4102444800000, "x": 0, "y": 0, "z": 0}',
            "timestamp_out_of_range",
            "timestamp",
        ),
        (
            '{"user": "caf\udcff@x.com", "timestamp": 1655564444103, "x": 0, "y": 0, "z": 0}',
            "invalid_utf8",
            None,
        ),
    ],
)
def test_each_rejection_reason_is_quarantined_with_the_raw_text(
    tmp_path, lake, line, reason, field
):
    path = tmp_path / "src" / "accelerometer" / "a.json"
    path.parent.mkdir(parents=True)
    good = '{"user": "a@x.com", "timestamp": 1655564444103, "x": 1, "y": 2, "z": 3}'
    path.write_bytes(f"{good}\n{line}\n".encode("utf-8", errors="surrogateescape"))

    result = land(tmp_path / "src", lake)

    assert quarantined(lake) == [("accelerometer", 2, reason, field)]
    [raw] = (
        lake.open("quarantine").to_pyarrow_dataset().to_table(columns=["raw"])["raw"].to_pylist()
    )
    assert raw == line.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")
    assert rows(lake, "accelerometer_landing", ["user", "_line_number"]) == [("a@x.com", 1)]
    assert [(d.dataset, d.landed, d.quarantined) for d in result.datasets] == [
        ("customer", 0, 0),
        ("accelerometer", 1, 1),
        ("step_trainer", 0, 0),
    ]


def test_a_replacement_character_the_source_wrote_is_valid_beside_invalid_bytes(tmp_path, lake):
    path = tmp_path / "src" / "accelerometer" / "a.json"
    path.parent.mkdir(parents=True)
    valid = '{"user": "a\ufffd@x.com", "timestamp": 1655564444103, "x": 1, "y": 2, "z": 3}'
    invalid = b'{"user": "b\xff@x.com", "timestamp": 1655564444103, "x": 1, "y": 2, "z": 3}'
    path.write_bytes(valid.encode() + b"\n\n" + invalid + b"\n")

    land(tmp_path / "src", lake)

    assert rows(lake, "accelerometer_landing", ["user", "_line_number"]) == [("a\ufffd@x.com", 1)]
    assert quarantined(lake) == [("accelerometer", 3, "invalid_utf8", None)]


def test_customer_records_are_typed_faithfully(tmp_path, lake):
    write_source(
        tmp_path / "src",
        {
            "customer/landing/c.json": [
                customer("Ann@X.com", T, consent=T, phone=8015551212, shareWithPublicAsOfDate=None),
                {
                    "EMAIL": "bo@x.com",
                    "serialnumber": "s-2",
                    "LastUpdateDate": "1655564444103",
                    "birthDay": "1399-01-01",
                },
            ]
        },
    )

    land(tmp_path / "src", lake)

    assert rows(
        lake,
        "customer_landing",
        [
            "email",
            "phone",
            "birthDay",
            "serialNumber",
            "lastUpdateDate",
            "shareWithResearchAsOfDate",
        ],
    ) == [
        ("Ann@X.com", "8015551212", date(1980, 1, 1), "s-1", T, T),
        ("bo@x.com", None, date(1399, 1, 1), "s-2", T, None),
    ]


def test_customer_rejections_name_the_field(tmp_path, lake):
    write_source(
        tmp_path / "src",
        {
            "customer/c.json": [
                customer("a@x.com", T, birthDay="not a date"),
                customer("b@x.com", None),
                {k: v for k, v in customer("c@x.com", T).items() if k != "serialNumber"},
                customer("d@x.com", T, consent="soon"),
            ]
        },
    )

    land(tmp_path / "src", lake)

    assert quarantined(lake) == [
        ("customer", 1, "wrong_type", "birthDay"),
        ("customer", 2, "null_field", "lastUpdateDate"),
        ("customer", 3, "missing_field", "serialNumber"),
        ("customer", 4, "wrong_type", "shareWithResearchAsOfDate"),
    ]


def test_reading_fields_match_case_insensitively_and_accept_numeric_strings(tmp_path, lake):
    write_source(
        tmp_path / "src",
        {
            "accelerometer/a.json": [
                {"User": "a@x.com", "timeStamp": "1655564444103", "X": "1.5", "y": 2, "z": -1e0},
                {
                    "user": "a@x.com",
                    "timestamp": 1655564444103.0,
                    "x": 0,
                    "y": 0,
                    "z": 0,
                    "extra": "ignored",
                },
            ],
            "step_trainer/s.json": [
                {
                    "SensorReadingTime": "1655564444103",
                    "serialNumber": "s-1",
                    "distanceFromObject": "218",
                },
            ],
        },
    )

    land(tmp_path / "src", lake)

    assert rows(
        lake, "accelerometer_landing", ["user", "timestamp", "x", "y", "z", "reading_date"]
    ) == [
        ("a@x.com", T, 0.0, 0.0, 0.0, date(2022, 6, 18)),
        ("a@x.com", T, 1.5, 2.0, -1.0, date(2022, 6, 18)),
    ]
    assert rows(
        lake, "step_trainer_landing", ["serialNumber", "sensorReadingTime", "distanceFromObject"]
    ) == [("s-1", T, 218)]
    assert quarantined(lake) == []


def test_landing_rows_carry_lineage(tmp_path, lake):
    write_source(tmp_path / "src", {"step_trainer/s.json": ["", step("s-1", T), step("s-2", T)]})

    result = land(tmp_path / "src", lake)

    data = lake.open("step_trainer_landing").to_pyarrow_dataset().to_table().to_pylist()
    assert sorted((r["_source_file"], r["_line_number"], r["_batch_id"]) for r in data) == [
        ("step_trainer/s.json", 2, result.batch_id),
        ("step_trainer/s.json", 3, result.batch_id),
    ]
    assert {str(r["reading_at"]) for r in data} == {"2022-06-18 15:00:44.103000+00:00"}


def test_nothing_is_lost_source_records_equal_landing_plus_quarantine(tmp_path, lake):
    write_source(
        tmp_path / "src",
        {
            "customer/c.json": [customer("a@x.com", T), "not json"],
            "accelerometer/a.json": [accel("a@x.com", T)] * 3 + ["{}", "[7]"],
            "step_trainer/s.json": [step("s-1", T), '{"sensorReadingTime": 5}'],
        },
    )

    land(tmp_path / "src", lake)

    files = rows(lake, "landed_files", ["source_file", "records"])
    assert files == [
        ("accelerometer/a.json", 5),
        ("customer/c.json", 2),
        ("step_trainer/s.json", 2),
    ]
    assert (
        lake.open("customer_landing").count(),
        lake.open("accelerometer_landing").count(),
        lake.open("step_trainer_landing").count(),
        lake.open("quarantine").count(),
    ) == (1, 3, 1, 4)


def test_a_landed_file_is_skipped_and_a_new_file_lands(tmp_path, lake):
    src = write_source(tmp_path / "src", {"accelerometer/a.json": [accel("a@x.com", T)]})
    land(src, lake)
    os.utime(src / "accelerometer" / "a.json", ns=(1, 1))  # touched, same content
    write_source(src, {"accelerometer/b.json": [accel("b@x.com", T)]})

    second = land(src, lake)
    third = land(src, lake)

    assert [(d.files, d.skipped) for d in second.datasets if d.dataset == "accelerometer"] == [
        (1, 1)
    ]
    assert third.batch_id is None
    assert [t.published for t in third.tables] == [False, False, False, False]
    assert rows(lake, "accelerometer_landing", ["user"]) == [("a@x.com",), ("b@x.com",)]


def test_a_batch_that_crashed_before_its_manifest_commit_is_invisible_then_discarded(
    tmp_path, lake
):
    src = write_source(tmp_path / "src", {"step_trainer/s.json": [step("s-1", T)]})
    land(src, lake)
    # A crash after the landing append, before landed_files: the orphan append it leaves.
    orphan = lake.open("step_trainer_landing").to_pyarrow_dataset().to_table()
    orphan = orphan.set_column(
        orphan.schema.get_field_index("_batch_id"), "_batch_id", [["crashed"] * orphan.num_rows]
    )
    lake.write("step_trainer_landing", orphan, mode="append", batch="crashed")
    con = queries.connect()
    lake.register(con, ["step_trainer_landing"])
    assert con.sql("select count(*) from step_trainer_landing").fetchall() == [(1,)]
    assert lake.infos(["step_trainer_landing"])[0].rows == 1

    write_source(src, {"step_trainer/t.json": [step("s-2", T)]})
    land(src, lake)

    assert rows(lake, "step_trainer_landing", ["serialNumber", "_source_file"]) == [
        ("s-1", "step_trainer/s.json"),
        ("s-2", "step_trainer/t.json"),
    ]


def test_a_resent_file_with_new_content_supersedes_its_old_rows(tmp_path, lake):
    src = write_source(tmp_path / "src", {"step_trainer/s.json": [step("s-1", T), step("s-2", T)]})
    land(src, lake)
    stat = (src / "step_trainer" / "s.json").stat()
    # New content of the same size, with the old modification time put back.
    write_source(src, {"step_trainer/s.json": [step("s-3", T), step("s-4", T)]})
    os.utime(src / "step_trainer" / "s.json", ns=(stat.st_atime_ns, stat.st_mtime_ns))

    second = land(src, lake)
    con = queries.connect()
    lake.register(con, ["step_trainer_landing"])

    assert [(d.files, d.skipped) for d in second.datasets if d.dataset == "step_trainer"] == [
        (1, 0)
    ]
    assert con.sql("select serialNumber from step_trainer_landing order by 1").fetchall() == [
        ("s-3",),
        ("s-4",),
    ]
    assert lake.infos(["step_trainer_landing"])[0].rows == 2


def test_a_reading_time_too_large_for_a_timestamp_is_quarantined(tmp_path, lake):
    write_source(
        tmp_path / "src",
        {
            "step_trainer/s.json": [
                step("s-1", 9223372036854776),
                step("s-1", -9223372036854775808),
                step("s-1", T),
            ]
        },
    )

    land(tmp_path / "src", lake)

    assert quarantined(lake) == [
        ("step_trainer", 1, "timestamp_out_of_range", "sensorReadingTime"),
        ("step_trainer", 2, "timestamp_out_of_range", "sensorReadingTime"),
    ]


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"timeStamp": 1655564444103}, "duplicate_key", None),
        ({"timestamp": 1655564444200.5}, "wrong_type", "timestamp"),
        ({"timestamp": "0x1817A4F6F28"}, "wrong_type", "timestamp"),
        ({"timestamp": "1_655_564_444_200"}, "wrong_type", "timestamp"),
        ({"x": True}, "wrong_type", "x"),
        ({"x": "NaN"}, "wrong_type", "x"),
        ({"user": True}, "wrong_type", "user"),
        ({"user": "\t"}, "null_field", "user"),
    ],
)
def test_ambiguous_or_inexact_values_are_rejected_not_guessed(
    tmp_path, lake, change, reason, field
):
    record = {"user": "a@x.com", "timestamp": T, "x": 1, "y": 2, "z": 3} | change
    write_source(tmp_path / "src", {"accelerometer/a.json": [record]})

    land(tmp_path / "src", lake)

    assert quarantined(lake) == [("accelerometer", 1, reason, field)]


@pytest.mark.parametrize(
    ("change", "reason", "field"),
    [
        ({"birthDay": "0000-01-01"}, "wrong_type", "birthDay"),
        ({"birthDay": "infinity"}, "wrong_type", "birthDay"),
        ({"birthDay": "1990-02-30"}, "wrong_type", "birthDay"),
        ({"lastUpdateDate": -5}, "timestamp_out_of_range", "lastUpdateDate"),
        ({"shareWithResearchAsOfDate": 0}, "timestamp_out_of_range", "shareWithResearchAsOfDate"),
    ],
)
def test_customer_dates_must_be_real_dates(tmp_path, lake, change, reason, field):
    write_source(tmp_path / "src", {"customer/c.json": [customer("a@x.com", T, **change)]})

    land(tmp_path / "src", lake)

    assert quarantined(lake) == [("customer", 1, reason, field)]


def test_an_unreadable_file_is_quarantined_and_the_others_land(tmp_path, lake):
    src = write_source(tmp_path / "src", {"step_trainer/s.json": [step("s-1", T)]})
    (src / "step_trainer" / "broken.json.gz").write_bytes(b"not gzip")

    result = land(src, lake)

    assert quarantined(lake) == [("step_trainer", 0, "unreadable_file", None)]
    assert rows(lake, "step_trainer_landing", ["serialNumber"]) == [("s-1",)]
    assert [(d.files, d.landed, d.quarantined) for d in result.datasets][2] == (2, 1, 1)
    assert result.unreadable == ["step_trainer/broken.json.gz"]


def test_a_file_changed_back_to_an_earlier_content_lands_again(tmp_path, lake):
    src = tmp_path / "src"
    versions = [[step("s-1", T)], [step("s-2", T)], [step("s-1", T)]]
    landed = []
    for lines in versions:
        write_source(src, {"step_trainer/s.json": lines})
        land(src, lake)
        con = queries.connect()
        lake.register(con, ["step_trainer_landing"])
        landed.append(con.sql("select serialNumber from step_trainer_landing").fetchall())

    assert landed == [[("s-1",)], [("s-2",)], [("s-1",)]]


def test_values_that_first_appear_late_in_a_big_file_are_read_like_any_other(tmp_path, lake):
    # Readers that infer a schema sample the first 20,480 (DuckDB) or 100 (Polars) records.
    records = [accel("a@x.com", 1655564444000 + i, x=1, y=2, z=3) for i in range(30_000)]
    records[25_000] = accel("a@x.com", 1655564444000 + 25_000, x="2.5", y=1e300, z=-7)
    records[25_000]["firmware"] = {"version": "2.1"}
    records[25_001]["x"] = "wide"
    write_source(tmp_path / "src", {"accelerometer/a.json": records})

    land(tmp_path / "src", lake)

    columns = ["_line_number", "x", "y", "z", "_extra_fields"]
    [late] = [row for row in rows(lake, "accelerometer_landing", columns) if row[0] == 25_001]
    assert late == (25_001, 2.5, 1e300, -7.0, '{"firmware":{"version":"2.1"}}')
    assert rows(lake, "quarantine", ["line_number", "reason", "field"]) == [
        (25_002, "wrong_type", "x")
    ]
    assert lake.open("accelerometer_landing").count() == 29_999


def test_odd_keys_and_huge_numbers_are_landed_or_quarantined_never_a_crash(tmp_path, lake):
    reading = '"sensorReadingTime": 1655564500000, "serialNumber": "s-1", "distanceFromObject": 1'
    huge = "1" * 4301
    write_source(
        tmp_path / "src",
        {
            "step_trainer/s.json": [
                f'{{{reading}, "": 5, "*": 6}}',
                f'{{{reading}, "foo": 1, "foo": 2}}',
                f'{{}}{{"n": {huge}}}',
                "[",
                f'{{{reading}, "note": "\ufffd"}}',
            ]
        },
    )

    land(tmp_path / "src", lake)

    assert rows(lake, "step_trainer_landing", ["_line_number", "_extra_fields"]) == [
        (1, '{"":5,"*":6}'),
        (5, '{"note":"\ufffd"}'),
    ]
    assert rows(lake, "quarantine", ["line_number", "record_number", "reason", "field"]) == [
        (2, 2, "duplicate_key", None),
        (3, 3, "missing_field", "sensorReadingTime"),
        (3, 4, "missing_field", "sensorReadingTime"),
        (4, 5, "invalid_json", None),
    ]


def test_the_later_file_is_the_later_name_as_text(tmp_path, lake):
    # Path order would put x/a.json after x-a.json; as text, "x/" sorts after "x-".
    t = 1655564500000
    write_source(
        tmp_path / "src",
        {
            "step_trainer/x/a.json": [step("s-1", t, distance=1)],
            "step_trainer/x-a.json": [step("s-1", t, distance=2)],
        },
    )

    land(tmp_path / "src", lake)

    assert rows(lake, "step_trainer_landing", ["_source_file", "_record_number"]) == [
        ("step_trainer/x-a.json", 1),
        ("step_trainer/x/a.json", 1),
    ]
    assert rows(lake, "landed_files", ["source_file"]) == [
        ("step_trainer/x-a.json",),
        ("step_trainer/x/a.json",),
    ]
