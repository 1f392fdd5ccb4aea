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

# stedi, the bare-DuckDB floor and PySpark on real and x1/x10/x100 data into benchmarks/results.md
bench:
    python benchmarks/bench.py --scales real 1 10 100

# stedi at x1000 (120 million readings, 12 GB of JSON in benchmarks/.data; the floor's spill fills disks)
bench-big:
    python benchmarks/bench.py --scales 1000 --repeat 1 --no-spark --no-floor --results benchmarks/results-big.md

# stedi and the floor on the real course data only, printed
bench-real:
    python benchmarks/bench.py --scales real --no-spark --results -
