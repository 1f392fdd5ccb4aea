"""The row counts of DESIGN.md on the real course data, in every policy and join mode."""

import pytest
from typer.testing import CliRunner

from stedi.cli import app
from stedi.lake import Lake
from stedi.pipeline import run

LANDING = {
    "customer_landing": 956,
    "accelerometer_landing": 81273,
    "step_trainer_landing": 28680,
    "quarantine": 0,
}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (
            {},
            {
                "customer_trusted": 482,
                "accelerometer_trusted": 40981,
                "step_trainer_trusted": 14460,
                "customer_curated": 482,
                "machine_learning_curated": 40981,
            },
        ),
        (
            {"consent": "since-consent"},
            {
                "customer_trusted": 482,
                "accelerometer_trusted": 32025,
                "step_trainer_trusted": 11297,
                "customer_curated": 464,
                "machine_learning_curated": 32025,
            },
        ),
        (
            {"ml_join": "timestamp"},
            {
                "customer_trusted": 482,
                "accelerometer_trusted": 40981,
                "step_trainer_trusted": 14460,
                "customer_curated": 482,
                "machine_learning_curated": 43681,
            },
        ),
    ],
)
def test_real_data_row_counts(tmp_path, real_data, options, expected):
    result = run(real_data, Lake(tmp_path / "lake"), **options)

    tables = [*result.land.tables, *result.trusted.tables, *result.curated.tables]
    assert {t.table: t.rows for t in tables} == LANDING | expected
    assert [(d.dataset, d.files, d.quarantined) for d in result.land.datasets] == [
        ("customer", 1, 0),
        ("accelerometer", 9, 0),
        ("step_trainer", 3, 0),
    ]


def test_a_second_run_lands_nothing_and_changes_no_table(tmp_path, real_data):
    lake = Lake(tmp_path / "lake")
    first = run(real_data, lake)
    before = {
        t: lake.open(t)
        .to_pyarrow_dataset()
        .to_table()
        .sort_by(
            [
                (c, "ascending")
                for c in lake.open(t).to_pyarrow_dataset().schema.names
                if c not in {"serial_numbers", "_ingested_at"}
            ]
        )
        for t in lake.tables()
        if t != "runs"  # the run history grows by one row a run
    }

    second = run(real_data, lake)

    assert second.land.batch_id is None
    assert (second.trusted.skipped, second.curated.skipped) == (True, True)
    assert [t.version for t in second.curated.tables] == [t.version for t in first.curated.tables]
    for table, data in before.items():
        assert (
            lake.open(table)
            .to_pyarrow_dataset()
            .to_table()
            .sort_by(
                [
                    (c, "ascending")
                    for c in data.schema.names
                    if c not in {"serial_numbers", "_ingested_at"}
                ]
            )
            .equals(data)
        ), table


def test_cli_run_then_inspect_answers_the_ml_count(tmp_path, real_data):
    runner = CliRunner()
    lake = str(tmp_path / "lake")

    ran = runner.invoke(app, ["run", str(real_data), "--lake", lake])
    inspected = runner.invoke(
        app,
        [
            "inspect",
            "--lake",
            lake,
            "--format",
            "csv",
            "select count(*) as n from machine_learning_curated",
        ],
    )

    assert ran.exit_code == 0, ran.output
    [ml_line] = [line for line in ran.output.splitlines() if "machine_learning_curated" in line]
    assert ml_line.split() == ["curated", "machine_learning_curated", "40,981", "0", "published"]
    assert inspected.exit_code == 0, inspected.output
    assert inspected.output == "n\n40981\n"
