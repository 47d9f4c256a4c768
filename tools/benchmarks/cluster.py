"""Scheduling overhead: the test configuration run locally and through SLURM, and `snakemake -n` on the default.

Usage: .venv/bin/python tools/benchmarks/cluster.py [--cores N] [--dry-runs N]
1. copies the project twice to a temporary folder and runs the test configuration (6 participants, every stage)
   once locally (`--cores N`) and once through profiles/slurm on a single-node cluster brought up with
   tools/setup/slurm-cluster.sh (needs root; `tools/setup/slurm-cluster.sh install` first), and prints both wall times;
2. times `snakemake -n` on the default (paper-size) configuration in this checkout, which should find nothing to
   do after `make run` (target: under 5 s), and prints the least of ``--dry-runs`` repeats.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
PARTS = ("Snakefile", "workflow", "config", "envs", "profiles", "resources", "src")
ENV = {**os.environ, "PATH": f"{Path(SNAKEMAKE).parent}{os.pathsep}{os.environ['PATH']}"}


def copy_project(destination: Path) -> Path:
    for part in PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, destination / part)
    return destination


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default="2")
    parser.add_argument("--dry-runs", type=int, default=3)
    args = parser.parse_args()
    test_config = ["--configfile", "config/test/config.yaml"]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        local = timed([SNAKEMAKE, "--cores", args.cores, *test_config], copy_project(work / "local"), ENV)
        print(f"test configuration, local (--cores {args.cores}): {local:.0f} s wall")
        state = work / "slurm"
        started = subprocess.run(
            ["bash", str(ROOT / "tools/setup/slurm-cluster.sh"), "start", str(state)],
            capture_output=True,
            text=True,
            check=True,
        )
        conf = re.search(r"export SLURM_CONF=(\S+)", started.stdout).group(1)
        try:
            cluster = timed(
                [
                    SNAKEMAKE,
                    "--workflow-profile",
                    "profiles/slurm",
                    "--cores",
                    args.cores,
                    "--slurm-init-seconds-before-status-checks",
                    "1",
                    "--seconds-between-status-checks",
                    "2",
                    *test_config,
                ],
                copy_project(work / "cluster"),
                {**ENV, "SLURM_CONF": conf},
            )
        finally:
            stop = ["bash", str(ROOT / "tools/setup/slurm-cluster.sh"), "stop", str(state)]
            subprocess.run(stop, capture_output=True, check=True)
        print(
            f"test configuration, SLURM (single node, {os.cpu_count()} cores, profiles/slurm): {cluster:.0f} s wall "
            f"= {cluster / local:.1f} x local"
        )
    dry = min(timed([SNAKEMAKE, "-n", "-q"], ROOT, ENV) for _ in range(args.dry_runs))
    print(f"snakemake -n, default configuration, this checkout: {dry:.1f} s (least of {args.dry_runs})")


if __name__ == "__main__":
    main()
