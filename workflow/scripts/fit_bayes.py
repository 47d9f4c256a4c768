"""Sample one nested asymptotic model, gate it on its diagnostics, and write its posterior and summaries."""

import json
from concurrent.futures import ThreadPoolExecutor

import pandas as pd

from mimicry.bayes.compare import lopo_pointwise, observation_criteria
from mimicry.bayes.contrasts import drug_contrasts
from mimicry.bayes.diagnostics import diagnostics_row, enforce_gate, fixed_effects, summary
from mimicry.bayes.model import Cells, model_data
from mimicry.bayes.predictive import (
    posterior_predictive_table,
    prior_predictive,
    prior_predictive_table,
)
from mimicry.bayes.sampling import fit, save_posterior
from mimicry.bayes.sensitivity import sensitivity_table
from mimicry.check_findings import posterior_predictive_verdict
from mimicry.joblog import job_log
from mimicry.settings import Diagnostics, Priors, Sampling

with job_log(snakemake.log[0], "fit_bayes") as log:
    settings, study = snakemake.params.bayes, snakemake.params.study
    model = snakemake.wildcards.model
    priors = Priors.from_config(settings)
    sampling = Sampling.from_config(settings, cores=snakemake.threads)
    gate = Diagnostics.from_config(settings["diagnostics"])
    data = model_data(pd.read_parquet(snakemake.input.table), settings["data_level"])
    cells = Cells.of(data, study["groups"], study["muscles"], study["emotions"])
    log.info(
        "model %s (%s, %s): %d rows, %d participants, %d chains x (%d warm-up + %d draws) on %d cores",
        model,
        sampling.variant,
        sampling.sampler,
        len(data),
        len(cells.participants),
        sampling.chains,
        sampling.warmup,
        sampling.draws,
        sampling.cores,
    )

    fitted = fit(data, cells, model, priors, sampling)
    # the model comparison's criteria need only the posterior: given a second core, they run beside the summaries
    # (on one core, first: shutdown waits for them)
    beside = ThreadPoolExecutor(max_workers=1)
    criteria = [beside.submit(f, fitted.posterior, data) for f in (lopo_pointwise, observation_criteria)]
    if snakemake.threads == 1:
        beside.shutdown()
    table = summary(fitted.posterior, model, settings["hdi_prob"])
    diagnostics = diagnostics_row(fitted, table, sampling, gate, len(data))
    log.info(
        "sampled in %.1f s; divergences %d; max R-hat %.4f; min bulk ESS %.0f; %s",
        fitted.seconds,
        diagnostics["divergences"],
        diagnostics["max_rhat"],
        diagnostics["min_ess_bulk"],
        diagnostics["problems"] or "passes the gate",
    )
    warning = enforce_gate(diagnostics, gate)
    if warning:
        log.warning(warning)
    predicted = prior_predictive(data, cells, model, priors, sampling, settings["prior_predictive_draws"])

    save_posterior(
        fitted,
        data,
        snakemake.output.posterior,
        {"model": model, "converged": diagnostics["converged"], "settings": json.dumps(settings)},
    )
    table.to_csv(snakemake.output.summary, sep="\t", index=False)
    fixed_effects(table, diagnostics["converged"]).to_csv(snakemake.output.fixed_effects, sep="\t", index=False)
    pd.DataFrame([diagnostics]).to_csv(snakemake.output.diagnostics, sep="\t", index=False)
    contrasts = drug_contrasts(
        fitted.posterior, model, study["reference_group"], settings["hdi_prob"], diagnostics["converged"]
    )
    contrasts.to_csv(snakemake.output.contrasts, sep="\t", index=False)
    by_participant, pointwise = (future.result() for future in criteria)
    beside.shutdown()
    pointwise.to_parquet(snakemake.output.pointwise, index=False)
    by_participant.to_parquet(snakemake.output.participants, index=False)
    prior_predictive_table(data, predicted).to_csv(snakemake.output.prior_predictive, sep="\t", index=False)
    replicated = posterior_predictive_table(fitted.posterior, data, settings["hdi_prob"], sampling.seed)
    replicated.to_csv(snakemake.output.posterior_predictive, sep="\t", index=False)
    sensitivity = sensitivity_table(fitted.posterior, data, priors, study["reference_group"])
    sensitivity.to_csv(snakemake.output.sensitivity, sep="\t", index=False)
    fits, outside, bound = posterior_predictive_verdict(replicated, settings["hdi_prob"])
    log.info(
        "posterior predictive check: %d of %d group x cell x window means outside their interval (chance: <= %d)%s",
        outside,
        len(replicated),
        bound,
        "" if fits else "; the model misses the data",
    )
