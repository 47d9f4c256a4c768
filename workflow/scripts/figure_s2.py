"""Draw Figure S2: response times by emotion x drug."""

import pandas as pd

from mimicry.figures import figure_s2
from mimicry.jobs import job_log
from mimicry.qc import save

with job_log(snakemake.log[0], "figure_s2"):
    save(figure_s2(pd.read_parquet(snakemake.input.rt)), snakemake.output.pdf, snakemake.output.png)
