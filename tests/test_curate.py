import hashlib
import hmac

import pytest

from conftest import accel, customer, customer_id, rows, step, write_source
from stedi.curate import curate, hmac_pads
from stedi.errors import LakeError
from stedi.land import land
from stedi.queries import connect
from stedi.trust import trust

T = 1655564444000


def build(tmp_path, lake, files, **options):
    land(write_source(tmp_path / "src", files), lake)
    trust(lake, consent=options.get("consent", "customer"))
    return curate(lake, **options)


SHARED_SERIAL = {
    "customer/c.json": [
        customer("ann@x.com", T, consent=T, serial="shared"),
        customer("bo@x.com", T, consent=T, serial="shared"),
    ],
    "accelerometer/a.json": [
        accel("ann@x.com", T, 1.0),
        accel("ann@x.com", T, 2.0),
        accel("bo@x.com", T + 1, 3.0),
        accel("bo@x.com", T, 4.0),
    ],
    "step_trainer/s.json": [step("shared", T, 100), step("shared", T + 1, 101)],
}


def test_customer_join_pairs_each_reading_with_its_owners_readings_at_that_time(tmp_path, lake):
    build(tmp_path, lake, SHARED_SERIAL)

    assert rows(
        lake,
        "machine_learning_curated",
        ["customer_id", "sensorReadingTime", "distanceFromObject", "x"],
    ) == sorted(
        [
            (customer_id("ann@x.com"), T, 100, 1.0),
            (customer_id("ann@x.com"), T, 100, 2.0),
            (customer_id("bo@x.com"), T, 100, 4.0),
            (customer_id("bo@x.com"), T + 1, 101, 3.0),
        ],
        key=repr,
    )


def test_timestamp_join_pairs_by_time_alone_and_warns(tmp_path, lake):
    files = SHARED_SERIAL | {
        "customer/c.json": [
            customer("ann@x.com", T, consent=T, serial="s-1"),
            customer("bo@x.com", T, consent=T, serial="s-2"),
        ],
        "step_trainer/s.json": [step("s-1", T, 100)],
    }

    result = build(tmp_path, lake, files, ml_join="timestamp")

    assert result.warnings == [
        "--ml-join timestamp pairs readings by timestamp alone, so readings of different"
        " customers that share a timestamp are paired (the course rubric's join)"
    ]
    assert rows(lake, "machine_learning_curated", ["customer_id", "serialNumber", "x"]) == sorted(
        [
            (customer_id("ann@x.com"), "s-1", 1.0),
            (customer_id("ann@x.com"), "s-1", 2.0),
            (customer_id("bo@x.com"), "s-1", 4.0),
        ],
        key=repr,
    )


def test_curated_customers_carry_a_pseudonym_and_no_direct_identifiers(tmp_path, lake):
    build(
        tmp_path,
        lake,
        SHARED_SERIAL
        | {
            "customer/c.json": [
                customer("Ann@X.com ", T, consent=T),
                customer("cy@x.com", T, consent=T),
            ]
        },
    )

    table = lake.open("customer_curated").to_pyarrow_dataset().to_table()
    assert table.column_names == [
        "customer_id",
        "serial_numbers",
        "registrationDate",
        "lastUpdateDate",
        "shareWithResearchAsOfDate",
        "shareWithPublicAsOfDate",
        "shareWithFriendsAsOfDate",
    ]
    assert table["customer_id"].to_pylist() == [customer_id("ann@x.com")]


def test_customer_id_is_hmac_sha256_of_the_normalised_email():
    for key in (b"k", b"x" * 64, b"long" * 40):
        ipad, opad = hmac_pads(key)
        con = connect(variables={"key_ipad": ipad, "key_opad": opad})
        [(got,)] = con.sql("select customer_id(' Ann@X.com')").fetchall()
        assert got == hmac.new(key, b"ann@x.com", hashlib.sha256).hexdigest()


def test_the_lake_keeps_one_generated_key_across_runs(tmp_path, lake, monkeypatch):
    monkeypatch.delenv("STEDI_PSEUDONYM_KEY")
    build(tmp_path, lake, SHARED_SERIAL)
    key = (lake.root / "_system" / "pseudonym_key").read_text().encode()
    first = rows(lake, "customer_curated", ["customer_id"])

    curate(lake, ml_join="timestamp")
    curate(lake)

    assert first == sorted([(customer_id("ann@x.com", key),), (customer_id("bo@x.com", key),)])
    assert rows(lake, "customer_curated", ["customer_id"]) == first
    assert oct((lake.root / "_system" / "pseudonym_key").stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("content", [b"", b"\n", b"0123456789abcdef"])
def test_a_damaged_pseudonym_key_stops_curate_and_publishes_nothing(
    tmp_path, lake, monkeypatch, content
):
    monkeypatch.delenv("STEDI_PSEUDONYM_KEY")
    land(write_source(tmp_path / "src", SHARED_SERIAL), lake)
    trust(lake)
    (lake.root / "_system" / "pseudonym_key").write_bytes(content)

    with pytest.raises(LakeError) as raised:
        curate(lake)

    assert str(raised.value) == (
        f"the lake's pseudonym key {lake.root}/_system/pseudonym_key is damaged"
        f" ({len(content.strip())} bytes): restore it from a backup"
        " (a new key would change every customer_id)"
    )
    assert not lake.exists("customer_curated")
