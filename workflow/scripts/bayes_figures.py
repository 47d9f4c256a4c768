"""Figure 2 (curve, prior curves, data with the no-drug model's band) and Figure 3 (posteriors of the fixed effects
and the drug - reference contrasts)."""

import numpy as np
import pandas as pd

from mimicry.bayes.model import model_data
from mimicry.bayes.predictive import population_curve_band, prior_curves
from mimicry.bayes.sampling import load_posterior
from mimicry.figures import figure2, figure3, group_styles
from mimicry.joblog import job_log
from mimicry.qc import save
from mimicry.settings import Priors

with job_log(snakemake.log[0], "bayes_figures") as log:
    settings = snakemake.params.bayes
    failed = {  # the parameter classes that missed the gate, for the figures' banners
        model: str(pd.read_csv(path, sep="\t", keep_default_na=False)["failed_classes"].iloc[0])
        for model, path in zip(("full", "no_drug"), snakemake.input.diagnostics, strict=True)
    }
    data = model_data(pd.read_parquet(snakemake.input.table), "participant")
    times = np.linspace(0.0, data["time"].max(), 81)
    band = population_curve_band(load_posterior(snakemake.input.no_drug), times, settings["hdi_prob"])
    curves = prior_curves(Priors.from_config(settings), settings["prior_predictive_draws"], settings["seed"], times)
    save(
        figure2(data, curves, times, band, (0.1, 0.0, 0.25), settings["hdi_prob"], failed["no_drug"]),
        snakemake.output.figure2_pdf,
        snakemake.output.figure2_png,
    )
    save(
        figure3(
            load_posterior(snakemake.input.full),
            pd.read_csv(snakemake.input.contrasts, sep="\t"),
            group_styles(snakemake.params.groups, snakemake.params.reference_group),
            failed["full"],
        ),
        snakemake.output.figure3_pdf,
        snakemake.output.figure3_png,
    )
    log.info("Figure 2 from %d participant means, Figure 3 from the full model", len(data))
