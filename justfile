# Everyday recipes for stedi. `just --list` shows them.

# Run the main job on sample_data/ into ./lake
run *args:
    stedi run {{args}}

# Run the whole test suite
test *args:
    pytest {{args}}

# Lint Python with ruff and SQL with sqlfluff (DuckDB dialect)
lint:
    ruff check stedi tests
    sqlfluff lint sql --dialect duckdb

# Rewrite sample_data/ with the project's own generator
sample:
    rm -rf sample_data
    stedi generate sample_data --seed 7

# Time `stedi run` on the real course data (first run and rerun; median of 3, peak RSS)
bench-real:
    python benchmarks/real_data.py
