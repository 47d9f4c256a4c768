"""The power analysis's results: power per effect, group size and rule with exact intervals, the smallest
detectable effect, and the analysis as a methods and results paragraph."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mimicry.lmm_specs import LmmSpec
from mimicry.power.lmm_rules import REPLICATE_COLUMNS
from mimicry.power.planning import RULE_LABELS, RULE_PHRASES, target_groups
from mimicry.settings import Diagnostics, PowerSettings, SimulationSettings
from mimicry.study import Study

#: Columns of the replicates of every rule: ``p`` and ``warnings`` for the LMM rules, ``converged`` (both models
#: passed the convergence gate) for the Bayesian ones.
ALL_REPLICATE_COLUMNS = [*REPLICATE_COLUMNS, "converged"]


def clopper_pearson(detections: np.ndarray, trials: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial interval of a proportion (Clopper-Pearson), vectorised."""
    from scipy.stats import beta

    detections, trials = np.asarray(detections, dtype=float), np.asarray(trials, dtype=float)
    tail = (1.0 - level) / 2.0
    low = np.where(detections > 0, beta.ppf(tail, detections, trials - detections + 1), 0.0)
    high = np.where(detections < trials, beta.ppf(1.0 - tail, detections + 1, trials - detections), 1.0)
    return low, high


def all_replicates(lmm: pd.DataFrame, bayes: pd.DataFrame) -> pd.DataFrame:
    """One row per study x rule (``ALL_REPLICATE_COLUMNS``): the LMM batches' rows and the Bayesian rules'
    decisions (``mimicry.power.bayes_rules.rule_decisions``; empty: they did not run)."""
    tables = [lmm.assign(converged=pd.NA)]
    if len(bayes):
        tables.append(bayes.assign(p=np.nan, warnings=pd.NA))
    table = pd.concat(tables, ignore_index=True)[ALL_REPLICATE_COLUMNS]
    return table.astype({"participants_per_group": "Int64", "warnings": "Int64", "converged": "boolean"})


def power_table(replicates: pd.DataFrame) -> pd.DataFrame:
    """Per effect x group size x rule: replicates, detections, power and its 95% interval, the Monte Carlo
    standard error, and (Bayesian rules) how many studies' fits missed the convergence gate."""
    keys = ["effect", "participants_per_group", "rule"]
    grouped = replicates.groupby(keys, dropna=False, sort=True)
    table = grouped["detected"].agg(replicates="size", detections="sum").reset_index()
    table["power"] = table["detections"] / table["replicates"]
    table["ci_low"], table["ci_high"] = clopper_pearson(table["detections"], table["replicates"])
    table["mc_se"] = np.sqrt(table["power"] * (1 - table["power"]) / table["replicates"])
    if "converged" in replicates:
        failed = grouped["converged"].agg(lambda c: int((~c.dropna().astype(bool)).sum()) if c.notna().any() else -1)
        table["failed_gate"] = pd.array(failed.to_numpy(), dtype="Int64")
        table.loc[table["failed_gate"] == -1, "failed_gate"] = pd.NA  # the LMM rules have no gate
    return table


def smallest_detectable(table: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per group size and rule, the smallest planted effect (in size) whose power reaches ``target``, by linear
    interpolation between grid effects; ``low``/``high`` from the power intervals' bounds (NaN: not reached in
    the grid)."""
    rows = []
    for (size, rule), cells in table.groupby(["participants_per_group", "rule"], dropna=False, sort=True):
        cells = cells.assign(size=cells["effect"].abs()).sort_values("size")
        row = {"participants_per_group": size, "rule": rule, "target_power": target}
        for name, column in (("effect", "power"), ("effect_low", "ci_high"), ("effect_high", "ci_low")):
            row[name] = _crossing(cells["size"].to_numpy(), cells[column].to_numpy(), target)
        rows.append(row)
    return pd.DataFrame(rows)


def _crossing(sizes: np.ndarray, power: np.ndarray, target: float) -> float:
    """The first size at which ``power`` (over increasing ``sizes``) reaches ``target``, interpolated."""
    above = np.flatnonzero(power >= target)
    if len(above) == 0:
        return float("nan")
    first = above[0]
    if first == 0:
        return float(sizes[0])
    x0, x1, y0, y1 = sizes[first - 1], sizes[first], power[first - 1], power[first]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))


def _share(cell: pd.Series) -> str:
    return f"{cell['power']:.1%} [{cell['ci_low']:.1%}, {cell['ci_high']:.1%}]"


def _same_size(sizes: pd.Series, size: Any) -> pd.Series:
    return sizes.isna() if pd.isna(size) else sizes == size


def _design_paragraph(
    study: Study,
    simulation: SimulationSettings,
    power: PowerSettings,
    specs: Mapping[str, LmmSpec],
    hdi_prob: float,
    bayes: bool,
) -> str:
    """What was simulated and which rules were applied."""
    target = power.target
    sizes = [f"{n} per group" for n in power.participants_per_group] or [
        "/".join(str(n) for n in simulation.participants_per_group.values()) + " participants"
    ]
    parameter = {"a": "asymptote", "c": "log rate"}[target.parameter]
    effects = ", ".join(f"{e:g}" for e in power.effects)
    text = (
        f"Power was estimated by simulation. For each planted drug effect ({effects}, added to the {parameter} of "
        f"the {target.muscle} {target.emotion} curve in {' and '.join(target_groups(target, study))}) and each "
        f"design ({'; '.join(sizes)}), {power.replicates} studies were simulated (the same studies at every effect) "
        "and their trial x window log EMG drawn from the simulator's generative model (planted participant curves, "
        "trial-to-trial response weights, the tonic fluctuation's window-minus-baseline covariance, artefacts and "
        "the outlier rules of the preprocessing). In each study two frequentist decision rules were applied at "
        f"alpha = {power.alpha:g}: the drug x time test of the follow-up model ({specs['followup'].formulas[0]}) "
        f"and the emotion x drug x time test of the full model ({specs['full'].formulas[0]}), both fitted by REML "
        "(lme4, lmerTest, Satterthwaite degrees of freedom) to participant x condition x window means."
    )
    if bayes:
        rules = power.bayes
        text += (
            f" In the first {rules.replicates} studies of each effect and design, the Bayesian asymptotic model "
            f"(participant effects of a and b integrated out) was fitted to the {target.muscle} "
            f"{target.emotion} window means with and without drug effects ({rules.chains} chains x "
            f"{rules.draws} draws after {rules.warmup} warm-up, nutpie), and two Bayesian rules applied: the "
            f"full model's {parameter} contrast of a drug with {study.reference_group} has a "
            f"{hdi_prob:.0%} HDI excluding 0 (for either drug), and "
            "leave-one-participant-out favours the model with drug effects (weight above 0.5)."
        )
    return text + " Power is the share of studies with a detection, with exact (Clopper-Pearson) 95% intervals."


def _rule_sentences(table: pd.DataFrame, detectable: pd.DataFrame) -> str:
    """Per rule and design: power at the largest effect, where it reached the target, its false-positive rate."""
    text = ""
    order = {rule: k for k, rule in enumerate(RULE_LABELS)}  # the LMM rules first, as the text introduces them
    for row in detectable.sort_values("rule", key=lambda rules: rules.map(order)).itertuples():
        rows = table[
            (table["rule"] == row.rule) & _same_size(table["participants_per_group"], row.participants_per_group)
        ]
        largest = rows.loc[rows["effect"].abs().idxmax()]
        design = "" if pd.isna(row.participants_per_group) else f" with {row.participants_per_group} per group"
        reached = math.copysign(row.effect, largest["effect"])  # a size, given the sign of the grid's effects
        text += (
            f" The {RULE_PHRASES.get(str(row.rule), str(row.rule))}{design} detected the largest effect "
            f"({largest['effect']:g}) in {_share(largest)} of the studies and "
            + (
                f"reached {row.target_power:.0%} power at an effect of {reached:.3f}"
                if pd.notna(row.effect)
                else f"did not reach {row.target_power:.0%} power within the effects simulated"
            )
        )
        null = rows[rows["effect"] == 0.0]
        text += f"; with no effect it detected {_share(null.iloc[0])} of them." if len(null) else "."
    return text


def _coverage_sentences(table: pd.DataFrame, coverage: pd.DataFrame, hdi_prob: float, gate: Diagnostics) -> str:
    """How often the HDI covered the planted contrast, the posterior means' error, and the convergence gate."""
    covered, total = int(coverage["covered"].sum()), int(coverage["contrasts"].sum())
    low, high = clopper_pearson(np.array([covered]), np.array([total]))
    largest = coverage.loc[coverage["effect"].abs().idxmax()]
    text = (
        f" The {hdi_prob:.0%} HDI covered the planted contrast in "
        f"{covered / total:.1%} [{low[0]:.1%}, {high[0]:.1%}] of {total} contrasts "
        f"({coverage['coverage'].min():.0%} to {coverage['coverage'].max():.0%} across effects and designs); "
        f"at the largest effect ({largest['effect']:g}) the posterior means erred by {largest['mean_error']:+.3f} "
        "on average."
    )
    studies = table[table["rule"] == "bayes_contrast_hdi"]  # both Bayesian rules decide on the same fits
    if len(studies):
        failed, fitted = int(studies["failed_gate"].sum()), int(studies["replicates"].sum())
        text += (
            (
                f" In {failed} of {fitted} studies a Bayesian fit"
                if failed
                else f" No Bayesian fit of the {fitted} studies"
            )
            + " missed the convergence gate (R-hat, bulk ESS of the population parameters, divergences: "
            f"{gate.max_rhat:g}, {gate.min_ess_bulk:g}, {gate.max_divergences})."
        )
    return text


def methods_paragraph(
    study: Study,
    simulation: SimulationSettings,
    power: PowerSettings,
    specs: Mapping[str, LmmSpec],
    hdi_prob: float,
    gate: Diagnostics,
    table: pd.DataFrame,
    detectable: pd.DataFrame,
    coverage: pd.DataFrame | None = None,
) -> str:
    """The power analysis as a methods and results paragraph, from the settings it ran with and its tables
    (``specs``: :func:`mimicry.power.planning.rule_specs`; ``coverage``:
    :func:`mimicry.power.bayes_rules.coverage_table`, when the Bayesian rules ran)."""
    bayes = coverage is not None and len(coverage) > 0
    text = _design_paragraph(study, simulation, power, specs, hdi_prob, bayes) + _rule_sentences(table, detectable)
    if coverage is not None and bayes:
        text += _coverage_sentences(table, coverage, hdi_prob, gate)
    return text
