"""The Spark reference: the floor's SQL (zones.sql) in PySpark local mode, writing Parquet.

Usage: python benchmarks/spark_reference.py SOURCE OUT
PySpark is the engine AWS Glue runs; install it with `pip install -e '.[bench]'` (it needs
Java 17 or later). Prints the row count of each table.
"""

import sys

from floor import COLUMNS, TABLES, ZONES
from pyspark.sql import SparkSession

SPARK_TYPES = {"VARCHAR": "string", "BIGINT": "bigint", "DOUBLE": "double"}


def main(source: str, out: str) -> None:
    spark = (
        SparkSession.builder.master("local[*]")
        .appName("stedi-benchmark")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for dataset, columns in COLUMNS.items():
        schema = ", ".join(f"`{k}` {SPARK_TYPES[v]}" for k, v in columns.items())
        frame = (
            spark.read.schema(schema)
            .option("recursiveFileLookup", "true")
            .option("mode", "PERMISSIVE")
            .json(f"{source}/{dataset}")
        )
        frame.createOrReplaceTempView(dataset)
    for statement in ZONES.read_text().split(";"):
        if statement.strip():
            spark.sql(statement)
    for table in TABLES:
        spark.table(table).write.mode("overwrite").parquet(f"{out}/{table}")
        print(f"{table}\t{spark.read.parquet(f'{out}/{table}').count()}")
    spark.stop()


if __name__ == "__main__":
    main(*sys.argv[1:3])
