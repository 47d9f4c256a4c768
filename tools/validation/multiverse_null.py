"""The multiverse's joint test over simulated null studies: how often it rejects when no drug acts.

Usage: .venv/bin/python tools/validation/multiverse_null.py [--studies 100] [--participants-per-group 4]
       [--cores all] [--seed 1] [--configfile config/multiverse.yaml] [--out results/multiverse/null]

Each null study is simulated from raw recordings with no drug effect (mimicry.multiverse.null_studies: every fork
acts before the window values, so none can be drawn by the fast path), preprocessed in every universe of the
config's multiverse and tested against the config's permutations. Each study's joint tests are written as they
finish (studies/study-<k>_seed-<seed>_per-group-<n>.tsv; a re-run skips the studies already done, so a killed
run resumes); then
joint_tests.tsv (every study) and rejection_rates.tsv (per estimand and joint statistic: the share of studies
rejected at the report's alpha, its exact 95% interval), printed with the CPU time per study.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from mimicry.config import load_config
from mimicry.multiverse.null_studies import null_study, rejection_rates

ROOT = Path(__file__).resolve().parents[2]


def _run_study(config: dict[str, Any], number: int, seed: int, per_group: int, out: Path) -> float:
    """Null study ``number``, written to ``out`` (atomically: a killed study leaves no file); its CPU seconds."""
    started = time.process_time()
    with tempfile.TemporaryDirectory() as workdir:
        joint = null_study(config, number, seed, per_group, Path(workdir))
    partial = out.with_suffix(".partial")
    joint.to_csv(partial, sep="\t", index=False)
    partial.rename(out)
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--studies", type=int, default=100)
    parser.add_argument("--participants-per-group", type=int, default=4)
    parser.add_argument("--cores", default="all", help="studies at once: a number, or all (every core)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--configfile", default="config/multiverse.yaml")
    parser.add_argument("--out", type=Path, default=ROOT / "results/multiverse/null")
    args = parser.parse_args()
    cores = (os.cpu_count() or 1) if args.cores == "all" else int(args.cores)
    os.chdir(ROOT)  # the config's paths (the stimuli table) are the workflow's, relative to the repository
    config = load_config("config/config.yaml", args.configfile)
    done = args.out / "studies"
    done.mkdir(parents=True, exist_ok=True)
    # the seed and size in the name: a re-run with others never takes these studies for its own
    name = f"seed-{args.seed}_per-group-{args.participants_per_group}"
    files = {number: done / f"study-{number}_{name}.tsv" for number in range(1, args.studies + 1)}
    todo = [number for number, path in files.items() if not path.exists()]
    print(f"{args.studies} null studies ({len(todo)} to run), {args.participants_per_group} participants per group")
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=cores) as pool:
        futures = {
            number: pool.submit(_run_study, config, number, args.seed, args.participants_per_group, files[number])
            for number in todo
        }
        cpu = [future.result() for future in futures.values()]
    joint = pd.concat([pd.read_csv(path, sep="\t") for path in files.values()], ignore_index=True)
    joint.to_csv(args.out / "joint_tests.tsv", sep="\t", index=False)
    rates = rejection_rates(joint, config["report"]["alpha"])
    rates.to_csv(args.out / "rejection_rates.tsv", sep="\t", index=False)
    if cpu:
        print(f"{len(cpu)} studies in {time.perf_counter() - started:.0f} s wall, {sum(cpu) / len(cpu):.0f} s CPU each")
    with pd.option_context("display.width", 160, "display.max_colwidth", 60):
        print(rates.to_string(index=False, float_format="{:.3f}".format))


if __name__ == "__main__":
    main()
