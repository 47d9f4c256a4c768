"""Rejection rates over all participants and per drug group, beside the paper's."""

import pandas as pd

from mimicry.gather import rejection_rates
from mimicry.joblog import job_log

with job_log(snakemake.log[0], "rejection_rates") as log:
    rt = pd.read_parquet(snakemake.input.rt) if snakemake.input.rt else None
    rates = rejection_rates(pd.read_parquet(snakemake.input.windows), rt, snakemake.params.papers_design)
    rates.to_csv(snakemake.output.rates, sep="\t", index=False)
    log.info("rejection rates:\n%s", rates.to_string())
