"""Group tables from the per-recording outputs: the inputs of the statistics stages."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

#: what a crossover adds to every per-recording table, after ``participant`` (mimicry.crossover.read_sessions)
SESSION_COLUMNS = ("session", "group", "period", "sequence")
#: What the paper reports, for comparison in the rejection table.
PAPER_REJECTION = {"emg_trials_rejected_pct": 19.6, "rt_outliers_pct": 2.44}


def read_participants(path: str | Path) -> pd.DataFrame:
    """``participants.tsv`` with the label (no ``sub-``) in ``participant``."""
    table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False, dtype={"participant_id": str})
    return table.assign(participant=table["participant_id"].str.removeprefix("sub-"))


def add_sessions(table: pd.DataFrame, sessions: pd.DataFrame) -> pd.DataFrame:
    """A per-recording table (``participant``, ``session`` columns) with each recording's drug (``group``),
    period and sequence after ``participant`` and ``session``."""
    keys = table[["participant", "session"]].astype(str)
    found = keys.merge(sessions.astype({"participant": str, "session": str}), how="left", on=["participant", "session"])
    out = table.drop(columns="session")
    for position, column in enumerate(SESSION_COLUMNS, start=1):
        out.insert(position, column, found[column].to_numpy())
    return out.astype({"session": "string", "group": "string", "sequence": "string", "period": "int64"})


def with_session(table: pd.DataFrame, session: str | None) -> pd.DataFrame:
    """A recording's table with its session after ``participant`` (a crossover's); unchanged without sessions."""
    if session is None:
        return table
    table = table.copy()
    table.insert(1, "session", session)
    return table


def with_drug(table: pd.DataFrame, participants: pd.DataFrame, sessions: pd.DataFrame | None = None) -> pd.DataFrame:
    """A per-recording table with each row's drug after ``participant``: the participant's ``group``, or in a
    crossover (``sessions``: :func:`mimicry.crossover.read_sessions`) the session's, with its period and sequence
    (:func:`add_sessions`)."""
    if sessions is not None:
        return add_sessions(table, sessions)
    table = table.copy()
    table.insert(1, "group", table["participant"].map(participants.set_index("participant")["group"]))
    return table


def concat_tables(
    paths: Iterable[str | Path], participants: pd.DataFrame, sessions: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Concatenate per-recording Parquet tables and add each recording's drug (:func:`with_drug`)."""
    tables = [pd.read_parquet(path) for path in paths]
    table = pd.concat([t for t in tables if len(t)], ignore_index=True) if any(len(t) for t in tables) else tables[0]
    if sessions is None:
        table.insert(
            1, "group", table["participant"].map(participants.set_index("participant")["group"]).astype("string")
        )
        return table
    return with_drug(table, participants, sessions)


def concat_summaries(
    paths: Iterable[str | Path], participants: pd.DataFrame, sessions: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Concatenate per-recording summaries (TSV) and add each recording's drug (:func:`with_drug`)."""
    table = pd.concat(
        [pd.read_csv(p, sep="\t", dtype={"participant": str, "session": str}, keep_default_na=False) for p in paths],
        ignore_index=True,
    )
    return with_drug(table, participants, sessions)


def rejection_counts(emg_windows: pd.DataFrame) -> pd.DataFrame:
    """Per participant x muscle, trials and rejected trials, from a window table alone (trial tables a lab brings:
    no recordings, so no per-rule counts): participant, group, muscle, status (``ok``), reason, trials, rejected."""
    trials = emg_windows[emg_windows["window"] == emg_windows["window"].min()]
    counts = (
        trials.groupby(["participant", "group", "muscle"], observed=True)["rejected"]
        .agg(trials="size", rejected="sum")
        .reset_index()
    )
    counts.insert(3, "status", "ok")
    counts.insert(4, "reason", "")
    return counts.astype({"trials": "int64", "rejected": "int64"})


def rejection_rates(
    emg_windows: pd.DataFrame, rt_trials: pd.DataFrame | None, papers_design: bool = True
) -> pd.DataFrame:
    """Overall and per-group rejection percentages, beside the paper's figures when the study has the paper's
    design (``papers_design``; else ``paper_percent`` is empty).

    ``emg_trials_rejected_pct``: trials lost in at least one muscle (the paper's 19.6%);
    ``emg_trial_muscle_rejected_pct``: trial x muscle pairs lost; and, for a study with response times
    (``rt_trials`` not ``None``), ``rt_outliers_pct``: RT outliers among all trials (the paper's 2.44%);
    ``rt_not_correct_pct``: misses, wrong buttons and double presses.
    """
    emg_trials = emg_windows[emg_windows["window"] == 1]
    per_trial = emg_trials.groupby(["group", "participant", "trial"])["rejected"].any().reset_index()
    rows = []
    for group in ["all", *sorted(emg_trials["group"].dropna().unique())]:

        def part(table: pd.DataFrame, group: str = group) -> pd.DataFrame:
            return table if group == "all" else table[table["group"] == group]

        emg_part, trial_part = part(emg_trials), part(per_trial)
        rows += [
            (group, "emg_trials_rejected_pct", 100 * trial_part["rejected"].mean(), len(trial_part)),
            (group, "emg_trial_muscle_rejected_pct", 100 * emg_part["rejected"].mean(), len(emg_part)),
        ]
        if rt_trials is not None:
            rt_part = part(rt_trials)
            rows += [
                (group, "rt_outliers_pct", 100 * rt_part["rt_outlier"].mean(), len(rt_part)),
                (group, "rt_not_correct_pct", 100 * (rt_part["response"] != "correct").mean(), len(rt_part)),
            ]
    table = pd.DataFrame(rows, columns=["group", "measure", "percent", "n"])
    table["paper_percent"] = table["measure"].map(PAPER_REJECTION).where((table["group"] == "all") & papers_design)
    table["percent"] = table["percent"].round(3)
    return table
