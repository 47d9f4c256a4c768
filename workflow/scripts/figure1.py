"""Draw Figure 1: log EMG by muscle x window x drug, per emotion."""

import pandas as pd

from mimicry.figures import figure1
from mimicry.jobs import job_log
from mimicry.qc import save

with job_log(snakemake.log[0], "figure1"):
    save(figure1(pd.read_parquet(snakemake.input.windows)), snakemake.output.pdf, snakemake.output.png)
