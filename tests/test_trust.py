import gzip
import json

import pytest

from conftest import accel, customer, rows, step, write_source
from stedi import catalog
from stedi.errors import StediError
from stedi.land import land
from stedi.trust import trust

T = 1655564444000


def build(tmp_path, lake, files, **options):
    land(write_source(tmp_path / "src", files), lake)
    return trust(lake, **options)


def test_the_latest_record_per_email_wins_and_a_withdrawal_is_honoured(tmp_path, lake):
    build(
        tmp_path,
        lake,
        {
            "customer/c.json": [
                customer("ann@x.com", T, consent=T),
                customer(" ANN@x.com ", T + 5, consent=None),  # Ann withdraws consent
                customer("bo@x.com", T, consent=None),
                customer("Bo@X.com", T + 5, consent=T + 5, serial="s-2"),  # Bo grants it
                customer("cy@x.com", T, consent=T, serial="s-3"),
                customer("cy@x.com", T, consent=None, serial="s-4"),  # a tie: the later line wins
            ]
        },
    )

    assert rows(lake, "customer_trusted", ["email_key", "email", "serial_numbers"]) == [
        ("bo@x.com", "Bo@X.com", ["s-1", "s-2"]),
    ]


def test_readings_of_consenting_customers_only_without_exact_duplicates(tmp_path, lake):
    build(
        tmp_path,
        lake,
        {
            "customer/c.json": [customer("ann@x.com", T, consent=T), customer("bo@x.com", T)],
            "accelerometer/a.json": [
                accel("Ann@x.com", T, 1.0),
                accel("ann@x.com", T, 1.0),
                accel("ann@x.com", T, 2.0),
                accel("bo@x.com", T, 1.0),
                accel("stranger@x.com", T, 1.0),
            ],
        },
    )

    assert rows(lake, "accelerometer_trusted", ["email_key", "timestamp", "x"]) == [
        ("ann@x.com", T, 1.0),
        ("ann@x.com", T, 2.0),
    ]


def test_step_trainer_keeps_readings_attributable_to_a_consenting_owner(tmp_path, lake):
    build(
        tmp_path,
        lake,
        {
            "customer/c.json": [
                customer("ann@x.com", T, consent=T, serial="s-1"),
                customer("ann@x.com", T + 1, consent=T, serial="s-2"),  # a second device
                customer("bo@x.com", T, consent=T, serial="s-3"),  # no accelerometer readings
                customer("cy@x.com", T, serial="s-4"),  # no consent
            ],
            "accelerometer/a.json": [
                accel("ann@x.com", T),
                accel("ann@x.com", T + 1),
                accel("cy@x.com", T),
            ],
            "step_trainer/s.json": [
                step("s-1", T, 100),
                step("s-1", T, 101),  # a conflicting copy: the last landed wins
                step("s-1", T, 101),
                step("s-1", T + 5),  # no accelerometer reading of the owner at that time
                step("s-2", T + 1),
                step("s-3", T),
                step("s-4", T),
            ],
        },
    )

    assert rows(
        lake, "step_trainer_trusted", ["serialNumber", "sensorReadingTime", "distanceFromObject"]
    ) == [("s-1", T, 101), ("s-2", T + 1, 200)]


def test_a_reused_serial_does_not_leak_a_non_consenting_users_readings(tmp_path, lake):
    build(
        tmp_path,
        lake,
        {
            "customer/c.json": [
                customer("ann@x.com", T, consent=T, serial="shared"),
                customer("bo@x.com", T, serial="shared"),  # no consent
            ],
            "accelerometer/a.json": [accel("ann@x.com", T), accel("bo@x.com", T + 9)],
            "step_trainer/s.json": [step("shared", T), step("shared", T + 9)],
        },
    )

    assert rows(lake, "step_trainer_trusted", ["sensorReadingTime"]) == [(T,)]


def test_since_consent_keeps_only_readings_from_the_consent_date(tmp_path, lake):
    build(
        tmp_path,
        lake,
        {
            "customer/c.json": [customer("ann@x.com", T, consent=T + 10)],
            "accelerometer/a.json": [accel("ann@x.com", T + 9), accel("ann@x.com", T + 10)],
            "step_trainer/s.json": [step("s-1", T + 9), step("s-1", T + 10)],
        },
        consent="since-consent",
    )

    assert rows(lake, "accelerometer_trusted", ["timestamp"]) == [(T + 10,)]
    assert rows(lake, "step_trainer_trusted", ["sensorReadingTime"]) == [(T + 10,)]


def test_a_rebuild_from_unchanged_inputs_is_skipped(tmp_path, lake):
    first = build(tmp_path, lake, {"customer/c.json": [customer("ann@x.com", T, consent=T)]})

    second = trust(lake)
    third = trust(lake, consent="since-consent")

    assert (first.skipped, second.skipped, third.skipped) == (False, True, False)
    assert [t.version for t in second.tables] == [0, 0, 0]
    assert [t.version for t in third.tables] == [1, 1, 1]


def test_trust_before_land_says_what_to_do(lake):
    with pytest.raises(
        StediError,
        match=r"no landed_files table in lake .*: run `stedi land SOURCE --lake .*` first",
    ):
        trust(lake)


def test_an_unknown_consent_policy_is_refused(tmp_path, lake):
    with pytest.raises(StediError, match="--consent must be one of customer, since-consent"):
        trust(lake, consent="always")


@pytest.mark.parametrize(
    "withdrawal",
    [
        {"birthDay": "1990-02-30"},  # an invalid optional field
        {"phone": {"n": "1"}},
        {"shareWithResearchAsOfDate": "soon"},
        {"lastUpdateDate": "yesterday"},  # no readable time: counts as the latest
    ],
)
def test_a_withdrawal_in_a_rejected_record_holds_the_customer_back(tmp_path, lake, withdrawal):
    src = write_source(
        tmp_path / "src",
        {
            "customer/c1.json": [customer("ann@x.com", T, consent=T)],
            "accelerometer/a.json": [accel("ann@x.com", T)],
        },
    )
    land(src, lake)
    trust(lake)
    write_source(src, {"customer/c2.json": [customer("ANN@x.com\t", T + 5) | withdrawal]})

    land(src, lake)
    trust(lake)

    assert rows(lake, "customer_trusted", ["email_key"]) == []
    assert rows(lake, "accelerometer_trusted", ["email_key"]) == []


def test_a_later_valid_record_supersedes_a_rejected_one(tmp_path, lake):
    build(
        tmp_path,
        lake,
        {
            "customer/c.json": [
                customer("ann@x.com", T, consent=T, birthDay="1990-02-30"),
                customer("ann@x.com", T + 5, consent=T),
            ],
        },
    )

    assert rows(lake, "customer_trusted", ["email_key"]) == [("ann@x.com",)]


@pytest.mark.parametrize(
    "line",
    [
        '{"email": "bo@x.com", "email": "ann@x.com", "serialNumber": "s-1", "lastUpdateDate": 1}',
        '{"email": "ann@x.com", "serialNumber": "s-1", "lastUpdateDate": 1, "LastUpdateDate": 2}',
        '{"email": "ann@x.com", "serialNumber": "s-1", "lastUpdateDate": 1700000000}',
        '{"email": "ann@x.com", "serialNumber": "s-1", "lastUpdateDate": 1700000000000, "cust',
        '[{"email": "ann@x.com", "serialNumber": "s-1", "lastUpdateDate": 1700000000000}]',
        '{"email": "ann@x.com\\u3000", "serialNumber": "s-1", "lastUpdateDate": 1700000000000}',
        # Quoted twice, written as a Python dict, an escaped key: the email is still named.
        '"{\\"email\\": \\"ann@x.com\\", \\"lastUpdateDate\\": 1700000000000}"',
        "{'email': 'ANN@x.com', 'serialNumber': 's-1', 'shareWithResearchAsOfDate': None}",
        '{"\\u0065mail": "ann@x.com", "phone": "1", "phone": "2", "lastUpdateDate": 1700000000000}',
        '{"\\u0065mail": "ann\\u0040x.com", "birthDay": "1990-02-30", "lastUpdateDate": 1}',
        '{"lastUpdateDate": 1700000000000, "shareWithResearchAsOfDate": null,'
        ' "email": "\\u0041nn\\u0040x.com',
        # A malformed escape: quarantined like any other line, never a failed run.
        '{"email": "ann@x.com\\x", "serialNumber": "s-1", "lastUpdateDate": 1700000000000}',
        # Epoch seconds are no time, even when another field is the one at fault.
        '{"email": "ann@x.com", "serialNumber": "s-1", "lastUpdateDate": 1700000000,'
        ' "birthDay": "1990-02-30"}',
    ],
)
def test_an_unusable_newer_record_of_a_customer_holds_them_back(tmp_path, lake, line):
    build(
        tmp_path,
        lake,
        {
            "customer/c1.json": [customer("ann@x.com", T, consent=T), line],
            "accelerometer/a.json": [accel("ann@x.com", T)],
        },
    )

    assert rows(lake, "customer_trusted", ["email_key"]) == []


def test_an_email_with_an_apostrophe_in_a_python_dict_holds_its_customer_back(tmp_path, lake):
    line = "{'email': \"o'neil@x.com\", 'lastUpdateDate': 1700000000000}"
    build(
        tmp_path,
        lake,
        {
            "customer/c1.json": [customer("o'neil@x.com", T, consent=T), line],
            "accelerometer/a.json": [accel("o'neil@x.com", T)],
        },
    )

    [(named,)] = rows(lake, "quarantine", ["customer_emails"])
    assert sorted(named) == ["neil@x.com", "o'neil@x.com"]  # too many only holds back
    assert rows(lake, "customer_trusted", ["email_key"]) == []


def gz(*lines) -> bytes:
    return gzip.compress("".join(json.dumps(line) + "\n" for line in lines).encode())


@pytest.mark.parametrize(
    ("hollow", "reasons"),
    [
        (b"", []),  # caught while it is rewritten
        (gz(customer("ann@x.com", T + 5))[:-8], ["unreadable_file"]),  # cut short
        (gzip.compress(b"{'not': json}\n"), ["invalid_json"]),
    ],
    ids=["empty", "cut_short", "no_valid_record"],
)
def test_a_resent_file_with_no_valid_record_keeps_its_landed_version(
    tmp_path, lake, hollow, reasons
):
    src = tmp_path / "src"
    write_source(src, {"accelerometer/a.json": [accel("ann@x.com", T)]})
    (src / "customer").mkdir()
    (src / "customer" / "c1.json.gz").write_bytes(gz(customer("ann@x.com", T, consent=T)))
    (src / "customer" / "c2.json.gz").write_bytes(gz(customer("ann@x.com", T + 5)))  # withdraws
    land(src, lake)

    (src / "customer" / "c2.json.gz").write_bytes(hollow)
    land(src, lake)
    trust(lake)
    after_hollow = rows(lake, "customer_trusted", ["email_key"])
    quarantined_after_hollow = rows(lake, "quarantine", ["reason"])
    (src / "customer" / "c2.json.gz").write_bytes(gz(customer("ann@x.com", T + 9, consent=T + 9)))
    land(src, lake)
    trust(lake)

    assert after_hollow == []
    assert quarantined_after_hollow == [(reason,) for reason in reasons]
    assert rows(lake, "customer_trusted", ["email_key"]) == [("ann@x.com",)]
    assert [
        (r["source_file"], r["quarantined"])
        for r in catalog.query(lake, "from landed_files order by batch_id, source_file").to_pylist()
    ] == [
        ("accelerometer/a.json", 0),
        ("customer/c1.json.gz", 0),
        ("customer/c2.json.gz", 0),
        ("customer/c2.json.gz", len(reasons)),
        ("customer/c2.json.gz", 0),
    ]
