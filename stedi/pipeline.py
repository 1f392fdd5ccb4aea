"""The main job: land, then trust, then curate."""

from collections.abc import Callable
from dataclasses import dataclass

from stedi.curate import curate
from stedi.lake import Lake
from stedi.land import LandResult, land
from stedi.trust import trust
from stedi.zone import ZoneResult


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
    """Land new files from `source_root`, then rebuild trusted and curated where inputs changed."""
    with lake.locked():
        landed = land(source_root, lake, progress=progress)
        trusted = trust(lake, consent=consent, progress=progress)
        curated = curate(lake, consent=consent, ml_join=ml_join, progress=progress)
    return RunResult(landed, trusted, curated)
