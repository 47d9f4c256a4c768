"""Table 2: WAIC, PSIS-LOO and leave-one-participant-out of the nested asymptotic models (weights, reliability),
and every model's drug - reference contrasts in one table."""

import pandas as pd

from mimicry.bayes.compare import compare_models, format_table2
from mimicry.joblog import job_log

with job_log(snakemake.log[0], "compare_bayes") as log:
    models = snakemake.params.models
    pointwise = {model: pd.read_parquet(path) for model, path in zip(models, snakemake.input.pointwise, strict=True)}
    participants = {
        model: pd.read_parquet(path) for model, path in zip(models, snakemake.input.participants, strict=True)
    }
    diagnostics = pd.concat([pd.read_csv(path, sep="\t") for path in snakemake.input.diagnostics])
    draws = int((diagnostics["chains"] * diagnostics["draws"]).min())
    converged = dict(zip(diagnostics["model"], diagnostics["converged"].astype(bool), strict=True))
    table = compare_models(pointwise, draws, participants, converged)
    table = table.merge(diagnostics[["model", "failed_classes"]].fillna(""), on="model")
    for row in table.itertuples():
        log.info(
            "%s: WAIC %.1f (weight %.3f), LOOIC %.1f (weight %.3f), stacking %.3f, bad Pareto k: %d; "
            "leave-one-participant-out elpd %.1f (weight %.3f)%s",
            row.model,
            row.waic,
            row.weight_waic,
            row.looic,
            row.weight_loo,
            row.weight_stacking,
            row.pareto_k_bad,
            row.elpd_lopo,
            row.weight_lopo,
            "" if row.converged else f"; did not pass the gate ({row.failed_classes}): no weight",
        )
    table.to_csv(snakemake.output.table, sep="\t", index=False)
    with open(snakemake.output.markdown, "w", encoding="utf-8") as handle:
        handle.write(format_table2(table))
    contrasts = pd.concat([pd.read_csv(path, sep="\t") for path in snakemake.input.contrasts], ignore_index=True)
    contrasts.to_csv(snakemake.output.contrasts, sep="\t", index=False)
    log.info(
        "%d drug - reference contrasts, %d with an HDI excluding 0", len(contrasts), contrasts["excludes_zero"].sum()
    )
