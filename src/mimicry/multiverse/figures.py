"""The multiverse's figures: the specification curve (every universe's estimate, sorted, with its interval, the
main analysis's universe marked, the choices as a dashboard beneath) and the forks' shares of the variance."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

#: Colours of a universe's estimate: significant (above or below zero) or not, and the main analysis's.
SIGNIFICANT, NOT_SIGNIFICANT, MAIN = "tab:red", "0.55", "black"


def _curve(
    ax_curve: Any, ax_board: Any, rows: pd.DataFrame, forks: Sequence[str], options: dict[str, list[str]]
) -> None:
    rows = rows.sort_values("estimate_sd").reset_index(drop=True)
    x = np.arange(len(rows))
    scale = rows["estimate_sd"] / rows["estimate"]  # the universe's SD units per unit of its own
    colours = np.where(rows["significant"], SIGNIFICANT, NOT_SIGNIFICANT)
    ax_curve.vlines(x, rows["ci_low"] * scale, rows["ci_high"] * scale, colors=colours, linewidth=0.4, alpha=0.5)
    ax_curve.scatter(x, rows["estimate_sd"], c=colours, s=4, linewidths=0)
    main = rows.index[rows["universe"] == 1]
    ax_curve.scatter(x[main], rows.loc[main, "estimate_sd"], s=40, facecolors="none", edgecolors=MAIN, zorder=3)
    ax_curve.axhline(0, color="0.3", linewidth=0.6)
    ax_curve.set_ylabel("estimate (SD units)")
    labels, positions, y = [], [], 0.0
    for fork in forks:
        for option in options[fork]:
            chosen = (rows[fork] == option).to_numpy()
            ax_board.scatter(x[chosen], np.full(chosen.sum(), y), c=colours[chosen], s=2, marker="|", linewidths=0.6)
            labels.append(f"{fork}: {option}")
            positions.append(y)
            y -= 1
        y -= 0.5  # a gap between forks
    ax_board.set_yticks(positions, labels, fontsize=6)
    ax_board.set_xlabel("universes, sorted by estimate")
    ax_board.set_xlim(-1, len(rows))


def specification_curve(specifications: pd.DataFrame, universe_table: pd.DataFrame, forks: Sequence[str]) -> Figure:
    """Per estimand with an estimate and interval (the drug effects, the positive controls), every universe's
    standardised estimate sorted, its 95% interval, red where significant, the main analysis's universe ringed;
    beneath, each universe's option of every fork."""
    table = specifications[specifications["kind"] != "omnibus"].merge(
        universe_table[["universe", *forks]], on="universe"
    )
    names = list(dict.fromkeys(table["estimand"]))
    options = {fork: list(dict.fromkeys(universe_table[fork])) for fork in forks}
    board_rows = sum(len(o) for o in options.values())
    columns = min(2, len(names))
    rows = -(-len(names) // columns)
    figure = Figure(figsize=(6.5 * columns, (3.0 + 0.12 * board_rows) * rows), layout="constrained")
    grid = figure.add_gridspec(2 * rows, columns, height_ratios=[3.0, 0.12 * board_rows] * rows)
    for k, name in enumerate(names):
        row, column = divmod(k, columns)
        ax_curve = figure.add_subplot(grid[2 * row, column])
        ax_board = figure.add_subplot(grid[2 * row + 1, column], sharex=ax_curve)
        _curve(ax_curve, ax_board, table[table["estimand"] == name], forks, options)
        ax_curve.set_title(name, fontsize=9)
        ax_curve.tick_params(labelbottom=False)
    return figure


def decisions_figure(decisions: pd.DataFrame) -> Figure:
    """Per estimand, the share of the standardised estimates' variance over the universes that each fork's
    options explain."""
    shares = decisions.drop_duplicates(["estimand", "fork"])
    names = list(dict.fromkeys(shares["estimand"]))
    forks = list(dict.fromkeys(shares["fork"]))
    figure = Figure(figsize=(7.0, 0.9 + 0.35 * len(names) * len(forks) / 2), layout="constrained")
    ax = figure.subplots()
    height = 0.8 / len(forks)
    for f, fork in enumerate(forks):
        part = shares[shares["fork"] == fork].set_index("estimand").reindex(names)
        ax.barh(np.arange(len(names)) + f * height, part["variance_share"], height=height, label=fork)
    ax.set_yticks(np.arange(len(names)) + 0.4 - height / 2, names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of the estimates' variance over the universes")
    ax.legend(fontsize=7, loc="lower right")
    return figure
