"""Parity with the paper's tool: fit the asymptotic model in R brms and in this project's brms-faithful variant
on the same data, and compare the posterior means, SDs and intervals of the fixed effects, participant SDs and
sigma, and time and ESS.

Optional (not in the default run, not in CI): needs Debian's r-cran-brms (`apt-get install r-cran-brms`), and
brms needs ~20 min for the paper's 4 x 5000 iterations on 2 cores.

Usage: .venv/bin/python tools/reference/brms_parity.py [--iterations 5000] [--seed 20230721] [--windows PATH]
       [--out DIR]
Writes DIR/comparison.tsv (one row per fixed effect of a and c, participant SD and sigma) and DIR/timing.tsv,
and prints both.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd

from mimicry.bayes.diagnostics import POPULATION, divergences, summary
from mimicry.bayes.model import Cells, model_data
from mimicry.bayes.sampling import fit
from mimicry.config import load_config
from mimicry.settings import Priors, Sampling
from mimicry.study import Study

ROOT = Path(__file__).resolve().parents[2]


BRMS_FIXED = re.compile(r"^b_(a|c)_drug(?P<drug>\w+):muscle(?P<muscle>\w+):emotion(?P<emotion>\w+)$")
BRMS_SD = re.compile(r"^sd_participant__(a|b|c)_muscle(?P<muscle>\w+):emotion(?P<emotion>\w+)$")
KEYS = ["parameter", "drug", "muscle", "emotion"]


def brms_parameters(summary: pd.DataFrame) -> pd.DataFrame:
    """brms's fixed effects of a and c, participant SDs and sigma, in the comparison's long layout."""
    rows = []
    for row in summary.itertuples():
        fixed, sd = BRMS_FIXED.match(row.variable), BRMS_SD.match(row.variable)
        if fixed:
            key = {"parameter": "asymptote" if fixed.group(1) == "a" else "rate", **fixed.groupdict()}
        elif sd:
            key = {"parameter": f"sd_{sd.group(1)}", "drug": "", **sd.groupdict()}
        elif row.variable == "sigma":
            key = {"parameter": "sigma", "drug": "", "muscle": "", "emotion": ""}
        else:
            continue
        rows.append(
            {
                **key,
                "mean": row.mean,
                "sd": row.sd,
                "low": row._4,
                "high": row._5,
                "r_hat": row.rhat,
                "ess_bulk": row.ess_bulk,
            }
        )
    return pd.DataFrame(rows)


def ours_parameters(posterior) -> pd.DataFrame:
    """The same parameters from the workflow's posterior (shared layout)."""
    rows = []
    for parameter in ("asymptote", "rate", "sd_a", "sd_b", "sd_c", "sigma"):
        draws = posterior[parameter].stack(sample=("chain", "draw")).transpose(..., "sample")
        cells = [dim for dim in draws.dims if dim != "sample"]
        for index in np.ndindex(*(draws.sizes[dim] for dim in cells)):
            labels = {dim: str(draws[dim].values[i]) for dim, i in zip(cells, index, strict=True)}
            values = draws.values[index]
            rows.append(
                {
                    "parameter": parameter,
                    **{dim: labels.get(dim, "") for dim in ("drug", "muscle", "emotion")},
                    "mean": values.mean(),
                    "sd": values.std(ddof=1),
                    "low": np.quantile(values, 0.025),
                    "high": np.quantile(values, 0.975),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=20230721)
    parser.add_argument("--windows", default=str(ROOT / "results/preprocessing/emg_windows.parquet"))
    parser.add_argument("--out", default=str(ROOT / "results/bayes/brms_parity"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = load_config()
    study = Study.from_config(config["study"])
    data = model_data(pd.read_parquet(args.windows))
    data.to_csv(out / "model_data.csv", index=False)

    start = time.perf_counter()
    subprocess.run(
        [
            "Rscript",
            str(ROOT / "tools/reference/brms_parity.R"),
            str(out / "model_data.csv"),
            str(out / "brms"),
            str(args.iterations),
            str(args.seed),
            "2",
        ],
        check=True,
    )
    brms_wall = time.perf_counter() - start
    brms_all = pd.read_csv(out / "brms_summary.tsv", sep="\t")
    brms = brms_parameters(brms_all)
    brms_timing = pd.read_csv(out / "brms_timing.tsv", sep="\t").iloc[0]

    settings = config["statistics"]["bayes"]
    # the brms fit's settings: the paper's 4 chains, half of the iterations warm-up
    sampling = dataclasses.replace(
        Sampling.from_config(settings, cores=2),
        variant="brms",
        chains=4,
        warmup=args.iterations // 2,
        draws=args.iterations - args.iterations // 2,
        seed=args.seed,
    )
    cells = Cells.of(data, study.groups, study.muscles, study.emotions)
    fitted = fit(data, cells, "full", Priors.from_config(settings), sampling)
    table = summary(fitted.posterior, "full", settings["hdi_prob"])
    population = table[table["parameter"].isin(POPULATION)]
    ours = ours_parameters(fitted.posterior)
    comparison = brms.merge(ours, on=KEYS, suffixes=("_brms", "_pymc"))
    comparison["mean_diff_in_sd"] = (comparison["mean_pymc"] - comparison["mean_brms"]) / comparison["sd_brms"]
    comparison["sd_ratio"] = comparison["sd_pymc"] / comparison["sd_brms"]
    comparison["low_diff_in_sd"] = (comparison["low_pymc"] - comparison["low_brms"]) / comparison["sd_brms"]
    comparison["high_diff_in_sd"] = (comparison["high_pymc"] - comparison["high_brms"]) / comparison["sd_brms"]
    comparison.to_csv(out / "comparison.tsv", sep="\t", index=False)
    brms_seconds = brms_timing["compile_seconds"] + brms_timing["sample_seconds"]
    timing = pd.DataFrame(
        [
            {
                "implementation": "R brms 2.18 / rstan",
                "seconds": brms_seconds,
                "wall_s": brms_wall,
                "min_ess_bulk": brms_all["ess_bulk"].min(),
                "max_rhat": brms_all["rhat"].max(),
                "divergences": brms_timing["divergences"],
            },
            {
                "implementation": f"PyMC brms variant / {sampling.sampler}",
                "seconds": fitted.seconds,
                "wall_s": fitted.seconds,
                "min_ess_bulk": population["ess_bulk"].min(),
                "max_rhat": population["r_hat"].max(),
                "divergences": divergences(fitted.raw),
            },
        ]
    )
    timing["ess_bulk_per_s"] = timing["min_ess_bulk"] / timing["seconds"]
    timing.to_csv(out / "timing.tsv", sep="\t", index=False)
    pd.set_option("display.width", 200)
    print(
        comparison[
            [*KEYS, "mean_brms", "mean_pymc", "mean_diff_in_sd", "sd_ratio", "low_diff_in_sd", "high_diff_in_sd"]
        ]
        .round(3)
        .to_string(index=False)
    )
    kinds = {"fixed effects": ["asymptote", "rate"], "participant SDs and sigma": ["sd_a", "sd_b", "sd_c", "sigma"]}
    for kind, parameters in kinds.items():
        rows = comparison[comparison["parameter"].isin(parameters)]
        print(
            f"\n{kind} ({len(rows)}): largest |mean difference| {rows['mean_diff_in_sd'].abs().max():.3f} posterior "
            f"SD; SD ratio {rows['sd_ratio'].min():.3f}-{rows['sd_ratio'].max():.3f}; largest 95% interval end "
            f"difference {rows[['low_diff_in_sd', 'high_diff_in_sd']].abs().max().max():.3f} SD"
        )
    print(timing.round(3).to_string(index=False))
    print(
        f"ESS per second, PyMC brms variant / brms: "
        f"{timing['ess_bulk_per_s'].iloc[1] / timing['ess_bulk_per_s'].iloc[0]:.1f}x"
    )


if __name__ == "__main__":
    main()
