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
from mimicry.power.planning import RULE_LABELS, RULE_PHRASES, design_phrase, target_groups
from mimicry.power.studies import DESIGN_COLUMNS, typed
from mimicry.settings import Diagnostics, PowerSettings, SimulationSettings
from mimicry.study import Study

#: The smallest detectable effect and its bounds (:func:`smallest_detectable`).
DETECTABLE_EFFECTS = ["effect", "effect_low", "effect_high"]
#: Columns of :func:`participants_needed`.
NEEDED_COLUMNS = [
    "design",
    "effect",
    "rule",
    "target_power",
    "participants",
    "participants_low",
    "participants_high",
    "sessions",
    "reached",
]
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
    return typed(table).astype({"warnings": "Int64", "converged": "boolean"})


def power_table(replicates: pd.DataFrame) -> pd.DataFrame:
    """Per design x size x effect x rule: replicates, detections, power and its 95% interval, the Monte Carlo
    standard error, and (Bayesian rules) how many studies' fits missed the convergence gate."""
    keys = [*DESIGN_COLUMNS, "effect", "rule"]
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
    """Per design x size and rule, the smallest planted effect (in size) whose power reaches ``target``, by linear
    interpolation between grid effects; ``low``/``high`` from the power intervals' bounds (NaN: not reached in
    the grid)."""
    rows = []
    for keys, cells in table.groupby([*DESIGN_COLUMNS, "rule"], dropna=False, sort=True):
        cells = cells.assign(size=cells["effect"].abs()).sort_values("size")
        row = {**dict(zip([*DESIGN_COLUMNS, "rule"], keys, strict=True)), "target_power": target}
        for name, column in (("effect", "power"), ("effect_low", "ci_high"), ("effect_high", "ci_low")):
            row[name] = _crossing(cells["size"].to_numpy(), cells[column].to_numpy(), target)
        rows.append(row)
    return typed(pd.DataFrame(rows, columns=[*DESIGN_COLUMNS, "rule", "target_power", *DETECTABLE_EFFECTS]))


def participants_needed(table: pd.DataFrame, target: float) -> pd.DataFrame:
    """Per design x planted effect (not 0) x rule: how many participants (and recordings) reach ``target`` power,
    by linear interpolation between the design's simulated sizes; ``participants_low``/``_high`` from the power
    intervals' bounds. ``reached``: ``interpolated``, ``at the smallest size`` (the smallest simulated already
    reaches it: at most that many) or ``beyond the grid`` (no simulated size does: NaN)."""
    rows = []
    for (design, effect, rule), cells in table[table["effect"] != 0.0].groupby(["design", "effect", "rule"]):
        cells = cells.sort_values("participants")
        people = cells["participants"].to_numpy(float)
        row = {"design": design, "effect": effect, "rule": rule, "target_power": target}
        for name, column in (
            ("participants", "power"),
            ("participants_low", "ci_high"),
            ("participants_high", "ci_low"),
        ):
            row[name] = _crossing(people, cells[column].to_numpy(), target)
        row["sessions"] = row["participants"] * float(cells["sessions"].iloc[0]) / float(cells["participants"].iloc[0])
        above = np.flatnonzero(cells["power"].to_numpy() >= target)
        row["reached"] = (
            "beyond the grid" if len(above) == 0 else "at the smallest size" if above[0] == 0 else "interpolated"
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=NEEDED_COLUMNS)


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


def cells_of(table: pd.DataFrame, row: Any) -> pd.DataFrame:
    """The rows of ``table`` of the design and size of ``row`` (a row of a table keyed by DESIGN_COLUMNS)."""
    size = row.participants_per_group
    same = table["participants_per_group"].isna() if pd.isna(size) else table["participants_per_group"] == size
    return table[same & (table["design"] == row.design) & (table["participants"] == row.participants)]


def _design_paragraph(
    study: Study,
    simulation: SimulationSettings,
    power: PowerSettings,
    specs: Mapping[str, Mapping[str, LmmSpec]],
    hdi_prob: float,
    bayes: bool,
    table: pd.DataFrame,
) -> str:
    """What was simulated and which rules were applied (``specs``: each design's rule models)."""
    target = power.target
    sizes = table.drop_duplicates(DESIGN_COLUMNS).sort_values(["design", "participants"])
    phrases = [design_phrase(*row) for row in sizes[DESIGN_COLUMNS].itertuples(index=False)]
    parameter = {"a": "asymptote", "c": "log rate"}[target.parameter]
    effects = ", ".join(f"{e:g}" for e in power.effects)
    text = (
        f"Power was estimated by simulation. For each planted drug effect ({effects}, added to the {parameter} of "
        f"the {target.muscle} {target.emotion} curve in {' and '.join(target_groups(target, study))}) and each "
        f"design simulated, {power.replicates} studies were simulated (the same studies at every effect) "
        "and their trial x window log EMG drawn from the simulator's generative model (planted participant curves, "
        "trial-to-trial response weights, the tonic fluctuation's window-minus-baseline covariance, artefacts and "
        f"the outlier rules of the preprocessing). The designs: {'; '.join(phrases)}."
    )
    if "within" in specs:
        crossover = simulation.crossover
        text += (
            " In a crossover every participant was recorded once per drug, one session each, in the sequences of a "
            f"Williams design; the participant's curve shared by the sessions, their own drug effects varying "
            f"(SD {crossover.drug_sd.a:g}, {crossover.drug_sd.b:g}, {crossover.drug_sd.c:g} on a, b, c), every "
            f"asymptote {crossover.period_effect_a:+g} per later period"
            + (f", {crossover.carryover:.0%} of the previous drug's effect carried over" if crossover.carryover else "")
            + "; each recording's trials rejected by the outlier rules on its own."
        )
    sessions = " (participant x session x condition x window means in a crossover)" if "within" in specs else ""
    text += (
        f" In each study two frequentist decision rules were applied at alpha = {power.alpha:g}, each fitted by REML "
        f"(lme4, lmerTest, Satterthwaite degrees of freedom) to participant x condition x window means{sessions}."
    )
    for design, rule_models in specs.items():
        text += (
            f" {'Between participants' if design == 'between' else 'In a crossover'}: the drug x time test of the "
            f"follow-up model, {rule_models['followup'].formulas[0]}, and the emotion x drug x time test of the full "
            f"model, {rule_models['full'].formulas[0]}."
        )
    if bayes:
        rules = power.bayes
        text += (
            f" In the first {rules.replicates} studies of each effect and design, the Bayesian asymptotic model "
            f"(participant effects of a and b integrated out; in a crossover shared by the sessions, each session's "
            f"own deviation of the asymptote integrated out too) was fitted to the {target.muscle} "
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
    several = len(detectable.drop_duplicates(DESIGN_COLUMNS)) > 1
    for row in detectable.sort_values("rule", key=lambda rules: rules.map(order), kind="stable").itertuples():
        rows = cells_of(table[table["rule"] == row.rule], row)
        largest = rows.loc[rows["effect"].abs().idxmax()]
        design = (
            f" with {design_phrase(row.design, row.participants_per_group, row.participants, row.sessions)}"
            if several
            else ""
        )
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


def needed_sentences(needed: pd.DataFrame, labels: Mapping[str, str]) -> list[str]:
    """Per planted effect and rule: the participants (and sessions) each design needs for the target power
    (``needed``: :func:`participants_needed`; ``labels``: rule -> name); none with a single design."""
    if needed["design"].nunique() < 2:
        return []
    statements = []
    order = {rule: k for k, rule in enumerate(RULE_LABELS)}
    ordered = needed.assign(size=needed["effect"].abs(), order=needed["rule"].map(order)).sort_values(["size", "order"])
    for (effect, rule), rows in ordered.groupby(["effect", "rule"], sort=False):
        parts = []
        for row in rows.sort_values("design").itertuples():
            what = "between participants" if row.design == "between" else "in a crossover"
            if row.reached == "beyond the grid":
                parts.append(f"{what}: more than the largest size simulated")
            else:
                bound = "at most " if row.reached == "at the smallest size" else ""
                span = (
                    f", {row.participants_low:.0f} to {row.participants_high:.0f} from the power intervals"
                    if row.reached == "interpolated"
                    and pd.notna(row.participants_low)
                    and pd.notna(row.participants_high)
                    else ""
                )
                parts.append(f"{what}: {bound}{row.participants:.0f} participants ({row.sessions:.0f} sessions{span})")
        target = rows["target_power"].iloc[0]
        name = labels.get(str(rule), str(rule))
        statements.append(f"{name}, effect {effect:g}, {target:.0%} power: {'; '.join(parts)}.")
    return statements


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
    specs: Mapping[str, Mapping[str, LmmSpec]],
    hdi_prob: float,
    gate: Diagnostics,
    table: pd.DataFrame,
    detectable: pd.DataFrame,
    coverage: pd.DataFrame | None = None,
    needed: pd.DataFrame | None = None,
) -> str:
    """The power analysis as a methods and results paragraph, from the settings it ran with and its tables
    (``specs``: per design, :func:`mimicry.power.planning.rule_specs`; ``coverage``:
    :func:`mimicry.power.bayes_rules.coverage_table`, when the Bayesian rules ran; ``needed``:
    :func:`participants_needed`, whose comparison of designs closes the paragraph)."""
    bayes = coverage is not None and len(coverage) > 0
    text = _design_paragraph(study, simulation, power, specs, hdi_prob, bayes, table)
    text += _rule_sentences(table, detectable)
    if coverage is not None and bayes:
        text += _coverage_sentences(table, coverage, hdi_prob, gate)
    if needed is not None:
        comparison = needed_sentences(needed, RULE_PHRASES)
        if comparison:
            text += " Participants needed per design: " + " ".join(f"{c[0].upper()}{c[1:]}" for c in comparison)
    return text
