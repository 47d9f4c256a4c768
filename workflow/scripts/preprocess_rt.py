"""Clean one participant's response times: z-score within participant, flag outliers, keep correct trials."""

import pandas as pd

from mimicry.jobs import job_log
from mimicry.rt import clean_response_times

snakemake = snakemake  # noqa: F821 (injected by Snakemake)

with job_log(snakemake.log[0], "preprocess_rt") as log:
    label = snakemake.wildcards.participant
    events = pd.read_csv(snakemake.input.events, sep="\t", na_values=["n/a"], keep_default_na=False,
                         dtype={"video": str, "face": str, "trial_type": str, "response": str})
    trials = events[events["block"] > 0].sort_values("trial").reset_index(drop=True)
    table = clean_response_times(trials, label, snakemake.params.n_sd)
    table.to_parquet(snakemake.output[0], index=False)
    log.info("sub-%s: %d trials, %d correct, %d RT outliers", label, len(table),
             int((table["response"] == "correct").sum()), int(table["rt_outlier"].sum()))
