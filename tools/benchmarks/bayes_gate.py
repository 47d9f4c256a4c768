"""The convergence gate over several seeds: every nested model, per seed, on the last run's EMG window table.

Usage: .venv/bin/python tools/benchmarks/bayes_gate.py [--seeds 3] [--models full rate] [--configfile my.yaml]
Fits each model with the configuration's sampler settings (seed = statistics.bayes.seed + i) in this one process,
prints one line per fit (time, divergences, max R-hat and min bulk ESS per parameter class, the gate's verdict)
and writes the table to results/benchmarks/bayes_gate_<data_level>.tsv. Run `make run` first.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pandas as pd

from mimicry.bayes.diagnostics import diagnostics_row, summary
from mimicry.bayes.model import Cells, model_data
from mimicry.bayes.sampling import fit
from mimicry.bayes_specs import NESTED_MODELS
from mimicry.config import load_config
from mimicry.settings import Diagnostics, Priors, Sampling
from mimicry.study import Study

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3, help="fits per model, seeds counted up from the config's")
    parser.add_argument("--models", nargs="+", default=list(NESTED_MODELS), choices=list(NESTED_MODELS))
    parser.add_argument("--configfile", nargs="*", default=[], help="overlays on config/config.yaml, as Snakemake's")
    parser.add_argument("--table", type=Path, default=ROOT / "results/preprocessing/emg_windows.parquet")
    parser.add_argument("--cores", type=int, default=2, help="cores for the chains")
    args = parser.parse_args()

    config = load_config(*args.configfile)
    settings = config["statistics"]["bayes"]
    study = Study.from_config(config["study"])
    priors, gate = Priors.from_config(settings), Diagnostics.from_config(settings["diagnostics"])
    data = model_data(pd.read_parquet(args.table), settings["data_level"])
    cells = Cells.of(data, list(study.groups), list(study.muscles), list(study.emotions))
    base = Sampling.from_config(settings, cores=args.cores)

    rows = []
    for offset in range(args.seeds):
        sampling = dataclasses.replace(base, seed=base.seed + offset)
        for model in args.models:
            fitted = fit(data, cells, model, priors, sampling)
            row = {
                "seed": sampling.seed,
                **diagnostics_row(
                    fitted, summary(fitted.posterior, model, settings["hdi_prob"]), sampling, gate, len(data)
                ),
            }
            rows.append(row)
            print(
                f"seed {row['seed']} {model:>9}: {row['seconds']:6.1f} s ({row['sampling_seconds']:.1f} s sampling), "
                f"{row['divergences']} divergences, max R-hat {row['max_rhat']:.4f}, "
                f"min bulk ESS {row['min_ess_bulk']:.0f}; {'passes' if row['converged'] else row['problems']}",
                flush=True,
            )
    table = pd.DataFrame(rows)
    out = ROOT / f"results/benchmarks/bayes_gate_{settings['data_level']}.tsv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, sep="\t", index=False)
    columns = ["seed", "model", "seconds", "divergences", "max_rhat", "min_ess_bulk"]
    columns += [c for c in table.columns if c.startswith(("max_rhat_", "min_ess_bulk_"))] + ["converged"]
    pd.set_option("display.width", 250)
    print(table[columns].round(4).to_string(index=False))
    print(
        f"\n{int(table['converged'].sum())} of {len(table)} fits pass the gate "
        f"({settings['variant']}/{settings['parameterization']}, {base.chains} x {base.iterations}, "
        f"{len(data)} rows); max R-hat {table['max_rhat'].max():.4f}, min bulk ESS {table['min_ess_bulk'].min():.0f}; "
        f"per fit {table['seconds'].min():.0f}-{table['seconds'].max():.0f} s; written to {out.relative_to(ROOT)}"
    )


if __name__ == "__main__":
    main()
