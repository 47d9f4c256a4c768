"""Figures of the statistics stage (Figure 1, Figure S2, the LMMs' residuals). Each function returns a matplotlib
Figure; ``mimicry.qc.save`` writes it as PDF and PNG. Figures use matplotlib's object API, not pyplot: no global
state."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mimicry.curve import curve

if TYPE_CHECKING:
    import xarray as xr

MUSCLE_LABELS = {"corrugator": "CS", "zygomaticus": "ZM"}
#: the reference group's style: neutral, so every drug stands out against it
REFERENCE_STYLE = ("0.2", "o")
GROUP_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")
GROUP_MARKERS = ("s", "^", "D", "v", "P", "X", "<", ">")
#: line style per muscle, in the order the figure sorts them (the paper's: corrugator dashed, zygomaticus solid)
MUSCLE_LINES = ("--", "-", ":", "-.")


def group_styles(groups: Sequence[str], reference: str) -> dict[str, tuple[str, str]]:
    """Colour and marker per group: the reference group dark grey circles, every other group its own colour and
    marker in the study's order (the paper's amisulpride blue squares, naltrexone orange triangles)."""
    others = [group for group in groups if group != reference]
    styles = {
        group: (GROUP_COLOURS[i % len(GROUP_COLOURS)], GROUP_MARKERS[i % len(GROUP_MARKERS)])
        for i, group in enumerate(others)
    }
    return {**styles, reference: REFERENCE_STYLE}


def participant_condition_means(table: pd.DataFrame, value: str, by: list[str]) -> pd.DataFrame:
    """Each participant's mean of ``value`` per condition: the unit the SEM is taken over."""
    return table.groupby(["participant", "group", *by], observed=True)[value].mean().reset_index()


def figure1(windows: pd.DataFrame, styles: dict[str, tuple[str, str]]) -> Figure:
    """Figure 1: mean log EMG +/- SEM (over participants) by muscle x window x drug, a panel per emotion
    (``styles``: colour and marker per group, :func:`group_styles`)."""
    kept = windows[~windows["rejected"]]
    means = participant_condition_means(kept, "log_emg", ["emotion", "muscle", "window"])
    summary = means.groupby(["emotion", "muscle", "group", "window"])["log_emg"].agg(["mean", "sem"]).reset_index()
    emotions = sorted(summary["emotion"].unique())
    figure = Figure(figsize=(10, 4.2), layout="constrained")
    axes = figure.subplots(1, len(emotions), sharey=True, squeeze=False)[0]
    offsets = {g: 0.06 * (i - 1) for i, g in enumerate(sorted(summary["group"].unique()))}
    lines = {m: MUSCLE_LINES[i % len(MUSCLE_LINES)] for i, m in enumerate(sorted(summary["muscle"].unique()))}
    for ax, emotion in zip(axes, emotions, strict=True):
        for (muscle, group), cell in summary[summary["emotion"] == emotion].groupby(["muscle", "group"]):
            colour, marker = styles[group]
            ax.errorbar(
                cell["window"] + offsets[group],
                cell["mean"],
                yerr=cell["sem"],
                color=colour,
                marker=marker,
                ls=lines[muscle],
                capsize=2,
                ms=4,
                label=f"{MUSCLE_LABELS.get(muscle, muscle)}, {group}",
            )
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_title(emotion)
        ax.set_xlabel("time window (s after video onset)")
        ax.set_xticks(sorted(summary["window"].unique()))
    axes[0].set_ylabel("log EMG (proportion of baseline), mean ± SEM")
    axes[-1].legend(fontsize=7, ncol=2, frameon=False)
    return figure


def figure_s2(rt_trials: pd.DataFrame, styles: dict[str, tuple[str, str]]) -> Figure:
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
            colour, marker = styles[group]
            ax.scatter(x + rng.uniform(-0.05, 0.05, len(values)), values, s=8, color=colour, alpha=0.35)
            ax.errorbar(
                x,
                values.mean(),
                yerr=values.sem(),
                color=colour,
                marker=marker,
                ms=7,
                capsize=3,
                label=group if i == 0 else None,
            )
    ax.set_xticks(range(len(emotions)), emotions)
    ax.set_ylabel("response time (s from video onset)")
    ax.legend(frameon=False, fontsize=8)
    return figure


MUSCLE_COLOURS = {"corrugator": "tab:red", "zygomaticus": "tab:green"}


def lmm_residual_figure(residuals: pd.Series, by: pd.Series, title: str) -> Figure:
    """An LMM's residuals: their normal Q-Q plot (standardised; 200 quantiles, so that 50,000 trials draw fast)
    and their spread per level of ``by`` (the time window, or the emotion of an RT model)."""
    from scipy import stats

    figure = Figure(figsize=(8.0, 3.4), layout="constrained")
    qq, spread = figure.subplots(1, 2)
    standardised = (residuals - residuals.mean()) / residuals.std()
    probabilities = (np.arange(200) + 0.5) / 200
    theoretical = stats.norm.ppf(probabilities)
    qq.plot(theoretical, np.quantile(standardised, probabilities), "o", markersize=3, color="0.2")
    qq.axline((0, 0), slope=1, color="tab:red", linewidth=1)
    qq.set(xlabel="normal quantile", ylabel="standardised residual quantile", title="Normal Q-Q")
    levels = sorted(by.unique())
    spread.boxplot([residuals[by == level] for level in levels], showfliers=False)
    spread.set_xticks(
        range(1, len(levels) + 1), [f"{level:g}" if isinstance(level, float) else level for level in levels]
    )
    spread.axhline(0, color="0.5", linewidth=0.8)
    spread.set(xlabel=str(by.name), ylabel="residual", title=f"Residuals by {by.name}")
    figure.suptitle(title)
    return figure


def calibration_figure(ranks: pd.DataFrame) -> Figure:
    """Per calibrated quantity (its elements pooled), the ECDF of the ranks as PIT values minus the uniform CDF,
    inside the simultaneous 95% band (Kolmogorov-Smirnov): a calibrated quantity stays in its band."""
    from mimicry.calibration import KS_95

    quantities = list(dict.fromkeys(ranks["quantity"]))
    columns = min(4, len(quantities))
    rows = -(-len(quantities) // columns)
    figure = Figure(figsize=(3.0 * columns, 2.4 * rows), layout="constrained")
    axes = np.atleast_1d(figure.subplots(rows, columns, sharex=True, sharey=True)).ravel()
    grid = np.linspace(0.0, 1.0, 201)
    for ax, quantity in zip(axes, quantities, strict=False):
        group = ranks.loc[ranks["quantity"] == quantity]
        pit = np.sort((group["rank"].to_numpy() + 0.5) / (group["draws"].to_numpy() + 1))
        ecdf = np.searchsorted(pit, grid, side="right") / len(pit)
        band = KS_95 / np.sqrt(len(pit))
        ax.fill_between(grid, -band, band, color="0.85", linewidth=0)
        ax.plot(grid, ecdf - grid, color="tab:blue", linewidth=1.2)
        ax.axhline(0, color="0.4", linewidth=0.6)
        ax.set_title(f"{quantity} ({len(pit)} ranks)", fontsize=9)
    for ax in axes[len(quantities) :]:
        ax.set_visible(False)
    figure.supxlabel("fractional rank (PIT)")
    figure.supylabel("ECDF - uniform")
    return figure


def _not_converged(figure: Figure, failed: str) -> None:
    """A banner naming the parameter classes that failed the diagnostics gate ("" when it passed)."""
    if failed:
        figure.suptitle(
            f"NOT CONVERGED ({failed}): the posterior failed the diagnostics gate (see diagnostics.tsv)",
            color="tab:red",
            fontsize=9,
        )


def figure2(
    participant_means: pd.DataFrame,
    prior_curves: np.ndarray,
    times: np.ndarray,
    band: pd.DataFrame,
    example: tuple[float, float, float],
    hdi_prob: float,
    failed: str = "",
) -> Figure:
    """Figure 2: (A) the asymptotic curve for ``example`` (a, b, c); (B) population curves drawn from the priors;
    (C) participants' mean log EMG per condition as boxplots, with the no-drug model's HDI band per muscle.

    Time on the x axes is the window (1..5); the model's t is window - 1.
    """
    figure = Figure(figsize=(11, 7), layout="constrained")
    top, bottom = figure.subfigures(2, 1, height_ratios=[1, 1.2], squeeze=False)[:, 0]
    ax_a, ax_b = top.subplots(1, 2)
    windows = times + 1.0
    a, b, c = example
    ax_a.plot(windows, curve(a, b, c, times), color="k")
    ax_a.axhline(a, color="k", ls="--", lw=0.8)
    ax_a.set(title=f"A  a = {a:g}, b = {b:g}, c = {c:g}", xlabel="time window", ylabel="y")
    ax_b.plot(windows, prior_curves.T, color="tab:blue", alpha=0.15, lw=0.7)
    ax_b.set(
        title=f"B  prior predictive population curves ({len(prior_curves)} draws)",
        xlabel="time window",
        ylabel="log EMG",
    )
    emotions = list(dict.fromkeys(participant_means["emotion"]))
    muscles = list(dict.fromkeys(participant_means["muscle"]))
    axes = bottom.subplots(1, len(emotions), sharey=True, squeeze=False)[0]
    values = participant_means["log_emg"]
    low, high = values.quantile([0.02, 0.98])
    for ax, emotion in zip(axes, emotions, strict=True):
        for k, muscle in enumerate(muscles):
            colour = MUSCLE_COLOURS.get(muscle, f"C{k}")
            cell = participant_means[
                (participant_means["emotion"] == emotion) & (participant_means["muscle"] == muscle)
            ]
            ticks = sorted(cell["window"].unique())
            offset = 0.18 * (k - (len(muscles) - 1) / 2)
            ax.boxplot(
                [cell.loc[cell["window"] == w, "log_emg"] for w in ticks],
                positions=np.asarray(ticks) + offset,
                widths=0.3,
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": colour, "alpha": 0.35},
                medianprops={"color": colour},
            )
            curve_band = band[(band["emotion"] == emotion) & (band["muscle"] == muscle)]
            ax.fill_between(
                curve_band["time"] + 1.0,
                curve_band["hdi_low"],
                curve_band["hdi_high"],
                color=colour,
                alpha=0.35,
                lw=0,
                label=f"{MUSCLE_LABELS.get(muscle, muscle)}",
            )
        ax.axhline(0, color="0.6", lw=0.6)
        ax.set_xticks(ticks, [str(t) for t in ticks])
        ax.set(title=f"C  {emotion}", xlabel="time window", ylim=(low, high))
    axes[0].set_ylabel(f"participant mean log EMG\n(band: {hdi_prob:.0%} HDI, model without drug)")
    axes[-1].legend(frameon=False, fontsize=8)
    _not_converged(figure, failed)
    return figure


def figure3(
    posterior: xr.Dataset, contrasts: pd.DataFrame, styles: dict[str, tuple[str, str]], failed: str = ""
) -> Figure:
    """Figure 3: posterior densities of the fixed effects of a (asymptote) and c (log rate) by drug, one panel per
    parameter x muscle x emotion (top rows), and each drug's difference from the reference group with its HDI
    (bottom rows; filled where the HDI excludes 0)."""
    from scipy.stats import gaussian_kde

    muscles, emotions = list(posterior["muscle"].values), list(posterior["emotion"].values)
    cells = [(m, e) for m in muscles for e in emotions]
    figure = Figure(figsize=(12, 9), layout="constrained")
    axes = figure.subplots(4, len(cells), squeeze=False)
    for row, (parameter, label) in enumerate((("asymptote", "asymptote a"), ("rate", "log rate c"))):
        draws = posterior[parameter]
        for column, (muscle, emotion) in enumerate(cells):
            ax = axes[row, column]
            cell = draws.sel(muscle=muscle, emotion=emotion)
            groups = list(cell["drug"].values) if "drug" in cell.dims else ["all"]
            for group in groups:
                sample = (cell.sel(drug=group) if "drug" in cell.dims else cell).values.ravel()
                grid = np.linspace(sample.min(), sample.max(), 200)
                colour = styles.get(group, REFERENCE_STYLE)[0]
                ax.plot(grid, gaussian_kde(sample)(grid), color=colour, label=group)
            ax.set_title(f"{MUSCLE_LABELS.get(muscle, muscle)} {emotion}", fontsize=9)
            ax.set_xlabel(label, fontsize=8)
            ax.set_yticks([])
        for column, (muscle, emotion) in enumerate(cells):
            ax = axes[row + 2, column]
            rows = contrasts[
                (contrasts["parameter"] == parameter)
                & (contrasts["muscle"] == muscle)
                & (contrasts["emotion"] == emotion)
            ]
            for k, contrast in enumerate(rows.itertuples()):
                colour = styles[contrast.drug][0]
                ax.plot([contrast.hdi_low, contrast.hdi_high], [k, k], color=colour, lw=2)
                ax.plot(
                    contrast.mean,
                    k,
                    "o",
                    color=colour,
                    markerfacecolor=colour if contrast.excludes_zero else "white",
                )
            ax.axvline(0, color="0.6", lw=0.8)
            ax.set_yticks(range(len(rows)), list(rows["drug"]), fontsize=7)
            ax.set_ylim(-0.7, max(len(rows), 1) - 0.3)
            reference = rows["reference"].iloc[0] if len(rows) else "reference"
            ax.set_xlabel(f"{label}: drug - {reference}", fontsize=8)
    axes[0, -1].legend(frameon=False, fontsize=7)
    _not_converged(figure, failed)
    return figure


def _rule_panels(labels: dict[str, str]) -> tuple[Figure, Any, list[Any]]:
    """A figure with one panel per decision rule, two a row; the grid and the used panels."""
    columns = min(2, len(labels))
    rows = -(-len(labels) // columns)
    figure = Figure(figsize=(4.5 * columns, 3.4 * rows), layout="constrained")
    grid = figure.subplots(rows, columns, sharey=True, squeeze=False)
    for unused in grid.flat[len(labels) :]:
        unused.set_visible(False)
    return figure, grid, list(grid.flat[: len(labels)])


def _finish_rule_panels(
    grid: Any, axes: list[Any], labels: dict[str, str], target_power: float, xlabel: str, legend_size: float
) -> None:
    """Each rule panel's title, x label and power axis with the target power dashed; the legend in the last."""
    for ax, title in zip(axes, labels.values(), strict=True):
        ax.axhline(target_power, color="0.4", ls="--", lw=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel(xlabel)
        ax.set_ylim(0, 1)
    for ax in grid[:, 0]:
        ax.set_ylabel("power (share of studies detecting it)")
    axes[-1].legend(fontsize=legend_size, loc="lower right")


def power_figure(table: pd.DataFrame, target_power: float, labels: dict[str, str]) -> Figure:
    """Power against the size of the planted effect, one panel per decision rule (``labels``: rule -> title), one
    line per design and size with its 95% intervals (a crossover's dashed); the target power marked, the study's
    own groups in black. Two panels a row."""
    figure, grid, axes = _rule_panels(labels)
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:cyan"]
    keys = ["design", "participants", "participants_per_group"]
    for ax, rule in zip(axes, labels, strict=True):
        by_size = table[table["rule"] == rule].groupby(keys, dropna=False, sort=True)
        for k, ((design, participants, size), cells) in enumerate(by_size):
            cells = cells.assign(magnitude=cells["effect"].abs()).sort_values("magnitude")
            own = design == "between" and pd.isna(size)
            colour = "black" if own else colours[k % len(colours)]
            label = (
                f"crossover, {participants} participants"
                if design == "within"
                else "the study's groups"
                if own
                else f"{int(size)} per group"
            )
            style = "o--" if design == "within" else "o-"
            ax.plot(cells["magnitude"], cells["power"], style, color=colour, lw=2.0 if own else 1.2, label=label)
            ax.fill_between(cells["magnitude"], cells["ci_low"], cells["ci_high"], color=colour, alpha=0.15, lw=0)
    _finish_rule_panels(grid, axes, labels, target_power, "planted effect (size, log EMG)", 8)
    return figure


def designs_figure(table: pd.DataFrame, target_power: float, labels: dict[str, str]) -> Figure:
    """The designs compared: power against the number of participants, one panel per decision rule, one line per
    design (between participants solid, crossover dashed) and planted effect (colour), with 95% intervals; the
    target power marked."""
    figure, grid, axes = _rule_panels(labels)
    effects = sorted(table["effect"].unique(), key=abs)
    palette = ["0.5", "tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
    colours = {effect: palette[k % len(palette)] for k, effect in enumerate(effects)}
    for ax, rule in zip(axes, labels, strict=True):
        for (design, effect), cells in table[table["rule"] == rule].groupby(["design", "effect"], sort=True):
            cells = cells.sort_values("participants")
            words = "crossover" if design == "within" else "between"
            ax.plot(
                cells["participants"],
                cells["power"],
                "o--" if design == "within" else "o-",
                color=colours[effect],
                lw=1.2,
                label=f"{words}, effect {effect:g}",
            )
            ax.fill_between(
                cells["participants"], cells["ci_low"], cells["ci_high"], color=colours[effect], alpha=0.1, lw=0
            )
    _finish_rule_panels(grid, axes, labels, target_power, "participants", 7)
    return figure
