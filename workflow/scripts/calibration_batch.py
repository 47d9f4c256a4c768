"""Draw, simulate, fit and rank one batch of the simulation-based calibration (mimicry.calibration)."""

from mimicry.calibration import CalibrationSettings, Design, run_batch
from mimicry.joblog import job_log
from mimicry.settings import Diagnostics, Priors

with job_log(snakemake.log[0], "calibration_batch") as log:
    config = snakemake.params.config
    settings = CalibrationSettings.from_config(config["calibration"])
    bayes = config["bayes"]
    design = Design(**config["design"])
    simulations = snakemake.params.simulations
    log.info(
        "simulations %d-%d of %d; model %s; %d chains x (%d warm-up + %d draws); ranks among %d draws",
        simulations[0],
        simulations[-1],
        settings.simulations,
        settings.model,
        settings.chains,
        settings.warmup,
        settings.draws,
        settings.ranks,
    )
    table = run_batch(
        settings,
        simulations,
        design,
        Priors.from_config(bayes),
        bayes["variant"],
        bayes["target_accept"],
        Diagnostics.from_config(bayes["diagnostics"]),
        config["reference_group"],
    )
    table.to_parquet(snakemake.output[0], index=False)
    fits = table.drop_duplicates("simulation")
    log.info("fits missing the gate: %d of %d", (~fits["converged"]).sum(), len(fits))
