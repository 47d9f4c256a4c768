"""Table 1 of Korb et al. (2023): demographics, mood, blinding and side effects by drug group, with the
paper's tests (chi-square for counts, one-way ANOVA for continuous variables)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

NOT_TESTED = "not tested"


@dataclass(frozen=True)
class Table1Rows:
    """Which rows Table 1 has (``statistics.table1``; the schema's default is the paper's table)."""

    #: (label, column, value): participants per group with that value, against equal counts per group
    counts: tuple[tuple[str, str, str], ...]
    #: (label, columns): one column's values, or the first column minus the second; one-way ANOVA
    continuous: tuple[tuple[str, tuple[str, ...]], ...]
    #: the column of each participant's guess of their group (the blinding rows), or ``None``
    guess: str | None

    @classmethod
    def from_config(cls, table1: Mapping[str, Any]) -> Table1Rows:
        return cls(
            counts=tuple((row["label"], row["column"], str(row["value"])) for row in table1["counts"]),
            continuous=tuple((row["label"], tuple(row["columns"])) for row in table1["continuous"]),
            guess=table1["guess"],
        )


def _goodness_of_fit(counts: Sequence[float]) -> tuple[float, float, float]:
    """Chi-square goodness of fit against equal counts per group: statistic, df, p."""
    result = stats.chisquare(np.asarray(counts, dtype=float))
    return float(result.statistic), float(len(counts) - 1), float(result.pvalue)


def _absent(participants: pd.DataFrame, columns: Sequence[str]) -> str:
    """Why a row cannot be computed from participants.tsv ("" if it can)."""
    missing = [c for c in columns if c not in participants]
    if missing:
        return f"participants.tsv has no column {', '.join(repr(c) for c in missing)}"
    empty = [c for c in columns if participants[c].isna().all()]
    return f"participants.tsv has no value in {', '.join(repr(c) for c in empty)}" if empty else ""


def _values(participants: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """A continuous row's values: its one column, or the first column minus the second."""
    first, *rest = columns
    return participants[first] - participants[rest[0]] if rest else participants[first]


class _Table1:
    """Table 1 being built: its cells and tests, row by row, in the order the rows are added."""

    def __init__(self, participants: pd.DataFrame, groups: Sequence[str]) -> None:
        self.participants, self.groups = participants, list(groups)
        self.by_group = {g: participants[participants["group"] == g] for g in groups}
        self.cells: list[dict] = []
        self.tests: list[dict] = []

    def cell(self, label: str, group: str, n: int, value: float, sd: float = np.nan) -> None:
        self.cells.append(dict(variable=label, group=group, n=n, value=value, sd=sd))

    def tested(self, label: str, test: str, statistic: float, df1: float, df2: float, p: float) -> None:
        self.tests.append(dict(variable=label, test=test, statistic=statistic, df1=df1, df2=df2, p=p, note=""))

    def untested(self, label: str, note: str, with_cells: bool = True) -> None:
        if with_cells:
            for g in [*self.groups, "Total"]:
                self.cell(label, g, 0, np.nan)
        self.tests.append(
            dict(variable=label, test=NOT_TESTED, statistic=np.nan, df1=np.nan, df2=np.nan, p=np.nan, note=note)
        )

    def count(self, label: str, columns: Sequence[str], select: Callable[[pd.DataFrame], pd.Series]) -> None:
        """Participants counted by ``select`` per group, tested against equal counts."""
        if reason := _absent(self.participants, columns):
            return self.untested(label, reason)
        counts = [int(select(self.by_group[g]).sum()) for g in self.groups]
        for g, c in zip(self.groups, counts, strict=True):
            self.cell(label, g, len(self.by_group[g]), float(c))
        self.cell(label, "Total", len(self.participants), float(sum(counts)))
        if sum(counts) == 0:
            return self.untested(label, "no participant counted in any group", with_cells=False)
        statistic, df, p = _goodness_of_fit(counts)
        self.tested(label, "chi-square goodness of fit", statistic, df, np.nan, p)

    def continuous(self, label: str, columns: Sequence[str]) -> None:
        """Mean (SD) per group, tested by a one-way ANOVA."""
        if reason := _absent(self.participants, columns):
            return self.untested(label, reason)
        samples = {g: _values(self.by_group[g], columns).dropna().astype(float) for g in self.groups}
        for g in self.groups:
            self.cell(label, g, len(samples[g]), samples[g].mean(), samples[g].std(ddof=1))
        pooled = pd.concat(samples.values())
        self.cell(label, "Total", len(pooled), pooled.mean(), pooled.std(ddof=1))
        if pooled.nunique() < 2:
            self.untested(label, "the same value for every participant", with_cells=False)
        elif min(len(s) for s in samples.values()) == 0 or len(pooled) <= len(self.groups):
            self.untested(label, "too few values: a one-way ANOVA needs a value in every group", with_cells=False)
        else:
            anova = stats.f_oneway(*samples.values())
            df2 = float(len(pooled) - len(self.groups))
            self.tested(
                label, "one-way ANOVA", float(anova.statistic), float(len(self.groups) - 1), df2, float(anova.pvalue)
            )

    def correct_guesses(self, label: str, guess: str) -> None:
        """The share who guessed their own group, by a group x correct contingency test."""
        if reason := _absent(self.participants, (guess,)):
            return self.untested(label, reason)
        correct = {g: self.by_group[g][guess].dropna() == g for g in self.groups}
        for g in self.groups:
            self.cell(label, g, len(correct[g]), 100 * correct[g].mean())
        everyone = pd.concat(correct.values())
        self.cell(label, "Total", len(everyone), 100 * everyone.mean())
        contingency = np.array([[correct[g].sum(), (~correct[g]).sum()] for g in self.groups])
        if (contingency.sum(axis=0) == 0).any() or (contingency.sum(axis=1) == 0).any():
            self.untested(label, "every guess in one category, or a group without a guess", with_cells=False)
        else:
            chi2, p, dof, _ = stats.chi2_contingency(contingency, correction=False)
            self.tested(label, "chi-square contingency (group x correct)", float(chi2), float(dof), np.nan, float(p))

    def tables(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        order = list(dict.fromkeys(c["variable"] for c in self.cells))
        return pd.DataFrame(self.cells), pd.DataFrame(self.tests).set_index("variable").loc[order].reset_index()


def _equals(column: str, value: object) -> Callable[[pd.DataFrame], pd.Series]:
    """Who has ``value`` in ``column`` (compared as text: participants.tsv is read as text or numbers)."""
    return lambda participants: participants[column].astype(str) == str(value)


def table1(
    participants: pd.DataFrame, groups: Sequence[str], reference_group: str, rows: Table1Rows
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build Table 1 with ``rows`` (after N). Returns ``(cells, tests)``.

    ``cells``: one row per variable x group (and ``Total``): n (participants with a value), value (count,
    percentage or mean), sd (for means).
    ``tests``: one row per variable: test, statistic, df1, df2, p, note. Counts (N, females, males, guessing the
    reference group) are tested against equal counts per group, as the paper's goodness-of-fit tests; the share
    of correct guesses with a group x correct contingency test; continuous variables with a one-way ANOVA.

    A variable whose columns are absent or empty in participants.tsv, or whose values cannot be tested (the same
    value for everyone, no participant counted, too few values), keeps its row: cells without a value and test
    ``not tested``, with the reason in ``note``.
    """
    table = _Table1(participants, groups)
    table.count("N", (), lambda p: pd.Series(True, index=p.index))
    for label, column, value in rows.counts:
        table.count(label, (column,), _equals(column, value))
    for label, columns in rows.continuous:
        table.continuous(label, columns)
    if rows.guess is not None:  # the blinding rows: who guessed the reference group, who guessed their own
        guess = rows.guess
        table.count(f"N guess {reference_group}", (guess,), lambda p: p[guess] == reference_group)
        table.correct_guesses("% correct guess", guess)
    return table.tables()


def format_table1(cells: pd.DataFrame, tests: pd.DataFrame, groups: Sequence[str]) -> pd.DataFrame:
    """The paper's layout: one row per variable, a column per group and Total ("mean (SD)" or a count), and p."""

    def show(row: pd.Series) -> str:
        if np.isnan(row["value"]):
            return "n/a"
        if np.isnan(row["sd"]):
            return f"{row['value']:.1f}" if row["variable"].startswith("%") else f"{row['value']:.0f}"
        return f"{row['value']:.2f} ({row['sd']:.2f})"

    wide = cells.assign(text=cells.apply(show, axis=1)).pivot(index="variable", columns="group", values="text")
    wide = wide.loc[list(dict.fromkeys(cells["variable"])), [*groups, "Total"]]
    p = tests.set_index("variable")["p"].map(lambda v: "n/a" if np.isnan(v) else "<0.001" if v < 0.001 else f"{v:.2g}")
    return wide.assign(p=p).reset_index()


def table1_notes(tests: pd.DataFrame) -> list[str]:
    """One line per variable that was not tested, saying why (printed under the table)."""
    return [f"{row.variable}: not tested ({row.note})" for row in tests.itertuples() if row.test == NOT_TESTED]


def rejections_by_group(
    emg_rejections: pd.DataFrame, rt_summary: pd.DataFrame | None, groups: Sequence[str]
) -> pd.DataFrame:
    """Do the numbers of rejected trials differ between drug groups? One-way ANOVA per measure.

    Measures per participant: EMG trials rejected (mean over muscles: with ``scope: trial`` both muscles lose
    the same trials) and, for a study with response times, RT outliers and trials without a correct response.
    Excluded participants are left out.
    """
    analysed = emg_rejections[emg_rejections["status"] == "ok"]
    per_participant = analysed.groupby(["participant", "group"])["rejected"].mean().rename("emg_rejected_trials")
    columns = [per_participant]
    if rt_summary is not None:
        rt = rt_summary.set_index(["participant", "group"])
        columns += [
            rt["rt_outliers"].rename("rt_outlier_trials"),
            (rt["trials"] - rt["correct"]).rename("rt_not_correct_trials"),
        ]
    measures = pd.concat(columns, axis=1).reset_index()
    rows = []
    for measure in measures.columns.drop(["participant", "group"]):
        samples = [measures.loc[measures["group"] == g, measure].dropna() for g in groups]
        anova = stats.f_oneway(*samples)
        rows.append(
            {
                "measure": measure,
                **{f"mean_{g}": s.mean() for g, s in zip(groups, samples, strict=True)},
                "F": float(anova.statistic),
                "df1": len(groups) - 1,
                "df2": sum(len(s) for s in samples) - len(groups),
                "p": float(anova.pvalue),
            }
        )
    return pd.DataFrame(rows)
