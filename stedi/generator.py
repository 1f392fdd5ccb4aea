"""A deterministic generator of landing data shaped like the real STEDI feeds.

Per customer: a change log (some customers update the app; some withdraw consent, some
change serial), one device session of about 30 step-trainer readings, and about 85
accelerometer readings at the same timestamps. A small pool of serials is shared between
customers, as the fulfilment website did. At `defect_rate`, lines carry the defects real
feeds carry: some to quarantine, some to recover.

Customers are generated in parts of `CUSTOMERS_PER_PART`, one file per dataset and part,
each part from its own seeded random stream: memory stays that of one part whatever the
number of customers, and the output depends only on the seed and the customer count.
"""

import gzip
import json
from binascii import hexlify
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from stedi.errors import StediError

BASE_MS = 1_655_564_000_000  # 2022-06-18, when the course data was recorded
STEP_READINGS = 30
ACCEL_PER_STEP = (2, 3, 3, 4)  # about 90 accelerometer readings per 30 step-trainer readings
CUSTOMERS_PER_PART = 10_000
SHARED_SERIALS = 5
FIRST_NAMES = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo"]
LAST_NAMES = ["Abbot", "Baker", "Cruz", "Dunn", "Evans", "Frey", "Gill", "Hart", "Ito", "Juarez"]
DATASETS = ("customer", "accelerometer", "step_trainer")
# Defects whose record goes to quarantine.
QUARANTINED = (
    "truncated",
    "not_json",
    "not_an_object",
    "wrong_type",
    "missing_field",
    "null_field",
    "epoch_seconds",
)
# Defects that land: two records back to back on a line (Kinesis Firehose), a field new to
# the feed, numbers sent as strings, the record sent twice, and (step trainer) a second
# copy with another distance.
RECOVERED = ("back_to_back", "extra_field", "numbers_as_strings", "duplicate", "conflict")


@dataclass(frozen=True)
class Generated:
    """What `generate` wrote, per dataset: lines and source records (a line may hold two);
    and the records that belong in quarantine."""

    lines: dict[str, int]
    records: dict[str, int]
    quarantined: int
    files: list[str]


def generate(
    out: str | Path,
    *,
    customers: int = 200,
    seed: int = 0,
    defect_rate: float = 0.001,
    compress: bool = False,
) -> Generated:
    """Write `customer/`, `accelerometer/` and `step_trainer/` landing files under `out`
    (`.json`, or `.json.gz` with `compress`). `out` must be new or empty: files left from
    another dataset would land beside this one."""
    out = Path(out)
    if out.is_dir() and any(out.iterdir()):
        msg = f"{out} is not empty: generate into a new or empty folder"
        raise StediError(msg)
    try:
        for dataset in DATASETS:
            (out / dataset / "landing").mkdir(parents=True, exist_ok=True)
    except OSError as err:
        msg = f"cannot write a dataset into {out}: {err.strerror or err}"
        raise StediError(msg) from err
    shared = _serials(np.random.default_rng([seed, 0]), SHARED_SERIALS)
    lines, records = dict.fromkeys(DATASETS, 0), dict.fromkeys(DATASETS, 0)
    quarantined, files = 0, []
    for part, first in enumerate(range(0, customers, CUSTOMERS_PER_PART), start=1):
        rng = np.random.default_rng([seed, part])
        people = _customers(rng, first, min(CUSTOMERS_PER_PART, customers - first), shared)
        steps = _step_readings(rng, people)
        frames = {
            "customer": _change_log(rng, people),
            "accelerometer": _accelerometer_readings(rng, steps, people),
            "step_trainer": steps.select("sensorReadingTime", "serialNumber", "distanceFromObject"),
        }
        for dataset, frame in frames.items():
            text, counts = _json_lines(rng, frame, dataset, defect_rate)
            lines[dataset] += counts.lines
            records[dataset] += counts.records
            quarantined += counts.quarantined
            files.append(_write(out, dataset, part, text, compress))
    return Generated(lines, records, quarantined, files)


@dataclass(frozen=True)
class _Counts:
    lines: int
    records: int
    quarantined: int


def _customers(rng: np.random.Generator, start: int, n: int, shared: np.ndarray) -> pl.DataFrame:
    ids = np.arange(start, start + n)
    first = np.array(FIRST_NAMES)[ids % len(FIRST_NAMES)]
    last = np.array(LAST_NAMES)[(ids // len(FIRST_NAMES)) % len(LAST_NAMES)]
    serials = _serials(rng, n)
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
        new_serial=pl.Series(_serials(rng, int(update.sum()))),
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


def _serials(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` random UUID-4-shaped serial numbers."""
    hexes = np.frombuffer(hexlify(rng.bytes(16 * n)), dtype="S32").astype(str)
    h = pl.col("hex").str
    return (
        pl.DataFrame({"hex": hexes}, schema={"hex": pl.String})
        .select(
            pl.concat_str(
                h.slice(0, 8),
                pl.lit("-"),
                h.slice(8, 4),
                pl.lit("-4"),
                h.slice(13, 3),
                pl.lit("-a"),
                h.slice(17, 3),
                pl.lit("-"),
                h.slice(20, 12),
            )
        )
        .to_series()
        .to_numpy()
    )


def _json_lines(
    rng: np.random.Generator, frame: pl.DataFrame, dataset: str, rate: float
) -> tuple[pl.Series, _Counts]:
    """The frame as JSON lines, a share `rate` of them with a defect."""
    text = frame.select(line=pl.struct(pl.all()).struct.json_encode())["line"]
    chosen = np.flatnonzero(rng.random(frame.height) < rate)
    # Only step-trainer readings have a value (the distance) to conflict on.
    kinds = QUARANTINED + (RECOVERED if dataset == "step_trainer" else RECOVERED[:-1])
    picks = [kinds[k] for k in rng.integers(0, len(kinds), len(chosen))]
    defective = [_defect(text[int(i)], kind) for i, kind in zip(chosen, picks, strict=True)]
    if len(chosen):
        text = text.scatter(chosen, pl.Series(defective, dtype=pl.String))
    extra_lines = sum(kind in ("duplicate", "conflict") for kind in picks)
    extra_records = extra_lines + picks.count("back_to_back")
    quarantined = sum(kind in QUARANTINED for kind in picks)
    return text, _Counts(frame.height + extra_lines, frame.height + extra_records, quarantined)


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
        case "back_to_back":
            return line + line
        case "extra_field":
            record["firmware"] = "2.1.0"
        case "numbers_as_strings":
            record = {k: str(v) if isinstance(v, int | float) else v for k, v in record.items()}
        case "duplicate":
            return f"{line}\n{line}"
        case "conflict":
            record["distanceFromObject"] += 1
            return f"{line}\n{json.dumps(record)}"
    return json.dumps(record)


def _write(out: Path, dataset: str, part: int, text: pl.Series, compress: bool) -> str:
    name = f"{dataset}/landing/{dataset}-{part:04d}.json" + (".gz" if compress else "")
    frame = text.to_frame("line")
    with open(out / name, "wb") as raw:
        if compress:
            with gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0) as stream:
                frame.write_csv(stream, include_header=False, quote_style="never")
        else:
            frame.write_csv(raw, include_header=False, quote_style="never")
    return name
