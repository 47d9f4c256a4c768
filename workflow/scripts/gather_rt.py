"""Gather the per-recording response times into the group RT table and its per-recording counts."""

from pathlib import Path

from mimicry.crossover import read_sessions
from mimicry.gather import concat_tables, read_participants, with_drug
from mimicry.joblog import job_log
from mimicry.rt import summarize_response_times
from mimicry.study import Study

with job_log(snakemake.log[0], "gather_rt") as log:
    study = Study.from_config(snakemake.params.study)
    participants = read_participants(snakemake.input.participants)
    root = Path(snakemake.input.participants).parent
    sessions = read_sessions(root, snakemake.params.participants, study) if study.crossover else None
    rt = concat_tables(snakemake.input.rt, participants, sessions)
    rt_summary = with_drug(
        summarize_response_times(rt.drop(columns=["group", "period", "sequence"], errors="ignore")),
        participants,
        sessions,
    )
    rt.to_parquet(snakemake.output.rt, index=False)
    rt_summary.to_csv(snakemake.output.rt_summary, sep="\t", index=False)
    log.info(
        "%d recordings, %d trials, %d kept for the RT models",
        rt_summary.shape[0],
        len(rt),
        int(rt["rt_included"].sum()),
    )
