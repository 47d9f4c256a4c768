"""Time the LMMs through the workflow's pymer4 route against the same models in a plain Rscript.

Usage: .venv/bin/python tools/benchmarks/lmm.py   (after the workflow ran on the study to benchmark)
For each fitted model it exports the model's data and, one after the other on the same machine, times two
fresh processes doing the same work (start, imports, fit, type-III ANOVA, emtrends): Python through the
workflow's pymer4 route (`mimicry.lmm.fit_lmm`) and tools/reference/lmm.R, each started again until its lme4 has
the default ordering (`mimicry.rsession`). It prints rows, both wall times, their
ratio, the workflow job's peak memory (its Snakemake benchmark file), and the largest relative difference in F.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from mimicry.config import load_config
from mimicry.lmm import model_data
from mimicry.lmm_specs import lmm_specs
from mimicry.rsession import run_in_fresh_r
from mimicry.study import Study

ROOT = Path(__file__).resolve().parents[2]


RESULTS = ROOT / "results"
# The pymer4 route in a fresh process, as the workflow's job runs it (data, formula, factors, trend as arguments).
FIT = """
import sys, pandas as pd
data = pd.read_csv(sys.argv[1], sep="\\t", dtype={"participant": str, "face": str})
factors = {c: sorted(data[c].unique()) for c in ("emotion", "drug") if c in data}
trend = tuple(sys.argv[3:5]) or None
fit_lmm(data, sys.argv[2], factors, trend).anova.to_csv(sys.argv[1] + ".anova", sep="\\t", index=False)
"""


def main() -> None:
    config = load_config()
    specs = {spec.name: spec for spec in lmm_specs(config, Study.from_config(config["study"]))}
    tables = {
        "emg": pd.read_parquet(RESULTS / "preprocessing/emg_windows.parquet"),
        "rt": pd.read_parquet(RESULTS / "preprocessing/rt_trials.parquet"),
    }
    rows = []
    for info_path in sorted((RESULTS / "statistics/lmm").glob("*_info.tsv")):
        model = info_path.name.removesuffix("_info.tsv")
        info = pd.read_csv(info_path, sep="\t", keep_default_na=False)
        used = info[info["used"]].iloc[0]
        job = pd.read_csv(RESULTS / f"benchmarks/lmm/{model}.tsv", sep="\t").iloc[0]
        spec = specs[model]
        data_frame, _, trend_of = model_data(spec, tables[spec.kind])
        trend = list(trend_of or ())
        with tempfile.TemporaryDirectory() as scratch:
            data = Path(scratch) / "data.tsv"
            data_frame.to_csv(data, sep="\t", index=False)
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-c", FIT, str(data), used["formula"], *trend],
                check=True,
                capture_output=True,
                env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
            )
            py_wall = time.perf_counter() - start
            start = time.perf_counter()
            run_in_fresh_r(
                ["Rscript", str(ROOT / "tools/reference/lmm.R"), str(data), used["formula"], f"{scratch}/r", *trend],
                check=True,
                capture_output=True,
            )
            r_wall = time.perf_counter() - start
            reference = pd.read_csv(f"{scratch}/r_anova.tsv", sep="\t").set_index("term")["F value"]
            ours = pd.read_csv(f"{data}.anova", sep="\t").set_index("term")["F"]
        rows.append(
            {
                "model": model,
                "rows": int(used["observations"]),
                "pymer4_s": round(py_wall, 1),
                "rscript_s": round(r_wall, 1),
                "ratio": round(py_wall / r_wall, 2),
                "job_peak_mb": round(job["max_rss"]),
                "max_rel_F_diff": float(((ours.loc[reference.index] - reference).abs() / reference.abs()).max()),
            }
        )
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(
        f"all models: pymer4 route {table['pymer4_s'].sum():.1f} s, Rscript {table['rscript_s'].sum():.1f} s, "
        f"ratio {table['pymer4_s'].sum() / table['rscript_s'].sum():.2f}"
    )


if __name__ == "__main__":
    main()
