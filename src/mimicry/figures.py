"""Figures of the statistics stage (Figure 1, Figure S2). Each function returns a matplotlib Figure;
:func:`save` writes it as PDF and PNG. Figures use matplotlib's object API, not pyplot: no global state."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mimicry.qc import save  # noqa: F401 (re-exported: one way to write every figure)


MUSCLE_LABELS = {"corrugator": "CS", "zygomaticus": "ZM"}
DRUG_STYLES = {"amisulpride": ("tab:blue", "s"), "naltrexone": ("tab:orange", "^"), "placebo": ("0.2", "o")}


def participant_condition_means(table: pd.DataFrame, value: str, by: list[str]) -> pd.DataFrame:
    """Each participant's mean of ``value`` per condition: the unit the SEM is taken over."""
    return table.groupby(["participant", "group", *by], observed=True)[value].mean().reset_index()


def figure1(windows: pd.DataFrame) -> Figure:
    """Figure 1: mean log EMG +/- SEM (over participants) by muscle x window x drug, a panel per emotion."""
    kept = windows[~windows["rejected"]]
    means = participant_condition_means(kept, "log_emg", ["emotion", "muscle", "window"])
    summary = means.groupby(["emotion", "muscle", "group", "window"])["log_emg"].agg(["mean", "sem"]).reset_index()
    emotions = sorted(summary["emotion"].unique())
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    axes = figure.subplots(1, len(emotions), sharey=True, squeeze=False)[0]
    offsets = {g: 0.06 * (i - 1) for i, g in enumerate(sorted(summary["group"].unique()))}
    for ax, emotion in zip(axes, emotions, strict=True):
        for (muscle, group), cell in summary[summary["emotion"] == emotion].groupby(["muscle", "group"]):
            colour, marker = DRUG_STYLES.get(group, ("tab:gray", "o"))
            ax.errorbar(cell["window"] + offsets[group], cell["mean"], yerr=cell["sem"], color=colour, marker=marker,
                        ls="-" if muscle == "zygomaticus" else "--", capsize=2, ms=4,
                        label=f"{MUSCLE_LABELS.get(muscle, muscle)}, {group}")
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_title(emotion)
        ax.set_xlabel("time window (s after video onset)")
        ax.set_xticks(sorted(summary["window"].unique()))
    axes[0].set_ylabel("log EMG (proportion of baseline), mean ± SEM")
    axes[-1].legend(fontsize=7, ncol=2, frameon=False)
    return figure


def figure_s2(rt_trials: pd.DataFrame) -> Figure:
    """Figure S2: response times by emotion x drug: participants' means (dots) and group mean +/- SEM."""
    kept = rt_trials[rt_trials["rt_included"]]
    means = participant_condition_means(kept, "response_time", ["emotion"])
    groups = sorted(means["group"].unique())
    emotions = sorted(means["emotion"].unique())
    figure = Figure(figsize=(6.5, 4), layout="constrained")
    ax = figure.subplots()
    rng = np.random.default_rng(0)  # jitter only; fixed so the figure is reproducible
    for i, emotion in enumerate(emotions):
        for j, group in enumerate(groups):
            x = i + 0.25 * (j - (len(groups) - 1) / 2)
            values = means[(means["emotion"] == emotion) & (means["group"] == group)]["response_time"]
            colour, marker = DRUG_STYLES.get(group, ("tab:gray", "o"))
            ax.scatter(x + rng.uniform(-0.05, 0.05, len(values)), values, s=8, color=colour, alpha=0.35)
            ax.errorbar(x, values.mean(), yerr=values.sem(), color=colour, marker=marker, ms=7, capsize=3,
                        label=group if i == 0 else None)
    ax.set_xticks(range(len(emotions)), emotions)
    ax.set_ylabel("response time (s from video onset)")
    ax.legend(frameon=False, fontsize=8)
    return figure
