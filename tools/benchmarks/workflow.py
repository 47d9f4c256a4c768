"""Benchmark the workflow on its default (paper-size) configuration and print the figures.

Usage: .venv/bin/python tools/benchmarks/workflow.py [--rules RULE ...] [-- extra snakemake arguments]
Re-runs the named rules (default: every rule) with `--forcerun`, times the whole run, then prints, beside the
targets of a run on 2 cores: the wall time of each stage (its first job's start to its last job's finish, from
the run's Snakemake log), the per-rule figures from the Snakemake benchmark files
(results/benchmarks/<rule>/<job>.tsv), the CPU time of Snakemake's own process, and how much of a
per-participant EMG job is process start-up and imports (a fresh interpreter importing what the job imports),
and whether the group tables are the same to the bit as the ones recorded in default_checksums.tsv (timing
columns left out; recorded on the 2-core benchmark machine, before the workflow was made faster: `--record`
writes them anew).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from benchlib import changed_tables, job_times, read_benchmarks, stage_walls, summarize, table_checksums

ROOT = Path(__file__).resolve().parents[2]
CHECKSUMS = Path(__file__).with_name("default_checksums.tsv")


# What a preprocess_emg job imports before it does any work (Snakemake's script preamble included).
EMG_JOB_IMPORTS = (
    "import snakemake.logging, snakemake.iocontainers, pandas, pyarrow.parquet, mne, mne_bids, "
    "mne.filter, mne.epochs, scipy.signal, matplotlib.figure, matplotlib.backends.backend_agg, "
    "matplotlib.backends.backend_pdf"
)


#: What the whole default study should take on 2 cores (seconds; printed beside the figures, never asserted).
TARGETS = {"whole run": 600, "simulation": 90, "preprocessing": 180, "preprocess_emg CPU per job": 2.0}


def run_measuring_main_cpu(command: list[str]) -> tuple[float, float]:
    """Run ``command``; return its wall seconds and its own CPU seconds (Snakemake's process, not its jobs')."""
    start = time.perf_counter()
    # not --quiet: the run's log (.snakemake/log/) must keep each job's start and finish; the console gets it too
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stat = Path(f"/proc/{process.pid}/stat")
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = 0.0
    while process.poll() is None:
        try:  # utime + stime of the process itself, read until it exits
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / ticks
        except (OSError, IndexError):
            pass
        time.sleep(0.2)
    if process.returncode:
        raise SystemExit(f"the run failed: see the newest log in {ROOT / '.snakemake' / 'log'}")
    return time.perf_counter() - start, cpu


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
    parser.add_argument("--record", action="store_true", help=f"write the group tables' digests to {CHECKSUMS.name}")
    parser.add_argument("snakemake_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    force = ["--forcerun", *args.rules] if args.rules else ["--forceall"]
    command = [
        str(Path(sys.executable).with_name("snakemake")),
        "--cores",
        args.cores,
        *force,
        *[a for a in args.snakemake_args if a != "--"],
    ]
    wall, main_cpu = run_measuring_main_cpu(command)
    print(f"whole run: {wall:.1f} s wall (target {TARGETS['whole run']} s on 2 cores; {' '.join(command[1:])})")
    print(f"Snakemake's own process: {main_cpu:.1f} s CPU")
    log = max((ROOT / ".snakemake" / "log").glob("*.snakemake.log"), key=lambda path: path.stat().st_mtime)
    stages = stage_walls(job_times(log.read_text()))
    stages["target_s"] = stages.index.map(TARGETS).astype("Float64")
    print(f"stages (from {log.relative_to(ROOT)}):")
    print(stages.to_string())
    table = summarize(read_benchmarks(ROOT / "results" / "benchmarks"))
    print(table.to_string())
    found = table_checksums(ROOT / "results")
    if args.record:
        found.to_csv(CHECKSUMS, sep="\t")
        print(f"group tables: {len(found)} digests recorded in {CHECKSUMS.relative_to(ROOT)}")
    else:
        changed = changed_tables(pd.read_csv(CHECKSUMS, sep="\t", index_col="table")["sha256"], found)
        verdict = "the same to the bit as recorded" if not changed else f"{len(changed)} differ: {changed}"
        print(f"group tables ({len(found)}, timing columns left out): {verdict}")
    if "preprocess_emg" in table.index:
        startup = startup_seconds()
        cpu = table.loc["preprocess_emg", "cpu_mean_s"]
        print(
            f"preprocess_emg: process start-up and imports {startup:.2f} s of {cpu:.2f} s CPU per job "
            f"({100 * startup / cpu:.0f}%); target {TARGETS['preprocess_emg CPU per job']} s in all"
        )


if __name__ == "__main__":
    main()
