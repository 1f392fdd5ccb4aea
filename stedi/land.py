"""The landing zone: new source files validated into typed landing tables and quarantine.

A `land` is one batch. Its rows are staged in DuckDB, reconciled against the source
record counts, then appended to the landing tables and quarantine; the batch's rows in
`landed_files` are written last and are its commit point.
"""

import hashlib
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import duckdb
import pyarrow as pa

from stedi import checks, queries, source
from stedi.checks import CheckResult
from stedi.lake import Lake
from stedi.source import DATASETS, SourceFile
from stedi.storage import S3, is_s3
from stedi.zone import ARROW_BATCH_ROWS, TableResult

LANDING_TABLES = {dataset: f"{dataset}_landing" for dataset in DATASETS}
BATCH_TIME = "%Y%m%dT%H%M%S%fZ"
FETCH_THREADS = 16
# The digest recorded for a file that could not be read: its stat, since it has no content.
UNREADABLE = "unreadable:"
INSERT_ROWS = 256 * 1024
MANIFEST_SCHEMA = pa.schema(
    [
        ("dataset", pa.string()),
        ("source_file", pa.string()),
        ("size", pa.int64()),
        ("modified_ns", pa.int64()),
        ("changed_ns", pa.int64()),
        ("etag", pa.string()),
        ("sha256", pa.string()),
        ("records", pa.int64()),
        ("landed", pa.int64()),
        ("quarantined", pa.int64()),
        ("batch_id", pa.string()),
        ("landed_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class DatasetResult:
    """One dataset of a batch: files landed and skipped, rows landed and quarantined."""

    dataset: str
    files: int
    skipped: int
    landed: int
    quarantined: int


@dataclass(frozen=True)
class LandResult:
    batch_id: str | None
    datasets: list[DatasetResult]
    ignored: list[str]
    tables: list[TableResult]
    checks: list[CheckResult] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)


def land(source_root, lake: Lake, *, progress: Callable[[str], None] | None = None) -> LandResult:
    """Land the files under `source_root` (a folder or an S3 prefix, read with the lake's S3
    settings) that this lake has not landed yet.

    A file counts as landed when a file of the same name and content (SHA-256) was; an
    unchanged size, modification and change time (which no tool can set back), or for an
    S3 object an unchanged size and ETag, spare re-reading it. A file of a landed name with
    new content lands as its new version.
    Raises `SourceError` for a missing or empty source, `LakeError` for a lake that cannot
    be written and `LakeLocked` while another run holds the lake.
    """
    return land_found(source.discover(source_root, lake.s3), lake, progress=progress)


def land_found(
    found: source.Discovery, lake: Lake, *, progress: Callable[[str], None] | None = None
) -> LandResult:
    """Land the files `source.discover` found, as `land` does."""
    with lake.locked():
        return _land(found, lake, progress or (lambda _message: None))


def _land(found: source.Discovery, lake: Lake, report: Callable[[str], None]) -> LandResult:
    known = _known_files(lake)
    lake.discard_uncommitted()
    if not any(f.name not in known or not _unchanged(f, known[f.name]) for f in found.files):
        return _nothing_new(found, lake)
    # Batch ids sort in landing order: later batches win ties in the trusted zone.
    batch_id = _next_batch_id(known)
    landed_at = datetime.now(UTC)
    con = queries.connect(variables={"batch_id": batch_id, "ingested_at": landed_at})
    manifest, skipped = [], {}
    for dataset in DATASETS:
        files = [f for f in found.files if f.dataset == dataset]
        new = _read_new_files(con, files, known, lake.s3, report)
        skipped[dataset] = len(files) - len(new)
        report(f"validating {dataset} records")
        con.execute(f"create view source_fields as {queries.load('landing/source_fields')}")
        con.execute(
            f"create table staged_{dataset} as {queries.load(f'landing/{LANDING_TABLES[dataset]}')}"
        )
        con.execute("drop view source_fields; drop table raw_records")
        outcomes = _outcomes(con, dataset)
        manifest += [
            _manifest_row(*row, *outcomes.get(row[0].name, (0, 0)), batch_id, landed_at)
            for row in new
        ]
    datasets = _dataset_results(con, manifest, skipped)
    published, results = set(), []
    if manifest:
        _stage(con, manifest)
        report("checking the landing zone")
        results = checks.run(con, "landing")
        checks.enforce(results)
        published = _publish(con, lake, batch_id, report)
    return LandResult(
        batch_id if manifest else None,
        datasets,
        found.ignored,
        _table_results(lake, datasets, published),
        results,
        [row["source_file"] for row in manifest if row["records"] == 0],
        [row["source_file"] for row in manifest if row["sha256"].startswith(UNREADABLE)],
    )


def _read_new_files(
    con, files: list[SourceFile], known: dict[str, dict], s3: S3 | None, report
) -> list[tuple]:
    """Load the raw records of the files whose landed version differs into `raw_records`.

    Returns (file, sha256, record count) for each file read.
    """
    raw = _RawRecords(con)
    new = []
    changed = [f for f in files if f.name not in known or not _unchanged(f, known[f.name])]
    for file, fetched in _fetched_ahead(changed, s3):
        report(f"reading {file.name}")
        digest, records = _read_file(raw, file, s3, fetched)
        if file.name in known and digest == known[file.name]["sha256"]:
            raw.drop(file.name)
            continue
        new.append((file, digest, records))
    raw.flush()
    return new


class _RawRecords:
    """The `raw_records` table of a batch, filled in large inserts: files may be tiny."""

    def __init__(self, con):
        self.con, self.pending, self.rows = con, [], 0
        con.execute(
            "create table raw_records (_source_file varchar, _line_number bigint,"
            " _record_number bigint, raw varchar, unreadable boolean, invalid_utf8 boolean)"
        )

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= INSERT_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.con.register("file_records", pa.concat_tables(self.pending))
            self.con.execute("insert into raw_records select * from file_records")
            self.con.unregister("file_records")
        self.pending, self.rows = [], 0

    def drop(self, name: str) -> None:
        """Forget the records of source file `name`."""
        self.pending = [t for t in self.pending if t.num_rows == 0 or t[0][0].as_py() != name]
        self.rows = sum(t.num_rows for t in self.pending)
        self.con.execute("delete from raw_records where _source_file = ?", [name])


def _read_file(raw: _RawRecords, file: SourceFile, s3, fetched) -> tuple[str, int]:
    """Stream the file's raw records into `raw`; returns its content's SHA-256 and records.

    A file that cannot be read is one `unreadable` record instead, whatever was read of it.
    """
    digest, records = hashlib.sha256(), 0
    try:
        for table in source.read(file, digest, s3, fetched):
            raw.add(table)
            records += table.num_rows
    except source.UnreadableFile as err:
        raw.drop(file.name)
        raw.add(source.unreadable(file, str(err)))
        return f"{UNREADABLE}{file.size}:{file.etag or file.modified_ns}", 1
    return digest.hexdigest(), records


def _unchanged(file: SourceFile, landed: dict) -> bool:
    """Same size and ETag (S3), or same size, modification and change time (local)."""
    if file.etag is not None:
        return (file.size, file.etag) == (landed["size"], landed.get("etag"))
    stat = (file.size, file.modified_ns, file.changed_ns)
    return stat == (landed["size"], landed["modified_ns"], landed["changed_ns"])


def _fetched_ahead(
    files: list[SourceFile], s3: S3 | None
) -> Iterator[tuple[SourceFile, bytes | None]]:
    """Each file, with the content of a small S3 object fetched ahead, several at a time.

    S3 answers each request after tens of milliseconds: many small objects read one by one
    would take minutes. Larger objects and local files are streamed when read.
    """
    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        ahead = deque()
        for file in files:
            small = is_s3(file.location) and file.size <= source.CHUNK_BYTES
            ahead.append((file, pool.submit(source.fetch, file, s3) if small else None))
            if len(ahead) > FETCH_THREADS * 2:
                first, fetching = ahead.popleft()
                yield first, fetching and fetching.result()
        for first, fetching in ahead:
            yield first, fetching and fetching.result()


def _known_files(lake: Lake) -> dict[str, dict]:
    """The landed version of each source file: its manifest row, by file name."""
    if not lake.exists("landed_files"):
        return {}
    rows = lake.open("landed_files").to_pyarrow_dataset().to_table().sort_by("batch_id")
    return {row["source_file"]: row for row in rows.to_pylist()}


def _next_batch_id(known: dict[str, dict]) -> str:
    """A batch id that sorts after every landed one, even if the clock stepped back."""
    now = datetime.now(UTC)
    last = max((row["batch_id"] for row in known.values()), default=None)
    if last is not None:
        last_time = datetime.strptime(last.split("-")[0], BATCH_TIME).replace(tzinfo=UTC)
        now = max(now, last_time + timedelta(microseconds=1))
    return f"{now:{BATCH_TIME}}-{uuid.uuid4().hex[:8]}"


def _nothing_new(found: source.Discovery, lake: Lake) -> LandResult:
    """The result of a land that found every file landed already: no SQL to run."""
    skipped = {d: sum(1 for f in found.files if f.dataset == d) for d in DATASETS}
    datasets = [DatasetResult(d, 0, skipped[d], 0, 0) for d in DATASETS]
    return LandResult(None, datasets, found.ignored, _table_results(lake, datasets, set()))


def _outcomes(con, dataset: str) -> dict[str, tuple[int, int]]:
    """Per source file of the staged dataset: its records landed and quarantined."""
    return {
        name: (landed, quarantined)
        for name, landed, quarantined in con.sql(
            "select _source_file, count(*) filter (where reject_reason is null),"
            f" count(*) filter (where reject_reason is not null) from staged_{dataset} group by 1"
        ).fetchall()
    }


def _manifest_row(
    file: SourceFile,
    digest: str,
    records: int,
    landed: int,
    quarantined: int,
    batch_id: str,
    at,
) -> dict:
    return {
        "dataset": file.dataset,
        "source_file": file.name,
        "size": file.size,
        "modified_ns": file.modified_ns,
        "changed_ns": file.changed_ns,
        "etag": file.etag,
        "sha256": digest,
        "records": records,
        "landed": landed,
        "quarantined": quarantined,
        "batch_id": batch_id,
        "landed_at": at,
    }


def _stage(con: duckdb.DuckDBPyConnection, manifest: list[dict]) -> None:
    """Name the staged batch as the checks expect: landing tables, quarantine, landed_files."""
    for dataset, table in LANDING_TABLES.items():
        con.execute(
            f"create view {table} as select * exclude (raw, reject_reason, reject_field)"
            f" from staged_{dataset} where reject_reason is null"
        )
    con.execute(f"create table quarantine as {queries.load('landing/quarantine')}")
    con.register("batch_files", pa.Table.from_pylist(manifest, schema=MANIFEST_SCHEMA))
    con.execute("create table landed_files as select * from batch_files")


def _publish(con, lake: Lake, batch_id: str, report) -> set[str]:
    """Append the staged batch to the lake, `landed_files` last: the batch's commit point."""
    published = set()
    queries.leave_room_for_writes(con)
    for table in [*LANDING_TABLES.values(), "quarantine", "landed_files"]:
        [(rows,)] = con.table(table).count("*").fetchall()
        if rows or not lake.exists(table):
            report(f"publishing {table}")
            reader = con.table(table).to_arrow_reader(ARROW_BATCH_ROWS)
            lake.write(table, reader, mode="append", batch=batch_id)
            published.add(table)
    return published


def _table_results(
    lake: Lake, datasets: list[DatasetResult], published: set[str]
) -> list[TableResult]:
    quarantined = {LANDING_TABLES[d.dataset]: d.quarantined for d in datasets}
    results = []
    for info in lake.infos([*LANDING_TABLES.values(), "quarantine"]):
        table = info.table
        results.append(
            TableResult(
                table,
                info.zone,
                info.rows,
                info.version,
                table in published,
                quarantined.get(table, sum(quarantined.values())),
            )
        )
    return results


def _dataset_results(con, manifest: list[dict], skipped: dict[str, int]) -> list[DatasetResult]:
    results = []
    for dataset in DATASETS:
        [(landed, quarantined)] = con.sql(
            f"select count(*) filter (where reject_reason is null),"
            f" count(*) filter (where reject_reason is not null) from staged_{dataset}"
        ).fetchall()
        files = sum(1 for row in manifest if row["dataset"] == dataset)
        results.append(DatasetResult(dataset, files, skipped[dataset], landed, quarantined))
    return results
