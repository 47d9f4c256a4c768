"""The model checks' verdicts in plain language, computed from their result tables: the LMMs' refits across
optimizers, the Bayesian models' posterior predictive checks and prior sensitivity, and the simulation-based
calibration (the report's summary, beside :mod:`mimicry.findings`). The tests they rest on are pure Python: the
report's environment has no SciPy."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from mimicry.apa import format_p
from mimicry.bayes_specs import MODEL_LABELS
from mimicry.findings import term_words
from mimicry.lmm_checks import WITHOUT_BOUNDARY, FitCheck, best_tests, changed_decisions


def lmm_convergence_findings(
    info: pd.DataFrame,
    labels: Mapping[str, str],
    anova: Mapping[str, pd.DataFrame],
    refits: pd.DataFrame,
    alpha: float,
) -> list[str]:
    """For each model fit used that lme4 warned about (``info.tsv`` rows, ``labels``: model -> name): the
    warning, the verdict of the refits across optimizers, the variance components at the boundary and whether the
    tests print the same without them; where a test changes, whether its decision at ``alpha`` does (``anova``:
    model -> its ANOVA table; ``refits``: the models' ``optimizers.tsv`` rows)."""
    used = info.loc[info["used"].astype(bool)]
    warned = used.loc[used["verdict"] != "no warning"]
    if warned.empty:
        return [f"lme4 fitted all {len(used)} linear mixed models without a warning."]

    def decisions(model: str, tests: pd.DataFrame) -> str:
        changed = changed_decisions(anova[model], tests, alpha)
        listed = ", ".join(term_words(term) for term in changed)
        return (
            f"significance at p < {alpha:g} changed for {listed}"
            if changed
            else f"no decision at p < {alpha:g} changed"
        )

    statements = []
    for row in warned.itertuples():
        name = labels.get(row.model, row.model)
        what = "; ".join(dict.fromkeys(w.split(":")[0].strip() for w in str(row.warnings).split(" | ")))
        if row.verdict == "not checked":
            statements.append(f"{name}: lme4 warned ({what}); the fit was not checked across optimizers.")
            continue
        own = refits.loc[refits["model"] == row.model]
        refitted = own.loc[own["optimizer"] != WITHOUT_BOUNDARY]
        off_boundary = "; its own once more from off the boundary" if "singular" in str(row.warnings) else ""
        refits_words = (
            f"in {int(row.refits)} refits (each optimizer of lme4's allFit restarted from its optimum{off_boundary})"
        )
        if row.verdict == "stable":
            verdict = "every reported test held at the precision printed (stable)"
        else:
            changed = decisions(row.model, best_tests(FitCheck(refitted)))
            verdict = f"UNSTABLE: the tests of {row.unstable_terms} changed ({changed}); read them with caution"
        boundary = f"; at the boundary: {row.boundary}" if isinstance(row.boundary, str) and row.boundary else ""
        simpler = row.without_boundary
        if isinstance(simpler, str) and simpler:
            differs = str(row.without_boundary_differs)
            if differs == "none":
                held = "every reported test printed the same"
            else:
                changed = decisions(row.model, own.loc[own["optimizer"] == WITHOUT_BOUNDARY])
                held = f"the tests of {differs} changed ({changed})"
            boundary += f"; without it ({simpler}) {held}"
        statements.append(f"{name}: lme4 warned ({what}); {refits_words}, {verdict}{boundary}.")
    return statements


def posterior_predictive_verdict(table: pd.DataFrame, prob: float) -> tuple[bool, int, int]:
    """Whether a model reproduces the groups' mean curves (``table``: its ``posterior_predictive.tsv``): the cells
    whose observed mean lies outside its ``prob`` posterior predictive interval, against the most that chance gives
    95% of the time had each cell a ``1 - prob`` chance (the binomial quantile; posterior predictive p-values
    gather near 0.5 under a model that fits, so this bound is generous). (fits, outside, bound)."""
    cells, chance = len(table), 1.0 - prob
    bound, cumulative = 0, 0.0
    while True:
        cumulative += math.comb(cells, bound) * chance**bound * (1.0 - chance) ** (cells - bound)
        if cumulative >= 0.95 or bound == cells:
            break
        bound += 1
    outside = int(table["outside"].astype(bool).sum())
    return outside <= bound, outside, bound


def uniformity(values: np.ndarray) -> tuple[float, float]:
    """The Kolmogorov-Smirnov distance of ``values`` from the uniform distribution on [0, 1] and its asymptotic
    p-value (Kolmogorov's series, as scipy's ``kstest(method="asymp")``; pure Python: the report's environment has
    no SciPy)."""
    ordered = np.sort(np.asarray(values, dtype=float))
    n = len(ordered)
    ranks = np.arange(1, n + 1)
    statistic = float(max((ranks / n - ordered).max(), (ordered - (ranks - 1) / n).max()))
    x = math.sqrt(n) * statistic
    if x < 0.2:
        return statistic, 1.0
    p = 2.0 * sum((-1) ** (k - 1) * math.exp(-2.0 * k * k * x * x) for k in range(1, 101))
    return statistic, min(1.0, max(0.0, p))


#: Below this p-value the LOO-PIT values are called not uniform (approximate: the values are not independent).
LOO_PIT_ALPHA = 0.01


def posterior_predictive_findings(
    tables: Mapping[str, pd.DataFrame], prob: float, pointwise: Mapping[str, pd.DataFrame]
) -> list[str]:
    """One line per nested model (``tables``: model -> its ``posterior_predictive.tsv``; ``pointwise``: model -> its
    ``pointwise.parquet``): does it reproduce each drug group's mean curve (the cells outside their posterior
    predictive interval against chance), and are its LOO-PIT values uniform (the observation model)?"""
    statements = []
    for model, table in tables.items():
        fits, outside, bound = posterior_predictive_verdict(table, prob)
        name = MODEL_LABELS.get(model, model)
        counted = f"{outside} of {len(table)} group x muscle x emotion x window means outside their {prob:.0%} interval"
        if fits:
            curves = f"reproduces the groups' mean curves ({counted}; chance: up to {bound})"
        else:
            missed = table.loc[table["outside"].astype(bool)]
            cell = missed.groupby(["muscle", "emotion"]).size()
            window = missed["window"].value_counts()
            curves = (
                f"MISSES the groups' mean curves ({counted}, more than the {bound} chance gives; {window.iloc[0]} of "
                f"them in window {window.index[0]}, {cell.max()} in {' '.join(cell.idxmax())}): its estimates "
                "describe a model the data do not support"
            )
        statistic, p = uniformity(pointwise[model]["loo_pit"].to_numpy())
        tested = f"Kolmogorov-Smirnov D = {statistic:.3f}, {format_p(p)}"
        pit = (
            f"its LOO-PIT values are uniform ({tested})"
            if p >= LOO_PIT_ALPHA
            else f"its LOO-PIT values are NOT uniform ({tested}): the residual model misses the window values' spread"
        )
        statements.append(f"Posterior predictive check, {name}: {curves}; {pit}.")
    return statements


#: Kallioinen et al.'s threshold of the power-scaling sensitivity (mimicry.bayes.sensitivity's THRESHOLD).
SENSITIVITY_THRESHOLD = 0.05


def prior_sensitivity_findings(tables: Mapping[str, pd.DataFrame], contrasts: pd.DataFrame) -> list[str]:
    """One line per nested model (``tables``: model -> its ``sensitivity.tsv``): which drug contrasts whose HDI
    excludes 0 (``contrasts.tsv``) depend on the prior, and how many population parameters are prior-sensitive."""
    statements = []
    for model, table in tables.items():
        name = MODEL_LABELS.get(model, model)
        sensitive = table.loc[table["prior"] >= SENSITIVITY_THRESHOLD]
        parameters = sensitive.loc[~sensitive["quantity"].str.endswith("_contrast")]
        found = contrasts.loc[(contrasts["model"] == model) & contrasts["excludes_zero"].astype(bool)]
        keys = ["drug", "muscle", "emotion"]
        found_sensitive = found.assign(quantity=found["parameter"] + "_contrast").merge(
            sensitive, on=["quantity", *keys]
        )
        is_contrast = table["quantity"].str.endswith("_contrast")
        if not is_contrast.any():
            conclusions = "no drug term"
        elif found.empty:
            conclusions = "no drug contrast excludes 0"
        elif found_sensitive.empty:
            conclusions = f"none of the {len(found)} drug contrasts whose HDI excludes 0 depends on the prior"
        else:
            listed = "; ".join(
                f"{row.drug} {row.parameter} in {row.muscle} {row.emotion} ({row.prior:.2f}, {row.diagnosis})"
                for row in found_sensitive.itertuples()
            )
            conclusions = f"DEPENDS ON THE PRIOR: the drug contrasts {listed}"
        largest = (
            f"; largest contrast sensitivity {table.loc[is_contrast, 'prior'].max():.3f}" if is_contrast.any() else ""
        )
        statements.append(
            f"Prior sensitivity, {name}: {conclusions} (power-scaling, threshold {SENSITIVITY_THRESHOLD:g}"
            f"{largest}); {len(parameters)} of {int((~is_contrast).sum())} population parameters are prior-sensitive"
            + (f" ({', '.join(sorted(set(parameters['quantity'])))})." if len(parameters) else ".")
        )
    return statements


def calibration_findings(uniformity: pd.DataFrame) -> list[str]:
    """The simulation-based calibration in one line (``uniformity.tsv``): which quantities' ranks are uniform."""
    simulations, failed = int(uniformity["simulations"].max()), int(uniformity["failed_gate"].max())
    off = uniformity.loc[~uniformity["uniform"].astype(bool)]
    fits = f"{simulations} simulations from the priors, {failed} of whose fits missed the convergence gate (counted)"
    if off.empty:
        return [f"Calibrated: the ranks of all {len(uniformity)} quantities are uniform ({fits})."]
    listed = "; ".join(
        f"{row.quantity} (chi-square p = {row.p:.3g}, ECDF distance {row.ecdf_distance:.3f} vs band {row.band:.3f})"
        for row in off.itertuples()
    )
    return [f"NOT calibrated in {len(off)} of {len(uniformity)} quantities: {listed} ({fits})."]
