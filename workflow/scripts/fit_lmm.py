"""Fit one of the paper's linear mixed models (pymer4 -> lme4/lmerTest/emmeans) and write its tables."""

import pandas as pd

from mimicry.jobs import job_log
from mimicry.lmm import emg_model_data, fit_with_fallbacks, result_tables, rt_model_data

with job_log(snakemake.log[0], "fit_lmm") as log:
    spec = snakemake.params.model
    table = pd.read_parquet(snakemake.input.table)
    if spec["kind"] == "rt":
        data = rt_model_data(table)
        factors = {"emotion": spec["emotions"], "drug": spec["groups"]}
        trend = None
    else:
        data = emg_model_data(table, spec["muscle"])
        factors = {"emotion": spec["emotions"], "drug": spec["groups"]}
        trend = ("time", "emotion")
        if spec.get("emotion"):  # the follow-up model: one emotion, no emotion factor
            data = data[data["emotion"] == spec["emotion"]]
            factors.pop("emotion")
            trend = ("time", "drug")
    result, attempts = fit_with_fallbacks(data, [spec["formula"], *spec["fallbacks"]], factors, trend, spec["trend_df"])
    for attempt in attempts:
        log.info(
            "fitted %s on %d rows in %.1f s; converged=%s; warnings=%s",
            attempt.formula,
            attempt.n_observations,
            attempt.seconds,
            attempt.converged,
            attempt.warnings,
        )
    tables = result_tables(result, snakemake.wildcards.model, attempts)
    for name in ("anova", "fixed_effects", "info"):
        tables[name].to_csv(snakemake.output[name], sep="\t", index=False)
    if "trends" in snakemake.output.keys():
        tables["trends"].to_csv(snakemake.output.trends, sep="\t", index=False)
