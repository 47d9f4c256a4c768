"""Already-preprocessed data as input: trial-level EMG and RT tables a user brings (e.g. from the study's OSF
repository), validated like any input and converted to the workflow's own group tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mimicry.errors import DatasetError, InputError
from mimicry.study import RESPONSE_CATEGORIES, Study
from mimicry.table_columns import RT_DTYPES, WINDOW_DTYPES

#: Required columns of an external EMG table, and the optional ones with their defaults.
EMG_REQUIRED = ("participant", "group", "trial", "emotion", "muscle", "window", "log_emg")
EMG_OPTIONAL = {"face": "n/a", "video": "n/a", "block": 1, "rejected": False, "reason": ""}
#: Required columns of an external RT table, and the optional ones with their defaults.
RT_REQUIRED = ("participant", "group", "trial", "emotion", "response_time")
RT_OPTIONAL = {"face": "n/a", "video": "n/a", "block": 1, "response": "correct", "rt_outlier": False}
MAX_ROWS_SHOWN = 5


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a TSV or CSV (by extension) with every column as text; ``n/a``, ``NA`` and empty cells are missing."""
    separator = "," if str(path).lower().endswith(".csv") else "\t"
    return pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False, na_values=["", "n/a", "NA", "NaN"])


def _rows(mask: pd.Series) -> str:
    """Row numbers as a user sees them in the file (header is line 1, first data row is row 1)."""
    rows = [str(i + 1) for i in np.flatnonzero(mask.to_numpy())]
    shown = ", ".join(rows[:MAX_ROWS_SHOWN])
    return f"row{'s' if len(rows) > 1 else ''} {shown}" + (
        f" and {len(rows) - MAX_ROWS_SHOWN} more" if len(rows) > MAX_ROWS_SHOWN else ""
    )


def _check(
    table: pd.DataFrame,
    path: Path,
    required: Sequence[str],
    numeric: Sequence[str],
    integer: Sequence[str],
    levels: dict[str, Sequence[str]],
    key: Sequence[str],
    may_be_empty: Sequence[str] = (),
) -> list[InputError]:
    problems = []
    missing = [c for c in required if c not in table.columns]
    if missing:
        return [InputError(f"missing required column(s) {missing}; it has {list(table.columns)}", file=path)]
    for column in (c for c in required if c not in may_be_empty):
        empty = table[column].isna()
        if empty.any():
            problems.append(InputError(f"column {column}: missing values in {_rows(empty)}", file=path))
    for column in numeric:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() & table[column].notna()
        if bad.any():
            problems.append(
                InputError(
                    f"column {column}: not a number in {_rows(bad)} (e.g. {table.loc[bad, column].iloc[0]!r})",
                    file=path,
                )
            )
    for column in integer:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.notna() & (values != values.round())
        if bad.any():
            problems.append(InputError(f"column {column}: not a whole number in {_rows(bad)}", file=path))
    for column, allowed in levels.items():
        if column in table.columns:
            bad = table[column].notna() & ~table[column].isin(allowed)
            if bad.any():
                problems.append(
                    InputError(
                        f"column {column}: {sorted(set(table.loc[bad, column]))} not among "
                        f"{list(allowed)} in {_rows(bad)}",
                        file=path,
                    )
                )
    duplicated = table.duplicated(list(key), keep=False)
    if duplicated.any():
        problems.append(InputError(f"{'/'.join(key)} repeated in {_rows(duplicated)}", file=path))
    if "session" in key:  # a crossover: a drug per session, each drug in one session of a participant
        drugs = table.groupby(["participant", "session"])["group"].nunique()
        for participant, session in drugs.index[drugs > 1]:
            problems.append(InputError(f"session {session}: more than one drug", file=path, participant=participant))
        sessions = table.drop_duplicates(["participant", "session"]).groupby(["participant", "group"]).size()
        for participant, drug in sessions.index[sessions > 1]:
            problems.append(
                InputError(
                    f"drug {drug!r} in more than one session; each drug once", file=path, participant=participant
                )
            )
        return problems
    groups = table.groupby("participant")["group"].nunique()
    for participant in groups.index[groups > 1]:
        problems.append(InputError("more than one group", file=path, participant=participant))
    return problems


def _with_sessions(table: pd.DataFrame) -> pd.DataFrame:
    """A crossover's trial table with each recording's period (given, or the order of the participant's session
    labels) and sequence, after ``participant`` and ``session``: the columns the gathered tables have."""
    from mimicry.crossover import sequences

    recordings = table.drop_duplicates(["participant", "session"])[["participant", "session", "group"]]
    if "period" in table.columns:
        recordings = recordings.merge(
            table.drop_duplicates(["participant", "session"])[["participant", "session", "period"]]
        )
        recordings["period"] = pd.to_numeric(recordings["period"]).astype("int64")
    else:
        recordings = recordings.sort_values(["participant", "session"])
        recordings["period"] = recordings.groupby("participant").cumcount() + 1
    recordings["sequence"] = recordings["participant"].map(sequences(recordings))
    keyed = table.drop(columns=["period"], errors="ignore").merge(
        recordings[["participant", "session", "period", "sequence"]], on=["participant", "session"], how="left"
    )
    return keyed.astype({"session": "string", "period": "int64", "sequence": "string"})


def _boolean(column: pd.Series) -> pd.Series:
    return column.astype(str).str.lower().isin(["true", "1", "yes"])


def import_emg_table(path: str | Path, study: Study) -> pd.DataFrame:
    """Validate an external trial-level EMG table and return it in the workflow's ``emg_windows`` schema.

    Columns: participant, group, trial, emotion, muscle, window, log_emg (required; an empty or ``n/a``
    value is a rejected trial, reason ``missing`` unless one is given); face, video, block, rejected, reason
    (optional).
    Raises :class:`DatasetError` listing every problem with its column and rows.
    """
    path = Path(path)
    table = read_table(path)
    session = ("session",) if study.crossover else ()
    problems = _check(
        table,
        path,
        (*EMG_REQUIRED, *session),
        numeric=("trial", "window", "log_emg", *(("period",) if "period" in table.columns else ())),
        integer=("trial", "window"),
        levels={"group": study.groups, "emotion": study.emotions, "muscle": study.muscles},
        key=("participant", *session, "trial", "muscle", "window"),
        may_be_empty=("log_emg",),
    )
    if problems:
        raise DatasetError(problems)
    for column, default in EMG_OPTIONAL.items():
        if column not in table.columns:
            table[column] = default
    absent = table["log_emg"].isna()
    table["rejected"] = _boolean(table["rejected"]) | absent
    reason = table["reason"].fillna("")
    table["reason"] = reason.mask(absent & (reason == ""), "missing")
    table["participant"] = table["participant"].str.removeprefix("sub-")
    columns = {"group": "string", **WINDOW_DTYPES}
    recording = ["participant", "group"]
    if study.crossover:
        table["session"] = table["session"].str.removeprefix("ses-")
        table, recording = _with_sessions(table), ["participant", "session", "group", "period", "sequence"]
    return (
        table.astype({c: t for c, t in columns.items() if t != "bool"})
        .astype({"rejected": bool})[[*recording, *list(WINDOW_DTYPES)[1:]]]
        .reset_index(drop=True)
    )


def import_rt_table(path: str | Path, study: Study) -> pd.DataFrame:
    """Validate an external trial-level RT table; return it in the workflow's ``rt_trials`` schema.

    Columns: participant, group, trial, emotion, response_time (required; empty for misses); face, video,
    block, response, rt_outlier (optional). Outliers are taken as given when ``rt_outlier`` is present, else
    flagged with the paper's rule (beyond 2 SD of the participant's correct RTs).
    """
    path = Path(path)
    table = read_table(path)
    session = ("session",) if study.crossover else ()
    required = [c for c in RT_REQUIRED if c != "response_time"] + list(session)
    problems = _check(
        table,
        path,
        required,
        numeric=("trial", *(("period",) if "period" in table.columns else ())),
        integer=("trial",),
        levels={"group": study.groups, "emotion": study.emotions, "response": RESPONSE_CATEGORIES},
        key=("participant", *session, "trial"),
    )
    if "response_time" not in table.columns:
        problems.insert(0, InputError("missing required column(s) ['response_time']", file=path))
    else:
        values = pd.to_numeric(table["response_time"], errors="coerce")
        bad = values.isna() & table["response_time"].notna()
        if bad.any():
            problems.append(InputError(f"column response_time: not a number in {_rows(bad)}", file=path))
    if problems:
        raise DatasetError(problems)
    given_outliers = "rt_outlier" in table.columns
    for column, default in RT_OPTIONAL.items():
        if column not in table.columns:
            table[column] = default
    table["participant"] = table["participant"].str.removeprefix("sub-")
    table["response_time"] = pd.to_numeric(table["response_time"])
    correct = (table["response"] == "correct") & table["response_time"].notna()
    rt = table["response_time"].where(correct)
    recording = ["participant", "group"]
    if study.crossover:  # z-scored within each recording, as the preprocessing does
        table["session"] = table["session"].str.removeprefix("ses-")
        grouped = rt.groupby([table["participant"], table["session"]])
        recording = ["participant", "session", "group", "period", "sequence"]
    else:
        grouped = rt.groupby(table["participant"])
    z = (rt - grouped.transform("mean")) / grouped.transform(lambda x: x.std(ddof=1))
    outlier = _boolean(table["rt_outlier"]) if given_outliers else (z.abs() > 2).fillna(False)
    table = table.assign(rt_z=z, rt_outlier=outlier.astype(bool), rt_included=(correct & ~outlier.astype(bool)))
    if study.crossover:
        table = _with_sessions(table)
    columns = {"group": "string", **RT_DTYPES}
    return (
        table.assign(trial=pd.to_numeric(table["trial"]), block=pd.to_numeric(table["block"]))
        .astype(columns)[[*recording, *list(RT_DTYPES)[1:]]]
        .reset_index(drop=True)
    )
