"""Simulate one batch of studies of one power-grid cell by the fast path and apply the decision rules to each,
in one fresh R process."""

from mimicry.joblog import job_log
from mimicry.power.lmm_rules import run_batch_here
from mimicry.power.planning import PowerBatch, rule_specs
from mimicry.power.studies import StudyTemplate
from mimicry.rsession import call_in_fresh_r
from mimicry.settings import PowerTarget

with job_log(snakemake.log[0], "power_batch") as log:
    config = snakemake.params.job["config"]
    batch = PowerBatch.from_params(snakemake.params.job["batch"])
    log.info("%s", batch.description)
    template = StudyTemplate.from_sections(
        config["study"], config["simulation"], config["preprocessing"]["emg"], snakemake.input.stimuli
    )
    power = config["power"]
    target = PowerTarget.from_config(power["target"])
    specs = rule_specs(config, template.study, target)
    table = call_in_fresh_r(
        run_batch_here, template, target, power["seed"], power["alpha"], specs, batch.cell, batch.replicates
    )
    table.to_parquet(snakemake.output[0], index=False)
    log.info("detections per rule: %s", table.groupby("rule")["detected"].sum().to_dict())
