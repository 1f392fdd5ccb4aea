"""Property tests: every table equals a brute-force Python model of DESIGN.md's rules."""

import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import customer_id, write_source
from stedi.curate import curate
from stedi.lake import Lake
from stedi.land import land
from stedi.trust import trust

T = 1655564444000
EMAILS = st.sampled_from(["ann@x.com", " Ann@X.com", "bo@x.com", "BO@x.com ", "cy@x.com"])
SERIALS = st.sampled_from(["s-1", "s-2", "s-3"])
TIMES = st.integers(T, T + 4)

customers = st.lists(
    st.fixed_dictionaries(
        {
            "email": EMAILS,
            "serialNumber": SERIALS,
            "lastUpdateDate": st.integers(T, T + 2),
            "shareWithResearchAsOfDate": st.one_of(st.none(), TIMES),
        }
    ),
    max_size=8,
)
accelerometer = st.lists(
    st.fixed_dictionaries(
        {
            "user": EMAILS,
            "timestamp": TIMES,
            "x": st.sampled_from([0.0, 1.0]),
            "y": st.just(0.0),
            "z": st.just(0.0),
        }
    ),
    max_size=12,
)
step_trainer = st.lists(
    st.fixed_dictionaries(
        {
            "sensorReadingTime": TIMES,
            "serialNumber": SERIALS,
            "distanceFromObject": st.integers(1, 3),
        }
    ),
    max_size=12,
)
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def model(custs, accs, steps, consent, ml_join):
    """The rules of DESIGN.md, written the slow and obvious way."""
    key = lambda email: email.strip().lower()  # noqa: E731
    latest = {}
    for line, c in enumerate(custs):  # later lines win ties
        order = (c["lastUpdateDate"], line)
        if key(c["email"]) not in latest or order > latest[key(c["email"])][0]:
            latest[key(c["email"])] = (order, c)
    consent_at = {
        e: c["shareWithResearchAsOfDate"]
        for e, (_, c) in latest.items()
        if c["shareWithResearchAsOfDate"] is not None
    }

    def allowed(email, t):
        return email in consent_at and (consent == "customer" or t >= consent_at[email])

    acc_trusted = {
        (key(a["user"]), a["timestamp"], a["x"])
        for a in accs
        if allowed(key(a["user"]), a["timestamp"])
    }
    curated = {e for e in consent_at if any(a[0] == e for a in acc_trusted)}
    owners = {}
    for c in custs:
        owners.setdefault(c["serialNumber"], set()).add(key(c["email"]))
    acc_times = {(e, t) for e, t, _ in acc_trusted}
    step_trusted = {}
    for s in steps:  # the last landed copy of a (serial, time) wins
        if any(
            (e, s["sensorReadingTime"]) in acc_times
            for e in owners.get(s["serialNumber"], ())
            if e in consent_at
        ):
            step_trusted[(s["serialNumber"], s["sensorReadingTime"])] = s["distanceFromObject"]
    ml = Counter()
    for (serial, t), distance in step_trusted.items():
        for email, at, x in acc_trusted:
            if at == t and (ml_join == "timestamp" or email in owners[serial]):
                ml[(customer_id(email), serial, t, distance, x)] += 1
    return {
        "customer_trusted": Counter(consent_at.keys()),
        "accelerometer_trusted": Counter(acc_trusted),
        "step_trainer_trusted": Counter(step_trusted.items()),
        "customer_curated": Counter(customer_id(e) for e in curated),
        "machine_learning_curated": ml,
    }


def lake_tables(lake):
    def read(table, columns):
        data = lake.open(table).to_pyarrow_dataset().to_table(columns=columns).to_pylist()
        return [tuple(r[c] for c in columns) for r in data]

    return {
        "customer_trusted": Counter(e for (e,) in read("customer_trusted", ["email_key"])),
        "accelerometer_trusted": Counter(
            read("accelerometer_trusted", ["email_key", "timestamp", "x"])
        ),
        "step_trainer_trusted": Counter(
            ((s, t), d)
            for s, t, d in read(
                "step_trainer_trusted", ["serialNumber", "sensorReadingTime", "distanceFromObject"]
            )
        ),
        "customer_curated": Counter(c for (c,) in read("customer_curated", ["customer_id"])),
        "machine_learning_curated": Counter(
            read(
                "machine_learning_curated",
                ["customer_id", "serialNumber", "sensorReadingTime", "distanceFromObject", "x"],
            )
        ),
    }


def run_pipeline(root: Path, custs, accs, steps, consent, ml_join) -> Lake:
    files = {"customer/c.json": custs, "accelerometer/a.json": accs, "step_trainer/s.json": steps}
    source = write_source(
        root / "src",
        {name: lines for name, lines in files.items() if lines} or {"customer/empty.json": []},
    )
    lake = Lake(root / "lake")
    land(source, lake)
    trust(lake, consent=consent)
    curate(lake, consent=consent, ml_join=ml_join)
    return lake


@SETTINGS
@given(
    customers,
    accelerometer,
    step_trainer,
    st.sampled_from(["customer", "since-consent"]),
    st.sampled_from(["customer", "timestamp"]),
)
def test_every_table_equals_the_brute_force_model(custs, accs, steps, consent, ml_join):
    with tempfile.TemporaryDirectory() as tmp:
        lake = run_pipeline(Path(tmp), custs, accs, steps, consent, ml_join)
        assert lake_tables(lake) == model(custs, accs, steps, consent, ml_join)


@SETTINGS
@given(customers, accelerometer, step_trainer, st.sampled_from(["customer", "since-consent"]))
def test_no_row_reaches_trusted_or_curated_without_current_consent(custs, accs, steps, consent):
    with tempfile.TemporaryDirectory() as tmp:
        lake = run_pipeline(Path(tmp), custs, accs, steps, consent, "customer")
        latest = {}
        for c in custs:  # the latest update wins; of equal ones, the later line
            email = c["email"].strip().lower()
            if email not in latest or c["lastUpdateDate"] >= latest[email]["lastUpdateDate"]:
                latest[email] = c
        allowed = {e for e, c in latest.items() if c["shareWithResearchAsOfDate"] is not None}
        tables = lake_tables(lake)
        assert set(tables["customer_trusted"]) <= allowed
        assert {e for e, _, _ in tables["accelerometer_trusted"]} <= allowed
        assert set(tables["customer_curated"]) <= {customer_id(e) for e in allowed}
        assert {row[0] for row in tables["machine_learning_curated"]} <= {
            customer_id(e) for e in allowed
        }


@SETTINGS
@given(customers, accelerometer, step_trainer)
def test_in_customer_mode_each_pair_is_one_customers_readings(custs, accs, steps):
    with tempfile.TemporaryDirectory() as tmp:
        lake = run_pipeline(Path(tmp), custs, accs, steps, "customer", "customer")
        owned = {(customer_id(c["email"]), c["serialNumber"]) for c in custs}
        taken = {(customer_id(a["user"]), a["timestamp"], a["x"]) for a in accs}
        for cid, serial, t, _, x in lake_tables(lake)["machine_learning_curated"]:
            assert (cid, serial) in owned
            assert (cid, t, x) in taken


@SETTINGS
@given(
    st.lists(
        st.one_of(
            st.fixed_dictionaries(
                {
                    "user": EMAILS,
                    "timestamp": TIMES,
                    "x": st.just(1),
                    "y": st.just(1),
                    "z": st.just(1),
                }
            ),
            st.text(max_size=20),
            st.dictionaries(
                st.sampled_from(["user", "timestamp", "x", "y", "z"]),
                st.one_of(st.none(), st.integers(), st.text(max_size=5)),
                max_size=5,
            ),
        ),
        max_size=15,
    )
)
def test_nothing_lost_source_records_equal_landing_plus_quarantine(lines):
    with tempfile.TemporaryDirectory() as tmp:
        text = [
            line.replace("\n", " ").replace("\r", " ") if isinstance(line, str) else line
            for line in lines
        ]
        source = write_source(Path(tmp) / "src", {"accelerometer/a.json": text})
        lake = Lake(Path(tmp) / "lake")
        land(source, lake)
        non_blank = sum(1 for line in text if not isinstance(line, str) or line.strip())
        assert lake.open("accelerometer_landing").count() + lake.open("quarantine").count() == (
            non_blank
        )
