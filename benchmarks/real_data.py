"""Time `stedi run` on the real course data: a first run into a new lake, and a rerun.

Usage: python benchmarks/real_data.py [SOURCE] [--repeat N]
Reports the median wall time and the peak RSS of each, as the CLI runs them (start-up
included), in a Markdown table on stdout.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_SOURCE = Path(__file__).parents[1] / ".." / "shared" / "data" / "stedi"


def timed(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one run of `command` in a child process."""
    start = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.DEVNULL) as child:
        _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        sys.exit(f"failed: {' '.join(command)}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("source", nargs="?", default=str(DEFAULT_SOURCE))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    stedi = shutil.which("stedi") or sys.exit("stedi is not installed")
    first, rerun = [], []
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            command = [stedi, "run", args.source, "--lake", f"{tmp}/lake", "--quiet"]
            first.append(timed(command))
            rerun.append(timed(command))
    print("| run | median wall (s) | peak RSS (MiB) |")
    print("| --- | --- | --- |")
    for name, samples in (("first run, new lake", first), ("rerun, no new input", rerun)):
        wall = statistics.median(s[0] for s in samples)
        rss = max(s[1] for s in samples)
        print(f"| {name} | {wall:.2f} | {rss:.0f} |")


if __name__ == "__main__":
    main()
