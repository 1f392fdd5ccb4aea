"""The floor: the zone logic of `stedi run` as plain DuckDB SQL over the JSON, writing Parquet.

Usage: python benchmarks/floor.py SOURCE OUT
No validation, quarantine, checks, lineage, Delta or history: what any engine must at
least do to turn these feeds into these tables. Prints the row count of each table.
"""

import sys
from pathlib import Path

import duckdb

ZONES = Path(__file__).with_name("zones.sql")
TABLES = [
    "customer_landing",
    "accelerometer_landing",
    "step_trainer_landing",
    "customer_trusted",
    "accelerometer_trusted",
    "step_trainer_trusted",
    "customer_curated",
    "machine_learning_curated",
]
COLUMNS = {
    "customer": {
        "customerName": "VARCHAR",
        "email": "VARCHAR",
        "phone": "VARCHAR",
        "birthDay": "VARCHAR",
        "serialNumber": "VARCHAR",
        "registrationDate": "BIGINT",
        "lastUpdateDate": "BIGINT",
        "shareWithResearchAsOfDate": "BIGINT",
        "shareWithPublicAsOfDate": "BIGINT",
        "shareWithFriendsAsOfDate": "BIGINT",
    },
    "accelerometer": {
        "user": "VARCHAR",
        "timestamp": "BIGINT",
        "x": "DOUBLE",
        "y": "DOUBLE",
        "z": "DOUBLE",
    },
    "step_trainer": {
        "sensorReadingTime": "BIGINT",
        "serialNumber": "VARCHAR",
        "distanceFromObject": "BIGINT",
    },
}


def main(source: str, out: str) -> None:
    con = duckdb.connect()
    Path(out).mkdir(parents=True, exist_ok=True)
    for dataset, columns in COLUMNS.items():
        spec = "{" + ", ".join(f"'{k}': '{v}'" for k, v in columns.items()) + "}"
        con.execute(
            f"create view {dataset} as select * from read_json("
            f"'{source}/{dataset}/**/*.json*', columns = {spec},"
            " format = 'newline_delimited', ignore_errors = true)"
        )
    for statement in ZONES.read_text().split(";"):
        if statement.strip():
            con.execute(statement)
    for table in TABLES:
        con.execute(f"copy {table} to '{out}/{table}.parquet' (format parquet)")
        [(rows,)] = con.sql(f"select count(*) from '{out}/{table}.parquet'").fetchall()
        print(f"{table}\t{rows}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
