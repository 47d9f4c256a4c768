"""Clean one participant's response times: z-score within participant, flag outliers, keep correct trials."""

from mimicry.bids.read import read_trials
from mimicry.joblog import job_log
from mimicry.rt import clean_response_times

with job_log(snakemake.log[0], "preprocess_rt") as log:
    label = snakemake.wildcards.participant
    trials = read_trials(snakemake.input.events)
    table = clean_response_times(trials, label, snakemake.params.n_sd)
    table.to_parquet(snakemake.output[0], index=False)
    log.info(
        "sub-%s: %d trials, %d correct, %d RT outliers",
        label,
        len(table),
        int((table["response"] == "correct").sum()),
        int(table["rt_outlier"].sum()),
    )
