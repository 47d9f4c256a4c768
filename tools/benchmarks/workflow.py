"""Benchmark the workflow on its default (paper-size) configuration and print the figures.

Usage: .venv/bin/python tools/benchmarks/workflow.py [--rules RULE ...] [-- extra snakemake arguments]
Re-runs the named rules (default: every rule) with `--forcerun`, times the whole run, then prints the per-rule
figures from the Snakemake benchmark files (results/benchmarks/<rule>/<job>.tsv), and how much of a
per-participant EMG job is process start-up and imports (a fresh interpreter importing what the job imports).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from mimicry.benchmarks import read_benchmarks, summarize

ROOT = Path(__file__).resolve().parents[2]


# What a preprocess_emg job imports before it does any work (Snakemake's script preamble included).
EMG_JOB_IMPORTS = (
    "import snakemake.logging, snakemake.iocontainers, pandas, pyarrow.parquet, mne, mne_bids, "
    "mne.filter, mne.epochs, scipy.signal, matplotlib.figure, matplotlib.backends.backend_agg, "
    "matplotlib.backends.backend_pdf"
)


def startup_seconds(repeats: int = 3) -> float:
    """Least CPU time (user + system) over ``repeats`` fresh interpreters that only import the EMG job's modules."""
    best = float("inf")
    for _ in range(repeats):
        before = os.times()
        subprocess.run([sys.executable, "-c", EMG_JOB_IMPORTS], check=True)
        after = os.times()
        best = min(
            best, (after.children_user - before.children_user) + (after.children_system - before.children_system)
        )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", nargs="*", default=None, help="rules to re-run (default: all)")
    parser.add_argument("--cores", default="all")
    parser.add_argument("snakemake_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    force = ["--forcerun", *args.rules] if args.rules else ["--forceall"]
    command = [
        str(Path(sys.executable).with_name("snakemake")),
        "--cores",
        args.cores,
        "-q",
        *force,
        *[a for a in args.snakemake_args if a != "--"],
    ]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    wall = time.perf_counter() - start
    print(f"whole run: {wall:.1f} s wall ({' '.join(command[1:])})")
    table = summarize(read_benchmarks(ROOT / "results" / "benchmarks"))
    print(table.to_string())
    if "preprocess_emg" in table.index:
        startup = startup_seconds()
        cpu = table.loc["preprocess_emg", "cpu_mean_s"]
        print(
            f"preprocess_emg: process start-up and imports {startup:.2f} s of {cpu:.2f} s CPU per job "
            f"({100 * startup / cpu:.0f}%)"
        )


if __name__ == "__main__":
    main()
