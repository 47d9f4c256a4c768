"""Figures. Each function returns a matplotlib Figure; :func:`save` writes it as PDF and PNG.

Figures are built with matplotlib's object API, not pyplot: no global state, no GUI backend, and a faster
import in the per-participant jobs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure


def save(figure: Figure, pdf: str | Path, png: str | Path, dpi: int = 120) -> None:
    figure.savefig(pdf)
    figure.savefig(png, dpi=dpi)


def emg_qc(timecourse: pd.DataFrame, summary: pd.DataFrame, participant: str) -> Figure:
    """One participant's log EMG time course per muscle x emotion: every trial (rejected ones in red) and the
    mean of the kept trials, so a person sees at a glance whether the rejection did its job."""
    muscles = list(dict.fromkeys(summary["muscle"]))
    emotions = sorted(timecourse["emotion"].unique()) if len(timecourse) else []
    figure = Figure(figsize=(9, 3 * len(muscles)), layout="tight")
    axes = figure.subplots(len(muscles), max(len(emotions), 1), sharex=True, squeeze=False)
    status = summary["status"].iloc[0]
    if status != "ok":
        for ax in axes.flat:
            ax.set_axis_off()
        figure.suptitle(f"sub-{participant}: excluded\n{summary['reason'].iloc[0]}", fontsize=9, color="firebrick")
        return figure
    for i, muscle in enumerate(muscles):
        for j, emotion in enumerate(emotions):
            ax = axes[i, j]
            cell = timecourse[(timecourse["muscle"] == muscle) & (timecourse["emotion"] == emotion)]
            traces = cell.pivot(index="time_s", columns="trial", values="log_emg")
            rejected = cell.groupby("trial")["rejected"].first().reindex(traces.columns).to_numpy()
            times = traces.index.to_numpy()
            # one LineCollection per colour draws ~50 traces far faster than one Line2D each
            for lost, colour, width in ((False, "0.75", 0.5), (True, "firebrick", 0.6)):
                lines = [np.column_stack([times, trace]) for trace in traces.to_numpy().T[rejected == lost]]
                ax.add_collection(LineCollection(lines, colors=colour, linewidths=width))
            ax.plot(times, traces.loc[:, ~rejected].mean(axis=1), color="black", lw=2)
            ax.set_xlim(times[0], times[-1])
            ax.axvline(0, color="0.4", ls=":")
            ax.axhline(0, color="0.4", lw=0.5)
            lost = int(rejected.sum())
            ax.set_title(f"{muscle}, {emotion}: {lost}/{len(rejected)} rejected", fontsize=9)
            ax.set_ylim(-1.5, 1.5)
            if j == 0:
                ax.set_ylabel("log proportion of baseline")
            if i == len(muscles) - 1:
                ax.set_xlabel("time from video onset (s)")
    figure.suptitle(f"sub-{participant}: EMG quality control (grey kept, red rejected, black mean of kept)",
                    fontsize=10)
    return figure


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
