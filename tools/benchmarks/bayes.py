"""Benchmark the Bayesian stage on the default (paper-size) study and print the figures beside brms's.

Usage: .venv/bin/python tools/benchmarks/bayes.py [--run]
With --run, the four nested models are re-sampled first (`snakemake --forcerun bayes_fit`, on the EMG window
table already made). Prints, per model, wall time, min bulk ESS and ESS per second (population-level
parameters, as brms's summary), divergences, max R-hat and peak memory, then the ratios to brms on the same
data: the measured run of tools/reference/brms_parity.py when results/bayes/brms_parity/timing.tsv exists, else the
reference measured on a machine like these (README.md, Benchmarks: brms 2.18 compile 55 s + sampling 993 s,
min bulk ESS 468, 4.5 GB peak).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["full", "asymptote", "rate", "no_drug"]
BRMS_REFERENCE = {"seconds": 55.0 + 993.0, "min_ess_bulk": 468.0, "max_rss_mb": 4500.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", action="store_true", help="re-sample the four models first")
    parser.add_argument("--cores", default="all")
    args = parser.parse_args()
    if args.run:
        subprocess.run(
            [
                str(Path(sys.executable).with_name("snakemake")),
                "--cores",
                args.cores,
                "-q",
                "--forcerun",
                "bayes_fit",
                "--allowed-rules",
                "bayes_fit",
                "bayes_compare",
                "bayes_figures",
                "--",
                "results/bayes/table2.tsv",
                "results/bayes/figure2.pdf",
            ],
            cwd=ROOT,
            check=True,
        )
    rows = []
    for model in MODELS:
        diagnostics = pd.read_csv(ROOT / f"results/bayes/{model}/diagnostics.tsv", sep="\t").iloc[0]
        benchmark = pd.read_csv(ROOT / f"results/benchmarks/bayes/{model}.tsv", sep="\t").iloc[0]
        rows.append(
            {
                "model": model,
                "variant": f"{diagnostics['variant']}/{diagnostics['parameterization']}",
                "rows": diagnostics["observations"],
                "iterations": f"{diagnostics['chains']}x{diagnostics['warmup'] + diagnostics['draws']}",
                "job_s": benchmark["s"],
                "compile_s": diagnostics["seconds"] - diagnostics["sampling_seconds"],
                "sampling_s": diagnostics["sampling_seconds"],
                "min_ess_population": min(diagnostics[f"min_ess_bulk_{key}"] for key in ("fixed", "sds", "residual")),
                "min_ess_bulk": diagnostics["min_ess_bulk"],
                "max_rhat": diagnostics["max_rhat"],
                "divergences": diagnostics["divergences"],
                "max_rss_mb": benchmark["max_rss"],
                "converged": diagnostics["converged"],
            }
        )
    table = pd.DataFrame(rows)
    table["ess_per_s"] = table["min_ess_population"] / table["job_s"]
    parity = ROOT / "results/bayes/brms_parity/timing.tsv"
    if parity.exists():
        brms = pd.read_csv(parity, sep="\t").iloc[0]
        reference = {"seconds": brms["seconds"], "min_ess_bulk": brms["min_ess_bulk"], "source": str(parity)}
    else:
        source = "brms 2.18 on a 2-core machine of this kind, 2600 rows (README.md, Benchmarks)"
        reference = {**BRMS_REFERENCE, "source": source}
    brms_rate = reference["min_ess_bulk"] / reference["seconds"]
    table["x_brms_ess_per_s"] = table["ess_per_s"] / brms_rate
    pd.set_option("display.width", 200)
    print(table.round(4).to_string(index=False))
    print(
        f"\nbrms reference: {reference['seconds']:.0f} s (compile + sampling), min bulk ESS "
        f"{reference['min_ess_bulk']:.0f}, {brms_rate:.3f} ESS/s [{reference['source']}]"
    )
    print(
        f"all four nested models, job wall time summed: {table['job_s'].sum():.0f} s "
        f"= {table['job_s'].sum() / reference['seconds']:.2f} x one brms fit"
    )
    print(
        f"ESS per second vs brms: {table['x_brms_ess_per_s'].min():.1f}x to {table['x_brms_ess_per_s'].max():.1f}x; "
        f"peak memory {table['max_rss_mb'].max():.0f} MB; "
        f"{int(table['converged'].sum())} of {len(table)} models passed the gate"
    )


if __name__ == "__main__":
    main()
