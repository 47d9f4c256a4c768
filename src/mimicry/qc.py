"""The per-recording EMG quality-control figure (drawn by the preprocessing job), and :func:`save`.

Built with matplotlib's object API, not pyplot: no global state, no GUI backend, a faster import in the
per-recording jobs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def save(figure: Figure, pdf: str | Path, png: str | Path, dpi: int = 120) -> None:
    """Write a figure as PDF (for papers) and PNG (for screens and reports).

    The figure's layout (tight or constrained) is computed once for both files, not once per file."""
    engine = figure.get_layout_engine()
    if engine is not None:
        engine.execute(figure)
        figure.set_layout_engine("none")
    figure.savefig(pdf)
    figure.savefig(png, dpi=dpi)


def emg_qc(timecourse: pd.DataFrame, summary: pd.DataFrame, recording: str) -> Figure:
    """One recording's log EMG time course per muscle x emotion (``recording``: its name, ``sub-<label>`` or
    ``sub-<label>_ses-<label>``): every trial (rejected ones in red) and the mean of the kept trials, so a person sees
    at a glance whether the rejection did its job."""
    muscles = list(dict.fromkeys(summary["muscle"]))
    emotions = sorted(timecourse["emotion"].unique()) if len(timecourse) else []
    figure = Figure(figsize=(9, 3 * len(muscles)), layout="tight")
    axes = figure.subplots(len(muscles), max(len(emotions), 1), sharex=True, squeeze=False)
    status = summary["status"].iloc[0]
    if status != "ok":
        for ax in axes.flat:
            ax.set_axis_off()
        figure.suptitle(f"{recording}: excluded\n{summary['reason'].iloc[0]}", fontsize=9, color="firebrick")
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
            # ticks located once and set: a locator reruns at every draw of every panel (~0.1 s of each job);
            # + 0.0 turns a tick at -0.0 into 0.0 (no "-0" label)
            ticks = np.asarray(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]).tick_values(times[0], times[-1])) + 0.0
            ax.set_xticks(ticks[(ticks >= times[0]) & (ticks <= times[-1])])
            ax.set_yticks(np.arange(-1.5, 1.6, 0.5))
            ax.axvline(0, color="0.4", ls=":")
            ax.axhline(0, color="0.4", lw=0.5)
            ax.set_title(f"{muscle}, {emotion}: {int(rejected.sum())}/{len(rejected)} rejected", fontsize=9)
            ax.set_ylim(-1.5, 1.5)
            if j == 0:
                ax.set_ylabel("log proportion of baseline")
            if i == len(muscles) - 1:
                ax.set_xlabel("time from video onset (s)")
    figure.suptitle(f"{recording}: EMG quality control (grey kept, red rejected, black mean of kept)", fontsize=10)
    return figure
