"""Gather the per-recording EMG outputs into the group tables of the statistics stages."""

from pathlib import Path

from mimicry.crossover import read_sessions
from mimicry.gather import concat_summaries, concat_tables, read_participants
from mimicry.joblog import job_log
from mimicry.study import Study

with job_log(snakemake.log[0], "gather_emg") as log:
    study = Study.from_config(snakemake.params.study)
    participants = read_participants(snakemake.input.participants)
    root = Path(snakemake.input.participants).parent
    sessions = read_sessions(root, snakemake.params.participants, study) if study.crossover else None
    windows = concat_tables(snakemake.input.windows, participants, sessions)
    timecourse = concat_tables(snakemake.input.timecourse, participants, sessions)
    emg_rejections = concat_summaries(snakemake.input.summaries, participants, sessions)
    windows.to_parquet(snakemake.output.windows, index=False)
    timecourse.to_parquet(snakemake.output.timecourse, index=False)
    emg_rejections.to_csv(snakemake.output.emg_rejections, sep="\t", index=False)
    excluded = emg_rejections.loc[emg_rejections["status"] != "ok", "participant"].unique()
    log.info("%d participants, %d excluded %s", participants.shape[0], len(excluded), list(excluded))
