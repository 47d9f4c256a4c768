"""Draw Figure S2: response times by emotion x drug."""

import pandas as pd

from mimicry.figures import figure_s2, group_styles
from mimicry.joblog import job_log
from mimicry.qc import save

with job_log(snakemake.log[0], "figure_s2"):
    styles = group_styles(snakemake.params.groups, snakemake.params.reference_group)
    save(figure_s2(pd.read_parquet(snakemake.input.rt), styles), snakemake.output.pdf, snakemake.output.png)
