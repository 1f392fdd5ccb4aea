"""Every SQL file documents its grain and key, and every model's key holds on real output."""

import re
from importlib import resources
from pathlib import Path

import pytest

from stedi import queries
from stedi.lake import TABLES, Lake
from stedi.pipeline import run

SQL_ROOT = Path(str(resources.files("stedi.sql")))
SQL_FILES = sorted(
    p.relative_to(SQL_ROOT).with_suffix("").as_posix()
    for p in SQL_ROOT.rglob("*.sql")
    if p.name != "macros.sql"
)
MODELS = [name for name in SQL_FILES if name.split("/")[-1] in TABLES]
SAMPLE_DATA = Path(__file__).parents[1] / "sample_data"


def header(name: str) -> dict[str, str]:
    lines = queries.load(name).splitlines()
    fields = {}
    for line in lines:
        if not line.startswith("--"):
            break
        if match := re.match(r"-- (grain|key): (.+)", line):
            fields[match[1]] = match[2]
    return fields


@pytest.mark.parametrize("name", SQL_FILES)
def test_every_sql_file_starts_with_its_grain_and_key(name):
    assert queries.load(name).startswith(f"-- {name.split('/')[-1]}: ")
    assert set(header(name)) == {"grain", "key"}


@pytest.fixture(scope="module")
def sample_lake(tmp_path_factory):
    lake = Lake(tmp_path_factory.mktemp("sample") / "lake")
    run(SAMPLE_DATA, lake)
    return lake


@pytest.mark.parametrize("name", MODELS)
def test_every_model_key_is_unique_and_not_null(sample_lake, name):
    table = name.split("/")[-1]
    key = header(name)["key"].split(" (")[0]
    con = queries.connect()
    sample_lake.register(con, [table])

    duplicates = con.sql(
        f"select {key}, count(*) from {table} group by all"
        f" having count(*) > 1 or {' or '.join(f'{c.strip()} is null' for c in key.split(','))}"
    ).fetchall()
    [(total,)] = con.sql(f"select count(*) from {table}").fetchall()

    assert duplicates == []
    assert total > 0
