"""Validate the user's already-preprocessed RT table and write it as the workflow's RT table, with its counts per
participant."""

from mimicry.joblog import job_log
from mimicry.rt import summarize_response_times
from mimicry.study import Study
from mimicry.tables import import_rt_table

with job_log(snakemake.log[0], "import_rt") as log:
    rt = import_rt_table(snakemake.input.table, Study.from_config(snakemake.params.study))
    rt_summary = summarize_response_times(rt)
    rt_summary.insert(1, "group", rt_summary["participant"].map(rt.groupby("participant")["group"].first()))
    rt.to_parquet(snakemake.output.rt, index=False)
    rt_summary.to_csv(snakemake.output.rt_summary, sep="\t", index=False)
    log.info("imported %d RT rows (%d participants)", len(rt), rt["participant"].nunique())
