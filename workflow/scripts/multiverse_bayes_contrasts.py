"""The drug contrasts of the full asymptotic model in the main analysis (universe 1) and in the universes chosen
by multiverse.bayes_universes, each row with its universe's choices."""

import pandas as pd

from mimicry.joblog import job_log

with job_log(snakemake.log[0], "multiverse_bayes_contrasts") as log:
    main = pd.read_csv(snakemake.input.main, sep="\t")
    main.insert(0, "universe", 1)
    tables = [main, *(pd.read_csv(path, sep="\t") for path in snakemake.input.universes)]
    universes = pd.read_csv(snakemake.input.universe_table, sep="\t")
    choices = universes.drop(columns=["trials", "rejected", "rejection_rate"])
    contrasts = pd.concat(tables, ignore_index=True).merge(choices, on="universe", how="left")
    contrasts.to_csv(snakemake.output[0], sep="\t", index=False)
    log.info("%d universes, %d contrasts", contrasts["universe"].nunique(), len(contrasts))
