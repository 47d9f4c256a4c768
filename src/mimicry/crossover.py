"""A crossover's sessions as the analysis uses them: which drug each recording was made under, in which period,
and each participant's sequence of drugs; and how balanced the sequences and periods are."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from mimicry.bids.validate import validate_sessions
from mimicry.errors import DatasetError
from mimicry.gather import SESSION_COLUMNS
from mimicry.study import Study

#: the separator of the drugs in a sequence (drug names are alphanumeric)
SEQUENCE_SEPARATOR = "-"


def read_sessions(root: str | Path, labels: Iterable[str], study: Study) -> pd.DataFrame:
    """Every listed participant's sessions: participant, session, group (the drug of the session), period and
    sequence (the participant's drugs in period order, e.g. ``placebo-amisulpride-naltrexone``), then the files'
    other columns; raises :class:`DatasetError` for a sessions file that does not validate."""
    tables, problems = [], []
    for label in labels:
        sessions, found = validate_sessions(root, label, study)
        problems += found
        tables.append(sessions.assign(participant=label))
    if problems:
        raise DatasetError(problems, "the sessions files")
    table = pd.concat(tables, ignore_index=True).rename(columns={"drug": "group"})
    table["sequence"] = table["participant"].map(sequences(table))
    others = [column for column in table.columns if column not in ("participant", *SESSION_COLUMNS)]
    return table[["participant", *SESSION_COLUMNS, *others]].astype({"period": "int64"})


def sequences(recordings: pd.DataFrame) -> pd.Series:
    """Each participant's sequence: their drugs (``group``) in ``period`` order, joined by ``-``."""
    order = recordings.sort_values(["participant", "period"])
    return order.groupby("participant", sort=False)["group"].agg(SEQUENCE_SEPARATOR.join)


def balance(sessions: pd.DataFrame, drugs: Iterable[str]) -> dict[str, pd.DataFrame]:
    """How balanced a crossover's recordings (participant, group: the drug, period) are: ``sequences`` (each
    sequence and its number of participants), ``periods`` (participants per drug x period) and ``gaps``
    (participants who did not receive every drug: participant, missing drugs)."""
    drugs = list(drugs)
    given = sequences(sessions)
    counted = given.value_counts().rename_axis("sequence").reset_index(name="participants")
    periods = pd.crosstab(sessions["group"], sessions["period"]).reindex(drugs, fill_value=0)
    periods.index.name, periods.columns.name = "drug", None
    received = sessions.groupby("participant")["group"].agg(set)
    gaps = pd.DataFrame(
        [
            (participant, ", ".join(d for d in drugs if d not in given))
            for participant, given in received.items()
            if set(drugs) - given
        ],
        columns=["participant", "missing_drugs"],
    )
    return {
        "sequences": counted.sort_values("sequence", ignore_index=True),
        "periods": periods.reset_index(),
        "gaps": gaps,
    }
