"""The lake's catalog and read-only SQL over its tables, for `stedi inspect`."""

import re

import duckdb
import pyarrow as pa

from stedi import queries
from stedi.errors import LakeError, QueryError
from stedi.lake import TABLES, Lake, TableInfo

READ_ONLY_STATEMENTS = {duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN}


def catalog(lake: Lake) -> list[TableInfo]:
    """Every table in the lake: zone, rows, Delta version and when it was last written."""
    tables = lake.tables()
    if not tables:
        msg = f"no tables in lake {lake.root}: run `stedi run SOURCE --lake {lake.root}` first"
        raise LakeError(msg)
    return lake.infos(tables)


def query(lake: Lake, sql: str) -> pa.Table:
    """Answer one read-only SQL statement over every table of the lake, by catalog name.

    Raises `QueryError` for a statement that could write (anything but SELECT, EXPLAIN or
    their kin such as DESCRIBE) or that DuckDB rejects; the query cannot touch files.
    """
    con = queries.connect()
    files = lake.register(con, lake.tables())
    con.execute("set allowed_paths = ?", [files])  # the lake's data files, nothing else
    con.execute("set enable_external_access = false")
    con.execute("set lock_configuration = true")
    try:
        statements = con.extract_statements(sql)
        if len(statements) != 1:
            msg = f"give one SQL statement, not {len(statements)}"
            raise QueryError(msg)
        if statements[0].type not in READ_ONLY_STATEMENTS:
            msg = f"stedi inspect is read-only: {statements[0].type.name} statements are refused"
            raise QueryError(msg)
        return con.sql(sql).to_arrow_table()
    except duckdb.CatalogException as err:
        missing = re.search(r"Table with name (\w+) does not exist", str(err))
        if missing and missing[1] in TABLES:
            raise LakeError(lake.missing(missing[1])) from err
        raise QueryError(" ".join(str(err).split())) from err
    except duckdb.Error as err:
        raise QueryError(" ".join(str(err).split())) from err
