"""Gather the per-participant response times into the group RT table and its per-participant counts."""

from mimicry.gather import concat_tables, read_participants
from mimicry.joblog import job_log
from mimicry.rt import summarize_response_times

with job_log(snakemake.log[0], "gather_rt") as log:
    participants = read_participants(snakemake.input.participants)
    rt = concat_tables(snakemake.input.rt, participants)
    rt_summary = summarize_response_times(rt)
    rt_summary.insert(1, "group", rt_summary["participant"].map(participants.set_index("participant")["group"]))
    rt.to_parquet(snakemake.output.rt, index=False)
    rt_summary.to_csv(snakemake.output.rt_summary, sep="\t", index=False)
    log.info(
        "%d participants, %d trials, %d kept for the RT models",
        rt_summary.shape[0],
        len(rt),
        int(rt["rt_included"].sum()),
    )
