"""The main job: land, then trust, then curate, each run recorded in `_system/runs`."""

import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from stedi import source
from stedi.curate import curate
from stedi.errors import QualityCheckFailed, StediError
from stedi.lake import Lake
from stedi.land import LandResult, land_found
from stedi.trust import trust
from stedi.zone import ZoneResult

RUNS_SCHEMA = pa.schema(
    [
        ("run_id", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("ended_at", pa.timestamp("us", tz="UTC")),
        ("status", pa.string()),
        ("options", pa.string()),
        ("batch_id", pa.string()),
        ("rows", pa.string()),
        ("quarantined", pa.int64()),
        ("conflicts", pa.string()),
        ("checks", pa.string()),
        ("error", pa.string()),
    ]
)


@dataclass(frozen=True)
class RunResult:
    land: LandResult
    trusted: ZoneResult
    curated: ZoneResult

    @property
    def warnings(self) -> list[str]:
        return [*self.trusted.warnings, *self.curated.warnings]


def run(
    source_root,
    lake: Lake,
    *,
    consent: str = "customer",
    ml_join: str = "customer",
    progress: Callable[[str], None] | None = None,
) -> RunResult:
    """Land new files from `source_root`, then rebuild trusted and curated where inputs changed.

    Every run that gets the lake's lock appends a row to `_system/runs` (query it as `runs`
    with `stedi inspect`): its times, status, rows per table, quarantined records,
    conflicting duplicates resolved and checks.
    """
    started = datetime.now(UTC)
    options = {"source": str(source_root), "consent": consent, "ml_join": ml_join}
    found = source.discover(source_root, lake.s3)  # a source that is not there touches no lake
    with lake.locked():
        try:
            landed = land_found(found, lake, progress=progress)
            trusted = trust(lake, consent=consent, progress=progress)
            curated = curate(lake, consent=consent, ml_join=ml_join, progress=progress)
        except StediError as err:
            # The lake may be out of reach: the first error is the one to report.
            with contextlib.suppress(StediError):
                _record(lake, started, options, status=_status(err), error=str(err))
            raise
        result = RunResult(landed, trusted, curated)
        _record(lake, started, options, status="succeeded", result=result)
    return result


def _status(err: StediError) -> str:
    return "quality_check_failed" if isinstance(err, QualityCheckFailed) else "failed"


def _record(lake: Lake, started, options, *, status, result=None, error=None) -> None:
    tables = [*result.land.tables, *result.trusted.tables, *result.curated.tables] if result else []
    checks = [*result.land.checks, *result.trusted.checks, *result.curated.checks] if result else []
    row = {
        "run_id": uuid.uuid4().hex,
        "started_at": started,
        "ended_at": datetime.now(UTC),
        "status": status,
        "options": json.dumps(options),
        "batch_id": result.land.batch_id if result else None,
        "rows": json.dumps({t.table: t.rows for t in tables}),
        "quarantined": sum(d.quarantined for d in result.land.datasets) if result else None,
        "conflicts": json.dumps(
            {t.table: t.conflicts for t in tables if t.conflicts and t.published}
        ),
        "checks": json.dumps({c.name: c.count for c in checks}),
        "error": error,
    }
    lake.write("runs", pa.Table.from_pylist([row], schema=RUNS_SCHEMA), mode="append")
