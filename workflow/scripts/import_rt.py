"""Validate the user's already-preprocessed RT table and write it as the workflow's RT table."""

from mimicry.jobs import job_log
from mimicry.study import Study
from mimicry.tables import import_rt_table

with job_log(snakemake.log[0], "import_rt") as log:
    rt = import_rt_table(snakemake.input.table, Study.from_config(snakemake.params.study))
    rt.to_parquet(snakemake.output[0], index=False)
    log.info("imported %d RT rows (%d participants)", len(rt), rt["participant"].nunique())
