"""Draw Figure 1: log EMG by muscle x window x drug, per emotion."""

import pandas as pd

from mimicry.figures import figure1, group_styles
from mimicry.joblog import job_log
from mimicry.qc import save

with job_log(snakemake.log[0], "figure1"):
    styles = group_styles(snakemake.params.groups, snakemake.params.reference_group)
    save(figure1(pd.read_parquet(snakemake.input.windows), styles), snakemake.output.pdf, snakemake.output.png)
