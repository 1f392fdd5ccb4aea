"""Quality checks: SQL files in `sql/checks/<stage>/` that return offending rows.

A check passes when its query returns no rows, the way dbt tests work.
"""

from dataclasses import dataclass

import duckdb

from stedi import queries
from stedi.errors import QualityCheckFailed

SAMPLE_ROWS = 3
# Who may be in trusted and curated, worked out apart from the models; the consent checks use it.
SHARED_VIEW = "checks/consenting_customers"


@dataclass(frozen=True)
class CheckResult:
    name: str
    count: int
    sample: list[dict]

    @property
    def passed(self) -> bool:
        return self.count == 0


def run(con: duckdb.DuckDBPyConnection, stage: str) -> list[CheckResult]:
    """Run every check of `stage` (a zone: landing, trusted, curated) over the tables `con` sees."""
    con.execute(f"create or replace view consenting_customers as {queries.load(SHARED_VIEW)}")
    results = []
    for name in queries.names(f"checks/{stage}"):
        relation = con.sql(queries.load(name))
        [(count,)] = relation.count("*").fetchall()
        sample = relation.limit(SAMPLE_ROWS).to_arrow_table().to_pylist() if count else []
        results.append(CheckResult(name.removeprefix("checks/"), count, sample))
    return results


def enforce(results: list[CheckResult]) -> None:
    """Raise `QualityCheckFailed` naming every failed check, if any failed."""
    failures = [r for r in results if not r.passed]
    if failures:
        raise QualityCheckFailed(failures)
