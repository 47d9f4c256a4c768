"""Simulate one batch of studies of one power-grid cell by the fast path and apply the Bayesian decision rules to
each (the rules' models compiled once for the batch)."""

from mimicry.bayes.power import run_batch
from mimicry.jobs import job_log
from mimicry.power import PowerBatch

with job_log(snakemake.log[0], "power_bayes_batch") as log:
    batch = PowerBatch.from_params(snakemake.params.batch, rules="bayes")
    log.info("%s", batch.description)
    table = run_batch(snakemake.params.config, snakemake.input.stimuli, batch.cell, batch.replicates)
    table.to_parquet(snakemake.output[0], index=False)
    log.info(
        "HDIs excluding 0: %d of %d contrasts; covering the planted contrast: %d; fits missing the gate: %d",
        table["excludes_zero"].sum(),
        len(table),
        table["covered"].sum(),
        (~table.drop_duplicates("replicate")["converged"]).sum(),
    )
