"""Draw one participant's EMG quality-control figure (PDF and PNG)."""

import pandas as pd

from mimicry.figures import emg_qc, save
from mimicry.jobs import job_log

snakemake = snakemake  # noqa: F821 (injected by Snakemake)

with job_log(snakemake.log[0], "emg_qc_figure"):
    summary = pd.read_csv(snakemake.input.summary, sep="\t", dtype={"participant": str}, keep_default_na=False)
    figure = emg_qc(pd.read_parquet(snakemake.input.timecourse), summary, snakemake.wildcards.participant)
    save(figure, snakemake.output.pdf, snakemake.output.png)
