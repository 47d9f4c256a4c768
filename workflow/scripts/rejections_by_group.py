"""Compare the numbers of rejected trials (EMG and RT) between drug groups."""

import pandas as pd

from mimicry.joblog import job_log
from mimicry.table1 import rejections_by_group

with job_log(snakemake.log[0], "rejections_by_group") as log:
    emg = pd.read_csv(snakemake.input.emg, sep="\t", dtype={"participant": str}, keep_default_na=False)
    rt = pd.read_csv(snakemake.input.rt, sep="\t", dtype={"participant": str}) if snakemake.input.rt else None
    table = rejections_by_group(emg, rt, snakemake.params.groups)
    table.to_csv(snakemake.output[0], sep="\t", index=False)
    log.info("\n%s", table.to_string(index=False))
