"""The multiverse's figures: the specification curve and the forks' shares of the variance."""

import pandas as pd

from mimicry.joblog import job_log
from mimicry.multiverse.figures import decisions_figure, specification_curve
from mimicry.qc import save

with job_log(snakemake.log[0], "multiverse_figures"):
    specifications = pd.read_csv(snakemake.input.specifications, sep="\t")
    universes = pd.read_csv(snakemake.input.universes, sep="\t")
    out = snakemake.output
    save(specification_curve(specifications, universes, snakemake.params.forks), out.curve_pdf, out.curve_png)
    save(decisions_figure(pd.read_csv(snakemake.input.decisions, sep="\t")), out.decisions_pdf, out.decisions_png)
