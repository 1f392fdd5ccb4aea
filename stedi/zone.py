"""Building a zone by write-audit-publish: stage every table, check, then publish.

Trusted and curated tables are recomputed from their inputs on every build and replaced
whole. A build whose inputs (input table versions, options, SQL) are those of the published
tables is skipped.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from stedi import checks, queries
from stedi.checks import CheckResult
from stedi.lake import Lake

ARROW_BATCH_ROWS = 256 * 1024


@dataclass(frozen=True)
class TableResult:
    """One table after a build: its rows and version, and whether this build published it."""

    table: str
    zone: str
    rows: int
    version: int
    published: bool
    quarantined: int = 0
    conflicts: int = 0


@dataclass(frozen=True)
class ZoneResult:
    """A zone after a build; `skipped` when its inputs had not changed since the last one."""

    zone: str
    tables: list[TableResult]
    checks: list[CheckResult]
    skipped: bool
    warnings: list[str] = field(default_factory=list)

    def with_warning(self, warning: str) -> "ZoneResult":
        return replace(self, warnings=[*self.warnings, warning])


def build(
    lake: Lake,
    *,
    zone: str,
    inputs: list[str],
    outputs: list[str],
    variables: dict[str, object],
    conflicts: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> ZoneResult:
    """Build `outputs` (in order, from `sql/<zone>/<table>.sql`) over the `inputs` tables.

    Each output is staged in DuckDB, where later outputs see it by its catalog name; the
    checks of the zone then run over the staged tables, and only if all pass is each
    output replaced in the lake. Raises `QualityCheckFailed` with the lake unchanged.
    `conflicts` names the query (`sql/reports/`) that counts, per output, the conflicting
    duplicates the build resolved; each count is kept with the table's version.
    """
    lake.require(inputs)
    with lake.locked():
        return _build(
            lake, zone, inputs, outputs, variables, conflicts, progress or (lambda _m: None)
        )


def _build(lake, zone, inputs, outputs, variables, conflicts, report) -> ZoneResult:
    fingerprint = _fingerprint(
        lake, zone, lake.with_manifest(inputs), outputs, variables, conflicts
    )
    if all(lake.inputs(table) == fingerprint for table in outputs):
        return ZoneResult(zone, _published(lake, outputs, published=False), [], True)
    con = queries.connect(variables=variables)
    lake.register(con, inputs)
    con.execute("create schema staged")
    for table in outputs:
        report(f"staging {table}")
        con.execute(f"create table staged.{table} as {queries.load(f'{zone}/{table}')}")
        con.execute(f"create or replace view {table} as select * from staged.{table}")
    report(f"checking the {zone} zone")
    results = checks.run(con, zone)
    checks.enforce(results)
    counts = dict(con.sql(queries.load(conflicts)).fetchall()) if conflicts else {}
    queries.leave_room_for_writes(con)
    for table in outputs:
        report(f"publishing {table}")
        reader = con.table(f"staged.{table}").to_arrow_reader(ARROW_BATCH_ROWS)
        lake.write(table, reader, mode="overwrite", inputs=fingerprint, conflicts=counts.get(table))
    return ZoneResult(zone, _published(lake, outputs, published=True), results, False)


def _published(lake: Lake, tables: list[str], *, published: bool) -> list[TableResult]:
    return [
        TableResult(i.table, i.zone, i.rows, i.version, published, conflicts=i.conflicts)
        for i in lake.infos(tables)
    ]


def _fingerprint(
    lake: Lake,
    zone: str,
    inputs: list[str],
    outputs: list[str],
    variables: dict[str, object],
    conflicts: str | None,
) -> str:
    """A digest of everything a build reads: input versions, variables and SQL text."""
    parts = {
        "inputs": {table: lake.version(table) for table in inputs},
        "variables": {
            k: hashlib.sha256(repr(v).encode()).hexdigest() for k, v in variables.items()
        },
        "sql": [queries.load(f"{zone}/{table}") for table in outputs],
        "checks": [queries.load(name) for name in queries.names(f"checks/{zone}")]
        + [queries.load(checks.SHARED_VIEW)],
        "conflicts": queries.load(conflicts) if conflicts else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()
