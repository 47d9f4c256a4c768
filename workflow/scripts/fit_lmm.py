"""Fit one of the study's linear mixed models (pymer4 -> lme4/lmerTest/emmeans) and write its tables."""

import pandas as pd

from mimicry.figures import lmm_residual_figure
from mimicry.joblog import job_log
from mimicry.lmm import fit_with_fallbacks, model_data, result_tables
from mimicry.lmm_specs import LmmSpec
from mimicry.qc import save

with job_log(snakemake.log[0], "fit_lmm") as log:
    spec = LmmSpec.from_params(snakemake.params.model)
    participants = (
        pd.read_csv(snakemake.input.participants, sep="\t", na_values=["n/a"], keep_default_na=False)
        if spec.covariates
        else None
    )
    data, factors, trend = model_data(spec, pd.read_parquet(snakemake.input.table), participants)
    result, attempts = fit_with_fallbacks(
        data, spec.formulas, factors, trend, spec.trend_df, spec.contrasts, check_cores=snakemake.threads
    )
    for attempt in attempts:
        log.info(
            "fitted %s on %d rows in %.1f s; converged=%s; warnings=%s",
            attempt.formula,
            attempt.n_observations,
            attempt.seconds,
            attempt.converged,
            attempt.warnings,
        )
    tables = result_tables(result, spec.name, attempts)
    used = tables["info"].loc[tables["info"]["used"]].iloc[0]
    if used["verdict"] != "no warning":
        log.info(
            "convergence check: %s across %d refits (%d failed, %d below the best likelihood; %.1f s)%s%s%s",
            used["verdict"],
            used["refits"],
            used["refits_failed"],
            used["refits_below_optimum"],
            used["check_seconds"],
            f"; terms that differ: {used['unstable_terms']}" if used["unstable_terms"] else "",
            f"; at the boundary: {used['boundary']}" if used["boundary"] else "",
            f"; without it ({used['without_boundary']}), tests that differ: {used['without_boundary_differs']}"
            if used["without_boundary"]
            else "",
        )
    for name in ("anova", "fixed_effects", "info", "optimizers"):
        tables[name].to_csv(snakemake.output[name], sep="\t", index=False)
    if "trends" in snakemake.output.keys():
        tables["trends"].to_csv(snakemake.output.trends, sep="\t", index=False)
    by = (data["emotion"] if spec.kind == "rt" else data["time"].rename("window")).reset_index(drop=True)
    figure = lmm_residual_figure(result.residuals["residual"], by, f"{spec.label}: {result.formula}")
    save(figure, snakemake.output.residuals_pdf, snakemake.output.residuals_png)
