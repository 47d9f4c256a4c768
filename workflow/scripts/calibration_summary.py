"""The calibration's ranks in one table, their uniformity per quantity and the ECDF figure (mimicry.calibration)."""

import pandas as pd

from mimicry.calibration import uniformity_table
from mimicry.figures import calibration_figure
from mimicry.joblog import job_log
from mimicry.qc import save

with job_log(snakemake.log[0], "calibration_summary") as log:
    ranks = pd.concat([pd.read_parquet(path) for path in snakemake.input.batches], ignore_index=True)
    ranks.to_parquet(snakemake.output.ranks, index=False)
    uniformity = uniformity_table(ranks)
    uniformity.to_csv(snakemake.output.uniformity, sep="\t", index=False)
    save(calibration_figure(ranks), snakemake.output.figure_pdf, snakemake.output.figure_png)
    log.info(
        "%d simulations; not uniform: %s",
        ranks["simulation"].nunique(),
        ", ".join(uniformity.loc[~uniformity["uniform"], "quantity"]) or "none",
    )
