"""The fast path (`mimicry.power.fastpath`) against the raw path on the same participants.

Usage: .venv/bin/python tools/benchmarks/fastpath.py [--seeds N] [--configfile F] [--p-values]
(after a run of the simulated study, `make run` or `snakemake --configfile F`). Draws the run's simulated
participants' trial x window values N times through the fast path and prints, per muscle x emotion x window, the
raw path's mean, SD and between-recording SD (participants; a crossover's participant x session) of the kept
values beside the fast path's (averaged over the seeds), their ratios, the rejected share, whether every ratio is
within 10%, and the between-recording variance's ratio and where the raw path's lies among the fast draws'. With
``--p-values``: the power analysis's LMM rules fitted to the raw path's table and to each fast draw (the same
participants and planted effects, other trial noise): the raw p-value beside the fast draws' median and range,
and its rank among them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from mimicry.config import load_config
from mimicry.power.fastpath import floor_ratios, window_moments, window_values
from mimicry.power.lmm_rules import rule_p_values
from mimicry.power.planning import rule_specs
from mimicry.rsession import call_in_fresh_r
from mimicry.settings import EmgSettings, PowerTarget, SimulationSettings
from mimicry.study import Study
from mimicry.task import load_stimuli

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--configfile", help="the config overlay the run used")
    parser.add_argument("--p-values", action="store_true", help="compare the LMM rules' p-values")
    arguments = parser.parse_args()
    seeds = arguments.seeds
    config = load_config(*([arguments.configfile] if arguments.configfile else []))
    study = Study.from_config(config["study"])
    emg = EmgSettings.from_config(config["preprocessing"]["emg"])
    simulation = SimulationSettings.from_config(config["simulation"])
    effects = pd.read_csv(
        ROOT / "results/simulated/ground_truth/participant_effects.tsv", sep="\t", dtype={"participant": str}
    )
    parameters = pd.read_csv(
        ROOT / "results/simulated/ground_truth/participant_parameters.tsv", sep="\t", dtype={"participant": str}
    )
    floor = floor_ratios(parameters, simulation, emg, list(study.muscles))
    stimuli = load_stimuli(ROOT / config["study"]["stimuli"], study.emotions)
    raw = pd.read_parquet(ROOT / "results/preprocessing/emg_windows.parquet")
    started = time.process_time()
    draws = [
        window_values(effects, stimuli, simulation, emg, list(study.muscles), [seed, 9], floor) for seed in range(seeds)
    ]
    seconds = (time.process_time() - started) / seeds
    raw_moments, draw_moments = window_moments(raw), [window_moments(draw) for draw in draws]
    fast = sum(draw_moments) / seeds
    ratios = (fast[["sd", "between_sd"]] / raw_moments[["sd", "between_sd"]]).add_suffix("_ratio")
    table = pd.concat([raw_moments.add_prefix("raw_"), fast.add_prefix("fast_"), ratios], axis=1)
    pd.set_option("display.width", 200)
    print(table.round(3).to_string())
    rejected = sum(draw["rejected"].mean() for draw in draws) / seeds
    print(f"rejected: raw {raw['rejected'].mean():.3f}, fast {rejected:.3f}")
    print(f"fast path: {seconds:.2f} s CPU per study of {effects['participant'].nunique()} participants")
    for column in ratios:
        low, high = ratios[column].min(), ratios[column].max()
        print(f"{column}: {low:.3f}-{high:.3f} ({'within' if 0.9 <= low and high <= 1.1 else 'outside'} 10%)")
    # The raw path is one draw of trial noise on these participants: where its between-participant variance falls
    # among the fast draws' says whether a ratio away from 1 is more than that noise.
    raw_variance = raw_moments["between_sd"] ** 2
    variances = pd.concat([moments["between_sd"] ** 2 for moments in draw_moments], axis=1)
    raw_variance, variances = raw_variance.align(variances, join="inner", axis=0)
    variance_ratio = variances.mean(axis=1) / raw_variance
    inside = raw_variance.between(variances.min(axis=1), variances.max(axis=1))
    print(
        f"between-participant variance ratio: {variance_ratio.min():.3f}-{variance_ratio.max():.3f} (mean "
        f"{variance_ratio.mean():.3f}); the raw path's inside the fast draws' range in {int(inside.sum())} of "
        f"{len(inside)} cells, below {variances.gt(raw_variance, axis=0).sum(axis=1).mean():.1f} of {seeds} draws "
        "on average"
    )
    if arguments.p_values:
        specs = rule_specs(config, study, PowerTarget.from_config(config["power"]["target"]))
        p_values = call_in_fresh_r(rule_p_values, specs, [raw, *draws])
        for rule, rows in p_values.groupby("rule", sort=False):
            raw_p, fast_p = rows["p"].iloc[0], rows["p"].iloc[1:]
            print(
                f"{rule}: raw p {raw_p:.4f}; fast draws median {fast_p.median():.4f} "
                f"[{fast_p.min():.4f}, {fast_p.max():.4f}]; raw below {int((fast_p > raw_p).sum())} of {len(fast_p)}"
            )


if __name__ == "__main__":
    main()
