"""stedi side by side with the bare-DuckDB floor and PySpark, on real and generated data.

Usage: python benchmarks/bench.py [--scales real 1 10 100] [--repeat 3] [--no-spark]
                                  [--results benchmarks/results.md]

`real` is the course data (../shared/data/stedi); a number N is generated data with
about N times its readings (N * 1,000 customers, seed 1, written once into
benchmarks/.data/). Every run is a child process, start-up included: `stedi run` into a
new lake, `stedi run` again with no new input, the floor (benchmarks/floor.py) and the
Spark reference (benchmarks/spark_reference.py). Reports the median wall time of
`--repeat` runs, the peak RSS of the slowest-growing one and rows per second, in a
Markdown table written to `--results` (`-`: only printed) and printed.
"""

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
REAL_DATA = HERE.parent / ".." / "shared" / "data" / "stedi"
DATA = HERE / ".data"
CUSTOMERS_PER_SCALE = 1_000


@dataclass(frozen=True)
class Measure:
    seconds: float
    peak_mib: float


def timed(command: list[str]) -> Measure:
    """Wall time and peak RSS of one run of `command` (and its children) in a new process."""
    with tempfile.TemporaryFile() as stderr:
        start = time.perf_counter()
        with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr) as child:
            _, status, usage = os.wait4(child.pid, 0)
            seconds = time.perf_counter() - start
        stderr.seek(0)
        errors = stderr.read().decode(errors="replace")
    if status != 0:
        sys.exit(f"failed: {' '.join(command)}\n{errors[-2000:]}")
    return Measure(seconds, usage.ru_maxrss / 1024)


def summary(samples: list[Measure]) -> Measure:
    return Measure(statistics.median(s.seconds for s in samples), max(s.peak_mib for s in samples))


def source_for(scale: str, stedi: str) -> Path:
    if scale == "real":
        return REAL_DATA.resolve()
    folder, complete = DATA / f"x{scale}", DATA / f"x{scale}.complete"
    if not complete.exists():
        shutil.rmtree(folder, ignore_errors=True)
        customers = int(float(scale) * CUSTOMERS_PER_SCALE)
        subprocess.run(
            [stedi, "generate", str(folder), "--customers", str(customers), "--seed", "1"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        complete.write_text("")
    return folder


def landing_rows(source: Path) -> int:
    """The source's records, as the floor lands them."""
    with tempfile.TemporaryDirectory() as tmp:
        counts = subprocess.run(
            [sys.executable, str(HERE / "floor.py"), str(source), tmp],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    rows = dict(line.split("\t") for line in counts.splitlines())
    return sum(int(rows[f"{d}_landing"]) for d in ("customer", "accelerometer", "step_trainer"))


def stedi_landing_rows(stedi: str, lake: str) -> int:
    """The landing rows of a lake stedi made: the source's valid records."""
    tables = ("customer_landing", "accelerometer_landing", "step_trainer_landing")
    sql = "select " + " + ".join(f"(select count(*) from {t})" for t in tables) + " as n"
    answer = subprocess.run(
        [stedi, "inspect", "--lake", lake, "-f", "csv", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return int(answer.splitlines()[1])


def bench(
    source: Path, stedi: str, repeat: int, spark: bool, floor_too: bool
) -> tuple[dict[str, Measure], int | None]:
    first, rerun, floor, spark_runs, rows = [], [], [], [], None
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            command = [stedi, "run", str(source), "--lake", f"{tmp}/lake", "--quiet"]
            first.append(timed(command))
            rerun.append(timed(command))
            if not floor_too and rows is None:  # else the floor counts them
                rows = stedi_landing_rows(stedi, f"{tmp}/lake")
        if floor_too:
            with tempfile.TemporaryDirectory() as tmp:
                floor.append(timed([sys.executable, str(HERE / "floor.py"), str(source), tmp]))
        if spark:
            with tempfile.TemporaryDirectory() as tmp:
                spark_runs.append(
                    timed([sys.executable, str(HERE / "spark_reference.py"), str(source), tmp])
                )
    results = {"stedi run": summary(first), "stedi rerun": summary(rerun)}
    if floor_too:
        results["floor"] = summary(floor)
    if spark:
        results["spark"] = summary(spark_runs)
    return results, rows


NOTES = [
    "Spark's peak RSS is that of its Python driver only: the JVM it starts is not a",
    "waited-for child, so its memory (about 1.5 GB in `ps` at x100) is not in the figure.",
    "The floor runs DuckDB with its default memory limit (80 % of RAM); stedi caps DuckDB at",
    "1 GB (`STEDI_MEMORY_LIMIT`) and spills, and Delta's writer buffers beside that.",
]


def commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True
    )
    return done.stdout.strip() or "unknown"


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        int(line.split()[1]) // 1024 // 1024
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    versions = []
    for package in ("duckdb", "deltalake", "pyarrow", "pyspark"):
        try:
            versions.append(f"{package} {__import__(package).__version__}")
        except ImportError:
            versions.append(f"{package} not installed")
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory} GiB RAM, {platform.system()}"
        f" {platform.release()}, Python {platform.python_version()}; {', '.join(versions)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", nargs="+", default=["real", "1", "10", "100"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument(
        "--no-floor", action="store_true", help="the floor's DuckDB spills past 60 GB at x1000"
    )
    parser.add_argument("--results", default=str(HERE / "results.md"), help="- to only print")
    args = parser.parse_args()
    stedi = shutil.which("stedi") or sys.exit("stedi is not installed")
    spark = not args.no_spark
    if spark:
        try:
            import pyspark  # noqa: F401
        except ImportError:
            sys.exit("pyspark is not installed: pip install -e '.[bench]', or --no-spark")
    lines = [
        "# Benchmark results",
        "",
        f"`python benchmarks/bench.py --scales {' '.join(args.scales)} --repeat {args.repeat}`"
        f"{' --no-spark' if not spark else ''}{' --no-floor' if args.no_floor else ''},"
        f" at commit {commit()}: every engine runs as a",
        'child process, start-up included. "stedi / floor" compares first runs into a new',
        'lake; "spark / stedi" is how many times longer PySpark local mode took than stedi.',
        "What the targets are and where they are missed: `benchmarks/README.md`.",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on {machine()}.",
        f"Median of {args.repeat} runs each, start-up included; peak RSS is the largest seen.",
        "",
        "| data | source rows | engine | wall (s) | peak RSS (MiB) | rows/s"
        " | stedi / floor | spark / stedi |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for scale in args.scales:
        source = source_for(scale, stedi)
        # The floor's count where it runs: stedi / floor is over the same records.
        results, rows = bench(source, stedi, args.repeat, spark, not args.no_floor)
        rows = landing_rows(source) if rows is None else rows
        name = "real course data" if scale == "real" else f"generated x{scale}"
        stedi_s = results["stedi run"].seconds
        floor_s = results["floor"].seconds if "floor" in results else None
        for engine, measure in results.items():
            ratio = f"{stedi_s / floor_s:.2f}" if engine == "stedi run" and floor_s else ""
            versus = f"{measure.seconds / stedi_s:.1f}" if engine == "spark" else ""
            lines.append(
                f"| {name} | {rows:,} | {engine} | {measure.seconds:.2f}"
                f" | {measure.peak_mib:,.0f} | {rows / measure.seconds:,.0f} | {ratio} | {versus} |"
            )
            print(lines[-1], flush=True)
    lines += ["", *NOTES]
    if args.results != "-":
        Path(args.results).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
