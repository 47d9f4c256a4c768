"""The multiverse's group tables: every participant's universe means, and each universe's choices and rejections."""

import pandas as pd

from mimicry.gather import read_participants
from mimicry.joblog import job_log
from mimicry.multiverse.forks import universes as universes_of
from mimicry.multiverse.tables import gathered_means, universe_table

with job_log(snakemake.log[0], "multiverse_gather") as log:
    universes = universes_of(snakemake.params.plan)
    participants = read_participants(snakemake.input.participants)
    means = gathered_means([pd.read_parquet(path) for path in snakemake.input.means], participants)
    table = universe_table(
        universes, [pd.read_csv(path, sep="\t", dtype={"participant": str}) for path in snakemake.input.universes]
    )
    log.info(
        "%d universes, %d participants; rejection rate %.1f%% to %.1f%% (main analysis %.1f%%)",
        len(table),
        means["participant"].nunique(),
        100 * table["rejection_rate"].min(),
        100 * table["rejection_rate"].max(),
        100 * table["rejection_rate"].iloc[0],
    )
    means.to_parquet(snakemake.output.means, index=False)
    table.to_csv(snakemake.output.universes, sep="\t", index=False)
