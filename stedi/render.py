"""Everything stedi shows: progress and warnings on stderr, results on stdout.

With `log_format="json"` every event is one JSON object on a line of stderr, for cron and
log shippers; `quiet` shows nothing but errors, in either format.
"""

import csv
import json
import math
import sys
from contextlib import contextmanager
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from stedi.errors import StediError
from stedi.lake import TableInfo
from stedi.zone import TableResult

PIPE_WIDTH = 1000


class Reporter:
    def __init__(self, *, quiet: bool = False, log_format: str = "text"):
        self.quiet = quiet
        self.json = log_format == "json"
        # Output to a file or pipe is for logs: no line is wrapped and no table cell cut.
        self.err = Console(stderr=True, width=None if sys.stderr.isatty() else PIPE_WIDTH)
        self.out = Console(width=None if sys.stdout.isatty() else PIPE_WIDTH)
        self._status = None

    @contextmanager
    def working(self, message: str):
        """Show a spinner while a command works; `progress` updates its message."""
        if self.quiet or self.json or not self.err.is_terminal:
            yield
            return
        with self.err.status(message) as status:
            self._status = status
            yield
        self._status = None

    def progress(self, message: str) -> None:
        if self.quiet:
            return
        if self.json:
            self._event("progress", message=message)
        elif self._status is not None:
            self._status.update(message)

    def warn(self, message: str) -> None:
        if self.quiet:
            return
        if self.json:
            self._event("warning", message=message)
        else:
            self.err.print(Text.assemble(("warning:", "yellow"), " ", message), soft_wrap=True)

    def error(self, message: str, exit_code: int) -> None:
        if self.json:
            self._event("error", message=message, exit_code=exit_code)
        else:
            self.err.print(Text.assemble(("error:", "red"), " ", message), soft_wrap=True)

    def summary(self, tables: list[TableResult], notes: list[str]) -> None:
        """The tables a command touched: zone, table, rows, quarantined, version, status."""
        if self.quiet:
            return
        if self.json:
            self._event("summary", tables=[_table_event(t) for t in tables], notes=notes)
            return
        table = _table("zone", "table", "rows", "quarantined", "version", "status")
        for t in tables:
            quarantined = f"{t.quarantined:,}" if _counts_quarantine(t) else ""
            status = "published" if t.published else "unchanged"
            table.add_row(t.zone, Text(t.table), f"{t.rows:,}", quarantined, str(t.version), status)
        with _writing():
            self.out.print(table)
            for note in notes:
                self.out.print(Text(note), soft_wrap=True)

    def line(self, text: str) -> None:
        """One line of a command's result on stdout."""
        with _writing():
            self.out.print(Text(text), soft_wrap=True)

    def catalog(self, tables: list[TableInfo]) -> None:
        table = _table("table", "zone", "rows", "version", "updated")
        for t in tables:
            updated = f"{t.updated:%Y-%m-%dT%H:%M:%SZ}"
            table.add_row(Text(t.table), t.zone, f"{t.rows:,}", str(t.version), updated)
        with _writing():
            self.out.print(table)

    def result(self, data: pa.Table, fmt: str) -> None:
        """A query result on stdout as a table, CSV or JSON."""
        with _writing():
            self._result(data, fmt)

    def _result(self, data: pa.Table, fmt: str) -> None:
        rows = _plain(data).to_pylist()
        if fmt == "csv":
            writer = csv.writer(sys.stdout, lineterminator="\n")
            writer.writerow(data.column_names)
            writer.writerows([_cell(row[c]) for c in data.column_names] for row in rows)
        elif fmt == "json":
            finite = _finite(rows)
            sys.stdout.write(json.dumps(finite, default=str, indent=2, allow_nan=False) + "\n")
        else:
            table = _table(*data.column_names)
            for row in rows:
                table.add_row(*(Text("NULL" if v is None else _cell(v)) for v in row.values()))
            self.out.print(table)

    def _event(self, event: str, **fields) -> None:
        record = {"time": datetime.now(UTC).isoformat(), "event": event, **fields}
        sys.stderr.write(json.dumps(record, default=str) + "\n")


@contextmanager
def _writing():
    """Output that cannot be written (a full disk) is one error; a closed pipe goes on up."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as err:
        msg = f"cannot write the output: {err.strerror or err}"
        raise StediError(msg) from err


def _table(*columns: str) -> Table:
    table = Table(*columns, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for column in table.columns:
        column.no_wrap = True
    return table


def _counts_quarantine(table: TableResult) -> bool:
    """The summary's quarantined column is for the three landing tables."""
    return table.zone == "landing" and table.table != "quarantine"


def _table_event(table: TableResult) -> dict:
    fields = dict(table.__dict__)
    fields["quarantined"] = table.quarantined if _counts_quarantine(table) else None
    return fields


def _cell(value) -> str:
    """A value as text: lists and structs as JSON, times in ISO 8601."""
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    if isinstance(value, datetime):
        return value.isoformat()
    return "" if value is None else str(value)


def _plain(data: pa.Table) -> pa.Table:
    """Values Python can hold: times as text.

    Python's datetime cannot hold DuckDB's infinite or year-0 dates, so Arrow writes them.
    """
    columns = []
    for column in data.columns:
        if pa.types.is_temporal(column.type) or pa.types.is_interval(column.type):
            column = _as_text(column)
        columns.append(column)
    return pa.table(columns, names=data.column_names)


def _finite(value):
    """`value` with NaN and infinities, which JSON cannot hold, as null, at any depth."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _as_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_interval(column.type):
        return pa.chunked_array([pa.array([_interval(v) for v in column.to_pylist()], pa.string())])
    try:
        return pc.cast(column, pa.string())
    except pa.ArrowNotImplementedError:
        return pa.chunked_array(
            [pa.array([None if v is None else str(v) for v in column.to_pylist()])]
        )


def _interval(value) -> str | None:
    """An interval as DuckDB writes it: `1 month 2 days 03:04:05.5`, `00:00:00.439138`."""
    if value is None:
        return None
    months, days, nanoseconds = value
    seconds, fraction = divmod(abs(nanoseconds), 1_000_000_000)
    clock = f"{'-' if nanoseconds < 0 else ''}{seconds // 3600:02d}:{seconds // 60 % 60:02d}"
    clock += f":{seconds % 60:02d}" + (f".{fraction // 1000:06d}".rstrip("0") if fraction else "")
    parts = [
        f"{n} {unit}{'s' if abs(n) != 1 else ''}"
        for n, unit in ((months, "month"), (days, "day"))
        if n
    ]
    return " ".join([*parts, clock])
