"""The full asymptotic model in one universe of the multiverse: its drug contrasts and its diagnostics (the
gate's verdict kept as a column: a universe's model that misses the gate is reported as such, not stopped)."""

import pandas as pd

from mimicry.bayes.contrasts import drug_contrasts
from mimicry.bayes.diagnostics import diagnostics_row, summary
from mimicry.bayes.model import Cells
from mimicry.bayes.sampling import fit
from mimicry.joblog import job_log
from mimicry.multiverse.bayes import universe_model_data
from mimicry.settings import Diagnostics, Priors, Sampling

with job_log(snakemake.log[0], "multiverse_bayes") as log:
    settings, study = snakemake.params.bayes, snakemake.params.study
    number = int(snakemake.wildcards.universe)
    sampling = Sampling.from_config(settings, cores=snakemake.threads)
    data = universe_model_data(pd.read_parquet(snakemake.input.means), number, snakemake.params.window_s)
    cells = Cells.of(data, study["groups"], study["muscles"], study["emotions"])
    fitted = fit(data, cells, "full", Priors.from_config(settings), sampling)
    table = summary(fitted.posterior, "full", settings["hdi_prob"])
    diagnostics = diagnostics_row(fitted, table, sampling, Diagnostics.from_config(settings["diagnostics"]), len(data))
    log.info(
        "universe %d: %d rows; sampled in %.1f s; %s",
        number,
        len(data),
        fitted.seconds,
        diagnostics["problems"] or "passes the gate",
    )
    contrasts = drug_contrasts(
        fitted.posterior, "full", study["reference_group"], settings["hdi_prob"], diagnostics["converged"]
    )
    contrasts.insert(0, "universe", number)
    contrasts.to_csv(snakemake.output.contrasts, sep="\t", index=False)
    pd.DataFrame([{"universe": number, **diagnostics}]).to_csv(snakemake.output.diagnostics, sep="\t", index=False)
