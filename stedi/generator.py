"""A deterministic generator of landing data shaped like the real STEDI feeds.

Per customer: a change log (some customers update the app; some withdraw consent, some
change serial), one device session of step-trainer readings, and accelerometer readings
at the same timestamps. A small pool of serials is shared between customers, as the
fulfilment website did. At `defect_rate`, lines are replaced by the defects real feeds carry.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from stedi.errors import StediError

BASE_MS = 1_655_564_000_000  # 2022-06-18, when the course data was recorded
STEP_READINGS = 30
ACCEL_PER_STEP = (2, 3, 3, 4)  # about 85 accelerometer readings per 30 step-trainer readings
LINES_PER_FILE = 10_000
SHARED_SERIALS = 5
FIRST_NAMES = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo"]
LAST_NAMES = ["Abbot", "Baker", "Cruz", "Dunn", "Evans", "Frey", "Gill", "Hart", "Ito", "Juarez"]
DEFECTS = (
    "truncated",
    "not_json",
    "not_an_object",
    "wrong_type",
    "missing_field",
    "null_field",
    "epoch_seconds",
)


@dataclass(frozen=True)
class Generated:
    """What `generate` wrote: lines per dataset (defects included) and the defect lines."""

    lines: dict[str, int]
    defects: int
    files: list[str]


def generate(
    out: str | Path, *, customers: int = 200, seed: int = 0, defect_rate: float = 0.001
) -> Generated:
    """Write `customer/`, `accelerometer/` and `step_trainer/` landing files under `out`."""
    rng = np.random.default_rng(seed)
    people = _customers(rng, customers)
    change_log = _change_log(rng, people)
    steps = _step_readings(rng, people)
    accel = _accelerometer_readings(rng, steps, people)
    out = Path(out)
    try:
        for dataset in ("customer", "accelerometer", "step_trainer"):
            (out / dataset / "landing").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"cannot write a dataset into {out}: {err.strerror or err}"
        raise StediError(msg) from err
    files, lines, defects = [], {}, 0
    for dataset, frame in (
        ("customer", change_log),
        ("accelerometer", accel),
        ("step_trainer", steps.select("sensorReadingTime", "serialNumber", "distanceFromObject")),
    ):
        text = _with_defects(rng, frame, defect_rate)
        lines[dataset] = len(text)
        defects += sum(1 for line in text if line.startswith(DEFECT_MARK))
        files += _write(out, dataset, [line.removeprefix(DEFECT_MARK) for line in text])
    return Generated(lines, defects, files)


DEFECT_MARK = "\0"


def _customers(rng: np.random.Generator, n: int) -> pl.DataFrame:
    ids = np.arange(n)
    first = np.array(FIRST_NAMES)[ids % len(FIRST_NAMES)]
    last = np.array(LAST_NAMES)[(ids // len(FIRST_NAMES)) % len(LAST_NAMES)]
    serials = _uuids(rng, n)
    shared = _uuids(rng, SHARED_SERIALS)
    shares = rng.random(n) < 0.05
    serials[shares] = shared[rng.integers(0, SHARED_SERIALS, shares.sum())]
    registered = BASE_MS + rng.integers(0, 3_600_000, n)
    session = registered + rng.integers(60_000, 600_000, n) // 1000 * 1000
    consents = rng.random(n) < 0.5
    # Most consent before their session; some part-way through it (for --consent since-consent).
    consent_at = np.where(rng.random(n) < 0.8, registered, session + 12_000)
    return pl.DataFrame(
        {
            "customer": ids,
            "customerName": np.char.add(np.char.add(first, " "), last),
            "email": np.char.add(np.char.add(np.char.add(first, "."), last), ids.astype(str))
            + np.full(n, "@example.com"),
            "phone": np.char.add("555", (rng.integers(0, 10_000_000, n)).astype(str)),
            "birthDay": (np.datetime64("1950-01-01") + rng.integers(0, 18_000, n)).astype(str),
            "serialNumber": serials,
            "registrationDate": registered,
            "lastUpdateDate": registered,
            "shareWithResearchAsOfDate": np.where(consents, consent_at, -1),
            "shareWithPublicAsOfDate": np.where(rng.random(n) < 0.3, registered, -1),
            "shareWithFriendsAsOfDate": np.where(rng.random(n) < 0.3, registered, -1),
            "session": session,
        }
    ).with_columns(pl.col("^shareWith.*$").replace(-1, None))


def _change_log(rng: np.random.Generator, people: pl.DataFrame) -> pl.DataFrame:
    """Every customer's first record, and an update for about one in five of them."""
    n = people.height
    update = rng.random(n) < 0.2
    change = rng.integers(0, 4, n)  # 0: withdraws consent, 1: grants it, 2: new serial, 3: app
    updates = people.filter(pl.Series(update)).with_columns(
        change=pl.Series(change[update]),
        new_serial=pl.Series(_uuids(rng, int(update.sum()))),
    )
    updates = updates.with_columns(
        lastUpdateDate=pl.col("session") + 3_600_000,
        shareWithResearchAsOfDate=pl.when(pl.col("change") == 0)
        .then(None)
        .when(pl.col("change") == 1)
        .then(pl.col("registrationDate"))
        .otherwise(pl.col("shareWithResearchAsOfDate")),
        serialNumber=pl.when(pl.col("change") == 2)
        .then(pl.col("new_serial"))
        .otherwise(pl.col("serialNumber")),
        # The app sends the email as the customer typed it.
        email=pl.when(pl.col("change") == 3)
        .then(pl.concat_str(pl.lit(" "), pl.col("email").str.to_uppercase()))
        .otherwise(pl.col("email")),
    ).drop("change", "new_serial")
    return pl.concat([people, updates]).drop("customer", "session")


def _step_readings(rng: np.random.Generator, people: pl.DataFrame) -> pl.DataFrame:
    n = people.height
    customer = np.repeat(np.arange(n), STEP_READINGS)
    k = np.tile(np.arange(STEP_READINGS), n)
    times = (
        people["session"].to_numpy()[customer] + k * 1000 + rng.integers(0, 3, n * STEP_READINGS)
    )
    return pl.DataFrame(
        {
            "customer": customer,
            "sensorReadingTime": times,
            "serialNumber": people["serialNumber"].to_numpy()[customer],
            "distanceFromObject": rng.integers(150, 300, n * STEP_READINGS),
        }
    )


def _accelerometer_readings(
    rng: np.random.Generator, steps: pl.DataFrame, people: pl.DataFrame
) -> pl.DataFrame:
    per_step = np.array(ACCEL_PER_STEP)[rng.integers(0, len(ACCEL_PER_STEP), steps.height)]
    at = np.repeat(np.arange(steps.height), per_step)
    size = len(at)
    return pl.DataFrame(
        {
            "user": people["email"].to_numpy()[steps["customer"].to_numpy()[at]],
            "timestamp": steps["sensorReadingTime"].to_numpy()[at],
            "x": rng.integers(-1, 2, size).astype(float),
            "y": rng.integers(-1, 2, size).astype(float),
            "z": rng.integers(-1, 2, size).astype(float),
        }
    )


def _uuids(rng: np.random.Generator, n: int) -> np.ndarray:
    hexes = [rng.bytes(16).hex() for _ in range(n)]
    return np.array([f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}" for h in hexes])


def _with_defects(rng: np.random.Generator, frame: pl.DataFrame, rate: float) -> list[str]:
    """The frame as JSON lines; a share `rate` of them replaced by a defect, marked."""
    lines = frame.write_ndjson().splitlines()
    chosen = np.flatnonzero(rng.random(len(lines)) < rate)
    for i, kind in zip(chosen, rng.integers(0, len(DEFECTS), len(chosen)), strict=True):
        lines[i] = DEFECT_MARK + _defect(lines[i], DEFECTS[kind])
    return lines


def _defect(line: str, kind: str) -> str:
    record = json.loads(line)
    required = next(k for k in ("email", "user", "sensorReadingTime") if k in record)
    time_field = next((k for k in ("timestamp", "sensorReadingTime") if k in record), None)
    match kind:
        case "truncated":
            return line[: len(line) // 2]
        case "not_json":
            return "<html>503 Service Unavailable</html>"
        case "not_an_object":
            return json.dumps(line)
        case "wrong_type":
            record[time_field or "lastUpdateDate"] = "abc"
        case "missing_field":
            del record[required]
        case "null_field":
            record[required] = None
        case "epoch_seconds":
            record[time_field or "lastUpdateDate"] //= 1000
    return json.dumps(record)


def _write(out: Path, dataset: str, lines: list[str]) -> list[str]:
    folder = out / dataset / "landing"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for part, start in enumerate(range(0, len(lines), LINES_PER_FILE), start=1):
        path = folder / f"{dataset}-{part:04d}.json"
        path.write_text("\n".join(lines[start : start + LINES_PER_FILE]) + "\n")
        written.append(path.relative_to(out).as_posix())
    return written
