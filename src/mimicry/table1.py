"""Table 1 of Korb et al. (2023): demographics, mood, blinding and side effects by drug group, with the
paper's tests (chi-square for counts, one-way ANOVA for continuous variables); a crossover's by drug, tested within
participants, with its period balance."""

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


def _cochran_q(outcomes: pd.DataFrame) -> tuple[float, float, float]:
    """Cochran's Q for a binary outcome of the same participants (rows) under every drug (columns): statistic,
    df, p. The repeated-measures analogue of the chi-square test of a between design."""
    x = outcomes.to_numpy(dtype=float)
    k = x.shape[1]
    per_drug, per_participant, total = x.sum(axis=0), x.sum(axis=1), x.sum()
    denominator = k * total - (per_participant**2).sum()
    statistic = (k - 1) * (k * (per_drug**2).sum() - total**2) / denominator
    return float(statistic), float(k - 1), float(stats.chi2.sf(statistic, k - 1))


def _repeated_measures_anova(values: pd.DataFrame) -> tuple[float, float, float, float]:
    """One-way repeated-measures ANOVA of the same participants (rows) under every drug (columns): F, df1, df2,
    p. The analogue of the between design's one-way ANOVA."""
    x = values.to_numpy(dtype=float)
    n, k = x.shape
    grand = x.mean()
    ss_drug = n * ((x.mean(axis=0) - grand) ** 2).sum()
    ss_participant = k * ((x.mean(axis=1) - grand) ** 2).sum()
    ss_error = ((x - grand) ** 2).sum() - ss_drug - ss_participant
    df1, df2 = k - 1, (n - 1) * (k - 1)
    f = (ss_drug / df1) / (ss_error / df2)
    return float(f), float(df1), float(df2), float(stats.f.sf(f, df1, df2))


class _CrossoverTable1(_Table1):
    """Table 1 of a crossover: participant-level rows once (the same people receive every drug: not tested),
    session-level rows per drug tested within participants (Cochran's Q, repeated-measures ANOVA), and the period
    balance (participants per drug x period; chi-square contingency)."""

    def __init__(self, participants: pd.DataFrame, sessions: pd.DataFrame, groups: Sequence[str]) -> None:
        self.sessions = sessions
        per_drug = sessions.merge(participants.drop(columns="group", errors="ignore"), on="participant", how="left")
        super().__init__(per_drug, groups)
        self.people = participants

    def _within(self, values: Callable[[pd.DataFrame], pd.Series]) -> pd.DataFrame:
        """Each participant's value under every drug (participants with all of them), for a test within them."""
        table = self.participants.assign(value=values(self.participants))
        wide = table.pivot_table(index="participant", columns="group", values="value", aggfunc="first")
        return wide.reindex(columns=self.groups).dropna()

    def count(self, label: str, columns: Sequence[str], select: Callable[[pd.DataFrame], pd.Series]) -> None:
        if not columns:  # N: participants per drug, and in all
            for g in self.groups:
                self.cell(label, g, len(self.by_group[g]), float(len(self.by_group[g])))
            self.cell(label, "Total", len(self.people), float(len(self.people)))
            return self.untested(label, "a crossover: every participant receives every drug", with_cells=False)
        if reason := _absent(self.participants, columns):
            return self.untested(label, reason.replace("participants.tsv", "participants.tsv or the sessions files"))
        if all(c in self.people.columns for c in columns):  # who the participants are: once, not per drug
            counted = int(select(self.people).sum())
            for g in self.groups:
                self.cell(label, g, len(self.by_group[g]), float(select(self.by_group[g]).sum()))
            self.cell(label, "Total", len(self.people), float(counted))
            return self.untested(label, "a participant's trait: the same participants under every drug", False)
        counts = [int(select(self.by_group[g]).sum()) for g in self.groups]
        for g, c in zip(self.groups, counts, strict=True):
            self.cell(label, g, len(self.by_group[g]), float(c))
        self.cell(label, "Total", len(self.participants), float(sum(counts)))
        outcomes = self._within(lambda table: select(table).astype(float))
        if len(outcomes) < 2 or outcomes.to_numpy().sum() in (0, outcomes.size):
            return self.untested(label, "too few participants with every drug, or the same outcome for all", False)
        statistic, df, p = _cochran_q(outcomes)
        if np.isnan(statistic):
            return self.untested(label, "every participant the same under every drug", with_cells=False)
        self.tested(label, "Cochran's Q (within participants)", statistic, df, np.nan, p)

    def continuous(self, label: str, columns: Sequence[str]) -> None:
        if reason := _absent(self.participants, columns):
            return self.untested(label, reason.replace("participants.tsv", "participants.tsv or the sessions files"))
        if all(c in self.people.columns for c in columns):
            for g in self.groups:
                values = _values(self.by_group[g], columns).dropna().astype(float)
                self.cell(label, g, len(values), values.mean(), values.std(ddof=1))
            pooled = _values(self.people, columns).dropna().astype(float)
            self.cell(label, "Total", len(pooled), pooled.mean(), pooled.std(ddof=1))
            return self.untested(label, "a participant's trait: the same participants under every drug", False)
        samples = {g: _values(self.by_group[g], columns).dropna().astype(float) for g in self.groups}
        for g in self.groups:
            self.cell(label, g, len(samples[g]), samples[g].mean(), samples[g].std(ddof=1))
        pooled = pd.concat(samples.values())
        self.cell(label, "Total", len(pooled), pooled.mean(), pooled.std(ddof=1))
        values = self._within(lambda table: _values(table, columns).astype(float))
        if len(values) < 2:
            return self.untested(label, "too few participants with a value under every drug", with_cells=False)
        if values.to_numpy().std() == 0:
            return self.untested(label, "the same value for every participant", with_cells=False)
        f, df1, df2, p = _repeated_measures_anova(values)
        self.tested(label, "repeated-measures ANOVA (within participants)", f, df1, df2, p)

    def correct_guesses(self, label: str, guess: str) -> None:
        if reason := _absent(self.participants, (guess,)):
            return self.untested(label, reason.replace("participants.tsv", "participants.tsv or the sessions files"))
        correct = {g: self.by_group[g][guess].dropna() == g for g in self.groups}
        for g in self.groups:
            self.cell(label, g, len(correct[g]), 100 * correct[g].mean())
        everyone = pd.concat(correct.values())
        self.cell(label, "Total", len(everyone), 100 * everyone.mean())
        outcomes = self._within(lambda table: (table[guess] == table["group"]).astype(float))
        if len(outcomes) < 2 or outcomes.to_numpy().sum() in (0, outcomes.size):
            return self.untested(label, "too few participants with every drug, or the same outcome for all", False)
        statistic, df, p = _cochran_q(outcomes)
        self.tested(label, "Cochran's Q (within participants)", statistic, df, np.nan, p)

    def periods(self) -> None:
        """Participants per drug in each period, and whether drug and period are independent (balance)."""
        counts = pd.crosstab(self.participants["period"], self.participants["group"]).reindex(
            columns=self.groups, fill_value=0
        )
        for period, row in counts.iterrows():
            label = f"N period {period}"
            for g in self.groups:
                self.cell(label, g, len(self.by_group[g]), float(row[g]))
            self.cell(label, "Total", int(row.sum()), float(row.sum()))
        if len(counts) < 2:
            return self.untested(f"N period {counts.index[0]}", "one period", with_cells=False)
        chi2, p, dof, _ = stats.chi2_contingency(counts.to_numpy(), correction=False)
        label = f"N period {counts.index[0]}"
        self.tested(label, "chi-square contingency (drug x period)", float(chi2), float(dof), np.nan, float(p))
        for period in counts.index[1:]:
            self.untested(f"N period {period}", f"tested with N period {counts.index[0]}", with_cells=False)


def crossover_table1(
    participants: pd.DataFrame,
    sessions: pd.DataFrame,
    groups: Sequence[str],
    reference_group: str,
    rows: Table1Rows,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Table 1 of a crossover (``sessions``: :func:`mimicry.crossover.read_sessions`): the same rows as
    :func:`table1`, a column per drug (the sessions under it) and Total; a row's column may be in participants.tsv
    (who the participants are: shown per drug, not tested: the same people receive every drug) or in the sessions
    files (tested within participants: Cochran's Q for counts and guesses, a repeated-measures ANOVA for
    continuous values, over the participants with every drug); then one row per period, the participants who got
    each drug in it, with a chi-square test of drug x period (the design's balance)."""
    table = _CrossoverTable1(participants, sessions, groups)
    table.count("N", (), lambda p: pd.Series(True, index=p.index))
    for label, column, value in rows.counts:
        table.count(label, (column,), _equals(column, value))
    for label, columns in rows.continuous:
        table.continuous(label, columns)
    if rows.guess is not None:
        guess = rows.guess
        table.count(f"N guess {reference_group}", (guess,), lambda p: p[guess] == reference_group)
        table.correct_guesses("% correct guess", guess)
    table.periods()
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
    """Do the numbers of rejected trials differ between drug groups? One-way ANOVA per measure (a crossover's,
    with a ``session`` column: a repeated-measures ANOVA over the participants with every drug).

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
    crossover = "session" in emg_rejections.columns  # the same participants under every drug
    rows = []
    for measure in measures.columns.drop(["participant", "group"]):
        samples = [measures.loc[measures["group"] == g, measure].dropna() for g in groups]
        if crossover:
            wide = measures.pivot_table(index="participant", columns="group", values=measure).reindex(columns=groups)
            f, df1, df2, p = _repeated_measures_anova(wide.dropna())
            rows.append(
                {
                    "measure": measure,
                    **{f"mean_{g}": s.mean() for g, s in zip(groups, samples, strict=True)},
                    "F": f,
                    "df1": int(df1),
                    "df2": int(df2),
                    "p": p,
                }
            )
            continue
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
