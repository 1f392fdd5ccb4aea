import gzip
from pathlib import Path

from stedi import catalog, generator
from stedi.generator import generate
from stedi.lake import Lake
from stedi.pipeline import run

SAMPLE_DATA = Path(__file__).parents[1] / "sample_data"


def queries_over(lake: Lake, sql: str) -> list[tuple]:
    return [tuple(row.values()) for row in catalog.query(lake, sql).to_pylist()]


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

    assert result.quarantined == 0
    assert result.lines == result.records
    assert result.records["step_trainer"] == 200 * 30
    assert 80 * 200 <= result.records["accelerometer"] <= 90 * 200
    assert result.files == [
        "customer/landing/customer-0001.json",
        "accelerometer/landing/accelerometer-0001.json",
        "step_trainer/landing/step_trainer-0001.json",
    ]


def test_every_defect_is_quarantined_or_recovered_as_the_generator_counted(tmp_path):
    result = generate(tmp_path / "src", customers=100, seed=5, defect_rate=0.05)
    lake = Lake(tmp_path / "lake")

    landed = run(tmp_path / "src", lake)

    assert result.quarantined == 397
    assert result.lines == {"customer": 115, "accelerometer": 9046, "step_trainer": 3026}
    # Lines of two records back to back hold more records than lines.
    assert result.records == {"customer": 117, "accelerometer": 9097, "step_trainer": 3040}
    assert sum(d.quarantined for d in landed.land.datasets) == result.quarantined
    assert {d.dataset: d.landed + d.quarantined for d in landed.land.datasets} == result.records
    [(with_extra_fields,)] = queries_over(
        lake, "select count(*) from accelerometer_landing where _extra_fields is not null"
    )
    assert with_extra_fields == 36


def test_customers_are_written_in_parts_with_unique_emails(tmp_path, monkeypatch):
    monkeypatch.setattr(generator, "CUSTOMERS_PER_PART", 30)

    result = generate(tmp_path, customers=100, seed=2, defect_rate=0.0)

    assert len(result.files) == 12
    assert result.files[-1] == "step_trainer/landing/step_trainer-0004.json"
    assert result.records["step_trainer"] == 100 * 30
    lake = Lake(tmp_path / "lake")
    run(tmp_path, lake)
    assert queries_over(
        lake, "select count(distinct normal_email(email)) from customer_landing"
    ) == [(100,)]


def test_gzip_writes_the_same_content_compressed(tmp_path):
    generate(tmp_path / "plain", customers=20, seed=4)
    result = generate(tmp_path / "gz", customers=20, seed=4, compress=True)

    assert [name.endswith(".json.gz") for name in result.files] == [True] * 3
    for name in result.files:
        plain = (tmp_path / "plain" / name.removesuffix(".gz")).read_bytes()
        assert gzip.decompress((tmp_path / "gz" / name).read_bytes()) == plain


def test_sample_data_run_gives_its_known_counts(tmp_path):
    result = run(SAMPLE_DATA, Lake(tmp_path / "lake"))

    tables = [*result.land.tables, *result.trusted.tables, *result.curated.tables]
    assert {t.table: t.rows for t in tables} == {
        "customer_landing": 234,
        "accelerometer_landing": 17993,
        "step_trainer_landing": 5997,
        "quarantine": 14,
        "customer_trusted": 97,
        "accelerometer_trusted": 8390,
        "step_trainer_trusted": 2908,
        "customer_curated": 97,
        "machine_learning_curated": 8384,
    }
