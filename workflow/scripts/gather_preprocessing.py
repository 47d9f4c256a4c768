"""Gather the per-participant EMG and RT outputs into the group tables of the statistics stages."""

from mimicry.gather import concat_summaries, concat_tables, read_participants, rejection_rates
from mimicry.jobs import job_log
from mimicry.rt import summarize_response_times

snakemake = snakemake  # noqa: F821 (injected by Snakemake)

with job_log(snakemake.log[0], "gather_preprocessing") as log:
    participants = read_participants(snakemake.input.participants)
    windows = concat_tables(snakemake.input.windows, participants)
    timecourse = concat_tables(snakemake.input.timecourse, participants)
    rt = concat_tables(snakemake.input.rt, participants)
    emg_rejections = concat_summaries(snakemake.input.summaries, participants)
    rt_summary = summarize_response_times(rt)
    rt_summary.insert(1, "group", rt_summary["participant"].map(participants.set_index("participant")["group"]))
    rates = rejection_rates(windows, rt)

    windows.to_parquet(snakemake.output.windows, index=False)
    timecourse.to_parquet(snakemake.output.timecourse, index=False)
    rt.to_parquet(snakemake.output.rt, index=False)
    emg_rejections.to_csv(snakemake.output.emg_rejections, sep="\t", index=False)
    rt_summary.to_csv(snakemake.output.rt_summary, sep="\t", index=False)
    rates.to_csv(snakemake.output.rates, sep="\t", index=False)
    excluded = emg_rejections.loc[emg_rejections["status"] != "ok", "participant"].unique()
    log.info("%d participants, %d excluded %s", participants.shape[0], len(excluded), list(excluded))
    log.info("rejection rates:\n%s", rates.to_string())
