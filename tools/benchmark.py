"""Benchmark the workflow on its default (paper-size) configuration and print the figures.

Usage: .venv/bin/python tools/benchmark.py [--rules RULE ...] [-- extra snakemake arguments]
Re-runs the named rules (default: every rule) with `--forcerun`, times the whole run, then prints the per-rule
figures from the Snakemake benchmark files (results/benchmarks/<rule>/<job>.tsv).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from mimicry.benchmarks import read_benchmarks, summarize  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="*", default=None, help="rules to re-run (default: all)")
    parser.add_argument("--cores", default="all")
    parser.add_argument("snakemake_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    force = ["--forcerun", *args.rules] if args.rules else ["--forceall"]
    command = [str(Path(sys.executable).with_name("snakemake")), "--cores", args.cores, "-q", *force,
               *[a for a in args.snakemake_args if a != "--"]]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    wall = time.perf_counter() - start
    print(f"whole run: {wall:.1f} s wall ({' '.join(command[1:])})")
    table = summarize(read_benchmarks(ROOT / "results" / "benchmarks"))
    print(table.to_string())


if __name__ == "__main__":
    main()
