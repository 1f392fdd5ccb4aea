from pathlib import Path

from stedi.generator import generate
from stedi.lake import Lake
from stedi.pipeline import run

SAMPLE_DATA = Path(__file__).parents[1] / "sample_data"


def contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.json"))}


def test_the_same_seed_writes_the_same_files_and_another_seed_does_not(tmp_path):
    generate(tmp_path / "a", customers=40, seed=3)
    generate(tmp_path / "b", customers=40, seed=3)
    generate(tmp_path / "c", customers=40, seed=4)

    assert contents(tmp_path / "a") == contents(tmp_path / "b")
    assert contents(tmp_path / "a") != contents(tmp_path / "c")


def test_sample_data_is_what_the_generator_writes_for_seed_7(tmp_path):
    generate(tmp_path, seed=7)

    assert contents(tmp_path) == contents(SAMPLE_DATA)


def test_generated_data_has_the_real_feeds_shape(tmp_path):
    result = generate(tmp_path, customers=200, seed=1, defect_rate=0.0)

    assert result.defects == 0
    assert result.lines["step_trainer"] == 200 * 30
    assert 80 * 200 <= result.lines["accelerometer"] <= 90 * 200
    assert result.files[:2] == [
        "customer/landing/customer-0001.json",
        "accelerometer/landing/accelerometer-0001.json",
    ]


def test_every_defect_is_quarantined_and_every_other_line_lands(tmp_path):
    result = generate(tmp_path / "src", customers=100, seed=5, defect_rate=0.01)
    lake = Lake(tmp_path / "lake")

    landed = run(tmp_path / "src", lake)

    assert result.defects > 0
    assert sum(d.quarantined for d in landed.land.datasets) == result.defects
    assert (
        sum(d.landed for d in landed.land.datasets) == sum(result.lines.values()) - result.defects
    )


def test_sample_data_run_gives_its_known_counts(tmp_path):
    result = run(SAMPLE_DATA, Lake(tmp_path / "lake"))

    tables = [*result.land.tables, *result.trusted.tables, *result.curated.tables]
    assert {t.table: t.rows for t in tables} == {
        "customer_landing": 226,
        "accelerometer_landing": 17992,
        "step_trainer_landing": 5996,
        "quarantine": 24,
        "customer_trusted": 104,
        "accelerometer_trusted": 8959,
        "step_trainer_trusted": 3118,
        "customer_curated": 104,
        "machine_learning_curated": 8955,
    }
