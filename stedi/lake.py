"""The lake: where each table lives, Delta reads and writes, and the lake's pseudonym key.

Layout: `<lake>/<zone>/<table>/` Delta tables, and `<lake>/_system/` for the file manifest,
the run history, the run lock and the pseudonym key. The lake is a local folder or an S3
prefix. A Delta write is one atomic commit: a reader or a crash sees a table's old version
or its new one, never a mix (on S3, commits are conditional puts).
"""

import json
import os
import re
import secrets
import socket
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pyarrow as pa
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import DeltaError

from stedi import queries
from stedi.errors import LakeError, LakeLocked, StediError
from stedi.storage import S3, LocalStore, S3Store, is_s3, split_s3


@dataclass(frozen=True)
class TableSpec:
    name: str
    zone: str
    partition_by: tuple[str, ...] = ()


TABLES = {
    spec.name: spec
    for spec in (
        TableSpec("customer_landing", "landing"),
        TableSpec("accelerometer_landing", "landing", ("reading_date",)),
        TableSpec("step_trainer_landing", "landing", ("reading_date",)),
        TableSpec("quarantine", "landing", ("dataset",)),
        TableSpec("customer_trusted", "trusted"),
        TableSpec("accelerometer_trusted", "trusted", ("reading_date",)),
        TableSpec("step_trainer_trusted", "trusted", ("reading_date",)),
        TableSpec("customer_curated", "curated"),
        TableSpec("machine_learning_curated", "curated", ("reading_date",)),
        TableSpec("landed_files", "_system"),
        TableSpec("runs", "_system"),
    )
}
LANDING_READINGS = ("customer_landing", "accelerometer_landing", "step_trainer_landing")
URL_CHARACTERS = ("[", "]", "#", "?", "%", "\\")
LOCK_POLL_SECONDS = 0.2
LOCK = "_system/lock"
KEY_FILE = "_system/pseudonym_key"
MIN_KEY_BYTES = 32
INPUTS_KEY = "stedi.inputs"
BATCH_KEY = "stedi.batch"
CONFLICTS_KEY = "stedi.conflicts"
KEY_ENV = "STEDI_PSEUDONYM_KEY"


@dataclass(frozen=True)
class TableInfo:
    """A table's entry in the catalog."""

    table: str
    zone: str
    rows: int
    version: int
    updated: datetime
    conflicts: int = 0


class Lake:
    """A lake rooted at a local folder or an S3 prefix (`s3://bucket/prefix`, reached with
    `s3`'s credentials); a run waits up to `wait` seconds for the lake's lock."""

    def __init__(self, root: str | Path, *, wait: float = 0.0, s3: S3 | None = None):
        self.s3 = s3 or S3()
        if not str(root).strip():
            msg = "the lake path is empty: give --lake a folder or s3://bucket/prefix"
            raise LakeError(msg)
        if is_s3(root):
            split_s3(str(root))  # a bucket, and no empty path segment
            self.root = str(root).rstrip("/")
            self.store = S3Store(self.s3, self.root)
        else:
            self.root = Path(root).absolute()
            self.store = LocalStore(self.root)
        if any(ord(c) < 32 for c in str(self.root)):
            msg = "a lake path may not contain control characters (tab, newline)"
            raise LakeError(f"{msg}: {str(self.root)!r}")
        # Delta's object store reads a path as a URL, where these characters mean something.
        if any(c in str(self.root).removeprefix("s3://") for c in URL_CHARACTERS):
            msg = f"a lake path may not contain any of {' '.join(URL_CHARACTERS)}: {self.root}"
            raise LakeError(msg)
        self.wait = wait
        self._lock_depth = 0
        self._options = None
        # Tables opened while this process holds the lock (no one else writes them then),
        # until it writes them: opening a table reads its Delta log.
        self._opened: dict[str, DeltaTable] = {}

    @property
    def storage_options(self) -> dict[str, str] | None:
        """What delta-rs needs to reach the lake: None for a local folder."""
        if self._options is None and isinstance(self.store, S3Store):
            self._options = self.s3.storage_options()
        return self._options

    @contextmanager
    def locked(self):
        """Hold the lake's run lock, `_system/lock`, for the block; re-entrant.

        Raises `LakeLocked` naming the holder when another live process still holds it after
        `wait` seconds. A lock whose process is gone (same host, dead pid) is stale and
        taken over.
        """
        held = None
        if self._lock_depth == 0:
            self.ensure_writable()
            deadline = time.monotonic() + self.wait
            while True:
                try:
                    held = _acquire(self.store, f"{self.root}/{LOCK}")
                    break
                except LakeLocked:
                    if time.monotonic() >= deadline:
                        raise
                    time.sleep(LOCK_POLL_SECONDS)
                except OSError as err:
                    msg = f"cannot write the lake's lock {self.root}/{LOCK}: {err.strerror or err}"
                    raise LakeError(msg) from err
        self._lock_depth += 1
        try:
            yield
        except BaseException:
            self._unlock(held, failing=True)
            raise
        self._unlock(held, failing=False)

    def _unlock(self, held: bytes | None, *, failing: bool) -> None:
        self._lock_depth -= 1
        if self._lock_depth:
            return
        self._opened.clear()
        try:
            _release(self.store, held)
        except StediError:
            if not failing:  # the error that is already on its way is the one to report
                raise

    def uri(self, table: str) -> str:
        return f"{self.root}/{TABLES[table].zone}/{table}"

    def exists(self, table: str) -> bool:
        if self._lock_depth and table in self._opened:
            return True
        try:
            return DeltaTable.is_deltatable(self.uri(table), self.storage_options)
        except (DeltaError, OSError) as err:
            msg = f"cannot read lake {self.root}: {_one_line(err)}"
            raise LakeError(msg) from err

    def open(self, table: str) -> DeltaTable:
        if self._lock_depth and table in self._opened:
            return self._opened[table]
        try:
            opened = DeltaTable(self.uri(table), storage_options=self.storage_options)
        except (DeltaError, OSError) as err:
            msg = f"cannot read table {table} in lake {self.root}: {_one_line(err)}"
            raise LakeError(msg) from err
        if self._lock_depth:
            self._opened[table] = opened
        return opened

    def version(self, table: str) -> int | None:
        return self.open(table).version() if self.exists(table) else None

    def inputs(self, table: str) -> str | None:
        """The input fingerprint that the table's latest version was built from, if any."""
        if not self.exists(table):
            return None
        return self.open(table).history(1)[0].get(INPUTS_KEY)

    def infos(self, tables: list[str]) -> list[TableInfo]:
        """The catalog entries of `tables`; landing rows are counted as queries see them
        (committed, current), in one DuckDB connection."""
        versioned = [t for t in tables if _versioned(t)]
        counts = {}
        if versioned and self.exists("landed_files"):
            con = duckdb.connect()
            self.register(con, ["landed_files"])
            # The manifest counts each file's rows; a lake landed before it did is counted.
            query = queries.load("landing/current_rows")
            if con.sql("select count(*) from landed_files where landed is null").fetchall()[0][0]:
                self.register(con, versioned)
                query = " union all ".join(f"select '{t}', count(*) from {t}" for t in versioned)
            try:
                counts = dict(con.sql(query).fetchall())
            except duckdb.Error as err:
                msg = f"cannot read lake {self.root}: {_one_line(err)}"
                raise LakeError(msg) from err
        infos = []
        for table in tables:
            dt = self.open(table)
            last = dt.history(1)[0]
            updated = datetime.fromtimestamp(last["timestamp"] / 1000, tz=UTC)
            rows = counts.get(table, 0) if _versioned(table) else dt.count()
            conflicts = int(last.get(CONFLICTS_KEY, 0))
            infos.append(
                TableInfo(table, TABLES[table].zone, rows, dt.version(), updated, conflicts)
            )
        return infos

    def write(
        self,
        table: str,
        data: pa.RecordBatchReader | pa.Table,
        *,
        mode: str,
        inputs: str | None = None,
        batch: str | None = None,
        conflicts: int | None = None,
    ) -> int:
        """Append to or replace `table` in one Delta commit; returns the new version.

        `inputs` is recorded in the commit, so that a rebuild from the same inputs is
        skipped; `batch`, so that an append whose batch never committed can be found;
        `conflicts`, the conflicting duplicates that the build of this version resolved.
        """
        spec = TABLES[table]
        self._opened.pop(table, None)
        recorded = ((INPUTS_KEY, inputs), (BATCH_KEY, batch), (CONFLICTS_KEY, conflicts))
        metadata = {k: str(v) for k, v in recorded if v is not None} or None
        try:
            write_deltalake(
                self.uri(table),
                data,
                storage_options=self.storage_options,
                mode=mode,
                partition_by=list(spec.partition_by) or None,
                schema_mode="overwrite" if mode == "overwrite" else "merge",
                commit_properties=CommitProperties(custom_metadata=metadata),
            )
        except (DeltaError, OSError) as err:
            msg = f"cannot write table {table} in lake {self.root}: {_one_line(err)}"
            raise LakeError(msg) from err
        return self.open(table).version()

    def ensure_writable(self) -> None:
        """Create the lake folder (or check the bucket); raise when it cannot be written."""
        try:
            self.store.check_writable()
        except OSError as err:
            msg = f"cannot write to lake {self.root}: {err.strerror or err}"
            raise LakeError(msg) from err

    def require(self, inputs: list[str]) -> None:
        """Raise `LakeError` saying what makes `inputs` when nothing of a lake is there yet
        (no folder, no object under the prefix): before a lock or a key would make one."""
        if self.store.is_empty():
            raise LakeError(self.missing(self.with_manifest(inputs)[0]))

    def register(self, con: duckdb.DuckDBPyConnection, tables: list[str]) -> list[str]:
        """Make `tables` queryable in `con` by their catalog names.

        Landing rows count only once their batch is in `landed_files`, the commit point of
        `stedi land` (rows of a batch that crashed before it stay invisible), and only from
        the latest landed version of their source file (a re-sent file supersedes its rows).
        `landed_files` is registered too where landing needs it. Returns the Parquet files
        that the views read themselves, which a connection without file access must allow.
        """
        files = []
        for table in self.with_manifest(tables):
            if not self.exists(table):
                raise LakeError(self.missing(table))
            scan = self._parquet_scan(table)
            if scan is None:
                con.register(f"delta_{table}", self.open(table).to_pyarrow_dataset())
                source = f"delta_{table}"
            else:
                source, read = scan
                files += read
            query = f"select * from {source}"
            if table in LANDING_READINGS:
                query += " where (_batch_id, _source_file) in (from current_files)"
            elif table == "quarantine":
                query += " where (batch_id, source_file) in (from current_files)"
            con.execute(f"create or replace view {table} as {query}")
            if table == "landed_files":
                current = queries.load("landing/current_files")
                con.execute(f"create or replace view current_files as {current}")
        return files

    def _parquet_scan(self, table: str) -> tuple[str, list[str]] | None:
        """A DuckDB query over the Parquet files of `table`'s current version, in the
        columns of its Delta schema, and those files; None where DuckDB cannot read them.

        DuckDB's own Parquet reader keeps within its memory limit and runs on every core,
        where a scan of a pyarrow dataset does neither. It serves a local lake whose path
        DuckDB reads as written: no glob `*`, no `=` that it would take for a partition.
        A lake on S3 (this DuckDB has no S3 reader) and a table without files are read
        through pyarrow.
        """
        if isinstance(self.store, S3Store) or any(c in str(self.root) for c in "*="):
            return None
        dt = self.open(table)
        files = [unquote(uri) for uri in dt.file_uris()]  # local paths, as URLs spell them
        schema = pa.schema(dt.schema().to_arrow())
        partitions = [schema.field(name) for name in TABLES[table].partition_by]
        if not files or any(p.type not in _DUCKDB_TYPES for p in partitions):
            return None
        hive = ", ".join(f"{p.name}: '{_DUCKDB_TYPES[p.type]}'" for p in partitions)
        hive = f"true, hive_types = {{{hive}}}" if hive else "false"
        listed = ", ".join(_sql_string(f) for f in files)
        columns = ", ".join(f'"{name}"' for name in schema.names)
        scan = f"read_parquet([{listed}], union_by_name = true, hive_partitioning = {hive})"
        return f"(select {columns} from {scan})", files

    def with_manifest(self, tables: list[str]) -> list[str]:
        """`tables`, led by `landed_files` where landing rows need it to be read."""
        if any(_versioned(t) for t in tables):
            return ["landed_files", *(t for t in tables if t != "landed_files")]
        return tables

    def discard_uncommitted(self) -> list[str]:
        """Delete landing rows of batches that never reached `landed_files` (a crashed land).

        Returns the tables cleaned. Call it holding the lock.
        """
        committed = set()
        if self.exists("landed_files"):
            dataset = self.open("landed_files").to_pyarrow_dataset()
            committed = set(dataset.to_table(columns=["batch_id"])["batch_id"].to_pylist())
        cleaned = []
        for table in [*LANDING_READINGS, "quarantine"]:
            if not self.exists(table):
                continue
            dt = self.open(table)
            batches = {c[BATCH_KEY] for c in dt.history() if c.get(BATCH_KEY)} - committed
            column = "batch_id" if table == "quarantine" else "_batch_id"
            for batch in sorted(batches):
                dt.delete(f"{column} = '{batch}'")
                cleaned.append(table)
            self._opened.pop(table, None)
        return cleaned

    def missing(self, table: str) -> str:
        """Why `table` cannot be read: it is not in this lake yet, and what makes it."""
        zone = TABLES[table].zone
        command = {"trusted": "stedi trust", "curated": "stedi curate"}.get(
            zone, "stedi run SOURCE" if table == "runs" else "stedi land SOURCE"
        )
        return f"no {table} table in lake {self.root}: run `{command} --lake {self.root}` first"

    def tables(self) -> list[str]:
        """The catalog names of the tables that exist in this lake, in catalog order."""
        if isinstance(self.store, S3Store):
            self.s3.check_bucket(self.root)  # a missing bucket or refused access, said plainly
        return [name for name in TABLES if self.exists(name)]

    def pseudonym_key(self) -> bytes:
        """The key of the customer_id hash: env STEDI_PSEUDONYM_KEY, else the lake's own.

        The lake's key is made once, on first use, and kept in `_system/pseudonym_key`.
        """
        if os.environ.get(KEY_ENV):
            return os.environ[KEY_ENV].encode()
        where = f"{self.root}/{KEY_FILE}"
        try:
            self.store.create(KEY_FILE, secrets.token_hex(32).encode(), mode=0o600)
            key = self.store.read(KEY_FILE)[0].strip()
        except OSError as err:
            msg = f"cannot write the lake's pseudonym key {where}: {err.strerror or err}"
            raise LakeError(msg) from err
        if len(key) < MIN_KEY_BYTES:  # a short key makes pseudonyms easy to reverse
            msg = (
                f"the lake's pseudonym key {where} is damaged ({len(key)} bytes):"
                " restore it from a backup (a new key would change every customer_id)"
            )
            raise LakeError(msg)
        return key


# The partition columns' Delta types, as DuckDB names them.
_DUCKDB_TYPES = {pa.date32(): "DATE", pa.string(): "VARCHAR", pa.large_string(): "VARCHAR"}


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _versioned(table: str) -> bool:
    """Landing and quarantine rows count only from committed, current file versions."""
    return table in LANDING_READINGS or table == "quarantine"


def _acquire(store, where: str) -> bytes:
    """Take the lock, or take over a stale one; returns the lock's content, which is ours."""
    holder = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    ours = json.dumps(holder).encode()
    for _attempt in range(2):
        if store.create(LOCK, ours):
            return ours
        found = store.read(LOCK)
        if found is None:
            continue  # released meanwhile
        current = _parse_holder(found[0])
        if _is_stale(current) and store.replace(LOCK, ours, found[1]):
            return ours
        holder = (
            f"host {current.get('host')}, pid {current.get('pid')},"
            f" started {current.get('started')}"
            if current
            else "its lock file is not stedi's"
        )
        msg = (
            f"the lake is locked by another run ({holder});"
            f" try again when it ends, or delete {where} if that run is gone"
        )
        raise LakeLocked(msg)
    msg = f"the lake's lock {where} keeps changing hands; try again"
    raise LakeLocked(msg)


def _release(store, ours: bytes) -> None:
    """Remove the lock if it is still ours."""
    found = store.read(LOCK)
    if found is not None and found[0] == ours:
        store.delete(LOCK, found[1])


def _parse_holder(content: bytes) -> dict:
    try:
        holder = json.loads(content)
    except ValueError:
        return {}
    return holder if isinstance(holder, dict) else {}


def _is_stale(holder: dict) -> bool:
    """A lock of this host whose process no longer runs."""
    if holder.get("host") != socket.gethostname() or not isinstance(holder.get("pid"), int):
        return False
    try:
        os.kill(holder["pid"], 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(holder["pid"])


def _is_zombie(pid: int) -> bool:
    """A process that has ended but that its parent has not reaped yet (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _one_line(err: Exception) -> str:
    """delta-rs's multi-line, coloured error chain as one line; an S3 error by its code."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(err)).replace("\u21b3", "")
    code = re.search(r"<Code>(\w+)</Code>", text)
    if code:
        text = text[: text.find("<")].rstrip(" -") + f" (S3 error {code[1]})"
    return " ".join(text.split())
