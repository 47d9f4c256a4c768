"""Simulate one batch of studies of one power-grid cell by the fast path and apply the decision rules to each,
in one fresh R process."""

from mimicry.jobs import job_log
from mimicry.power import PowerBatch, run_batch_here
from mimicry.rsession import call_in_fresh_r

with job_log(snakemake.log[0], "power_batch") as log:
    batch = PowerBatch.from_params(snakemake.params.batch)
    log.info("%s", batch.description)
    table = call_in_fresh_r(
        run_batch_here, snakemake.params.config, snakemake.input.stimuli, batch.cell, batch.replicates
    )
    table.to_parquet(snakemake.output[0], index=False)
    log.info("detections per rule: %s", table.groupby("rule")["detected"].sum().to_dict())
