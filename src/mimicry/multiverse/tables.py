"""The multiverse's group tables: every participant's universe means in one table, and ``universes.tsv`` (each
universe's choices, the trials it keeps and its rejection rate)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from mimicry.multiverse.forks import Universe
from mimicry.multiverse.participant import MEANS_COLUMNS, SUMMARY_COLUMNS


def gathered_means(tables: Sequence[pd.DataFrame], participants: pd.DataFrame) -> pd.DataFrame:
    """The participants' universe means in one table (:data:`MEANS_COLUMNS`, each participant's ``group`` from
    ``participants.tsv`` after ``participant``), by universe then participant."""
    means = pd.concat([table.astype(MEANS_COLUMNS) for table in tables], ignore_index=True)
    means.insert(2, "group", means["participant"].map(participants.set_index("participant")["group"]).astype("string"))
    order = ["universe", "participant", "muscle", "emotion", "window"]
    return means.sort_values(order).reset_index(drop=True)


def universe_table(universes: Sequence[Universe], summaries: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """One row per universe: its number, whether it is the main analysis's, its option of every fork, and over
    every participant and muscle the trials in the recordings, those rejected, and the rejection rate."""
    counts = pd.concat([table.astype(SUMMARY_COLUMNS) for table in summaries], ignore_index=True)
    totals = counts.groupby("universe")[["trials", "rejected"]].sum()
    rows = []
    for universe in universes:
        trials, rejected = (
            int(totals.at[universe.number, c]) if universe.number in totals.index else 0 for c in ("trials", "rejected")
        )
        rows.append(
            {
                "universe": universe.number,
                "main": universe.number == 1,
                **universe.choices,
                "trials": trials,
                "rejected": rejected,
                "rejection_rate": rejected / trials if trials else float("nan"),
            }
        )
    return pd.DataFrame(rows)
