"""The SQL files shipped in `sql/` and the DuckDB connection they run on."""

import os
import tempfile
from importlib import resources

import duckdb

SQL_PACKAGE = "stedi.sql"
MEMORY_ENV = "STEDI_MEMORY_LIMIT"
DEFAULT_MEMORY_LIMIT = "1GB"


def load(name: str) -> str:
    """Return the text of `sql/<name>.sql`, e.g. `load("trusted/customer_trusted")`."""
    return resources.files(SQL_PACKAGE).joinpath(f"{name}.sql").read_text(encoding="utf-8")


def names(folder: str) -> list[str]:
    """Every SQL file in `sql/<folder>/`, as names `load` takes, sorted."""
    files = resources.files(SQL_PACKAGE).joinpath(folder).iterdir()
    return sorted(f"{folder}/{f.name[:-4]}" for f in files if f.name.endswith(".sql"))


def connect(*, variables: dict[str, object] | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB that works in UTC and knows stedi's macros.

    It holds at most `STEDI_MEMORY_LIMIT` (default 1 GB) in memory and spills the rest,
    tables included, to a temp folder: memory stays bounded whatever the data's size.
    `variables` become SQL variables, read in `sql/` with `getvariable('name')`.
    """
    con = duckdb.connect(":memory:")
    con.execute("set TimeZone = 'UTC'")
    con.execute("set enable_progress_bar = false")  # stdout is for results, stderr for logs
    con.execute("set memory_limit = ?", [os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_LIMIT)])
    con.execute("set temp_directory = ?", [tempfile.gettempdir() + "/stedi-duckdb"])
    con.execute(load("macros"))
    for name, value in (variables or {}).items():
        con.execute(f"set variable {name} = ?", [value])
    return con


def leave_room_for_writes(con: duckdb.DuckDBPyConnection) -> None:
    """Halve `con`'s memory limit for the rest of its work, which streams tables into Delta.

    Delta's writer buffers the files it writes outside DuckDB (hundreds of MB for a table
    of millions of rows); with DuckDB's share halved, spilling what it no longer needs, the
    two stay within about the one limit.
    """
    [(limit,)] = con.sql("select current_setting('memory_limit')").fetchall()
    amount, unit = limit.split()
    con.execute("set memory_limit = ?", [f"{float(amount) / 2:.1f}{unit}"])
