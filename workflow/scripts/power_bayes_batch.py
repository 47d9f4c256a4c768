"""Simulate one batch of studies of one power-grid cell by the fast path and apply the Bayesian decision rules to
each (the rules' models compiled once for the batch)."""

from mimicry.joblog import job_log
from mimicry.power.bayes_rules import RuleSampling, run_batch
from mimicry.power.planning import PowerBatch
from mimicry.power.studies import StudyTemplate
from mimicry.settings import Diagnostics, PowerBayesSettings, PowerTarget, Priors

with job_log(snakemake.log[0], "power_bayes_batch") as log:
    config = snakemake.params.job["config"]
    power, bayes = config["power"], config["statistics"]["bayes"]
    batch = PowerBatch.from_params(snakemake.params.job["batch"], rules="bayes")
    log.info("%s", batch.description)
    sampling = RuleSampling(
        PowerBayesSettings(**power["bayes"]),
        bayes["target_accept"],
        bayes["hdi_prob"],
        Diagnostics.from_config(bayes["diagnostics"]),
    )
    template = StudyTemplate.from_sections(
        config["study"], config["simulation"], config["preprocessing"]["emg"], snakemake.input.stimuli
    )
    table = run_batch(
        template,
        PowerTarget.from_config(power["target"]),
        power["seed"],
        sampling,
        Priors.from_config(bayes),
        batch.cell,
        batch.replicates,
    )
    table.to_parquet(snakemake.output[0], index=False)
    log.info(
        "HDIs excluding 0: %d of %d contrasts; covering the planted contrast: %d; fits missing the gate: %d",
        table["excludes_zero"].sum(),
        len(table),
        table["covered"].sum(),
        (~table.drop_duplicates("replicate")["converged"]).sum(),
    )
