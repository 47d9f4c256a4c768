"""Gather the per-participant EMG outputs into the group tables of the statistics stages."""

from mimicry.gather import concat_summaries, concat_tables, read_participants
from mimicry.joblog import job_log

with job_log(snakemake.log[0], "gather_emg") as log:
    participants = read_participants(snakemake.input.participants)
    windows = concat_tables(snakemake.input.windows, participants)
    timecourse = concat_tables(snakemake.input.timecourse, participants)
    emg_rejections = concat_summaries(snakemake.input.summaries, participants)
    windows.to_parquet(snakemake.output.windows, index=False)
    timecourse.to_parquet(snakemake.output.timecourse, index=False)
    emg_rejections.to_csv(snakemake.output.emg_rejections, sep="\t", index=False)
    excluded = emg_rejections.loc[emg_rejections["status"] != "ok", "participant"].unique()
    log.info("%d participants, %d excluded %s", participants.shape[0], len(excluded), list(excluded))
