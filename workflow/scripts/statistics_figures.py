"""Draw Figure 1 (log EMG by muscle x window x drug) and Figure S2 (response times by emotion x drug)."""

import pandas as pd

from mimicry.figures import figure1, figure_s2
from mimicry.jobs import job_log
from mimicry.qc import save

with job_log(snakemake.log[0], "statistics_figures"):
    save(figure1(pd.read_parquet(snakemake.input.windows)), snakemake.output.figure1_pdf, snakemake.output.figure1_png)
    save(figure_s2(pd.read_parquet(snakemake.input.rt)), snakemake.output.figure_s2_pdf, snakemake.output.figure_s2_png)
