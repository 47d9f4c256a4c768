"""Clean one recording's response times: z-score within the recording (a participant's, or a crossover's
session), flag outliers, keep correct trials."""

from mimicry.bids.layout import recording_name
from mimicry.bids.read import read_trials
from mimicry.gather import with_session
from mimicry.joblog import job_log
from mimicry.rt import clean_response_times

with job_log(snakemake.log[0], "preprocess_rt") as log:
    label = snakemake.wildcards.participant
    session = snakemake.wildcards.get("session")  # a crossover's session; None without sessions
    trials = read_trials(snakemake.input.events)
    table = with_session(clean_response_times(trials, label, snakemake.params.n_sd), session)
    table.to_parquet(snakemake.output[0], index=False)
    log.info(
        "%s: %d trials, %d correct, %d RT outliers",
        recording_name(label, session),
        len(table),
        int((table["response"] == "correct").sum()),
        int(table["rt_outlier"].sum()),
    )
