"""The study's findings in plain language, computed from the result tables (never written by hand): what the
report's summary says, with the numbers that support each sentence."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from mimicry.apa import format_f, format_p
from mimicry.bayes_specs import MODEL_LABELS, WINDOW_CRITERIA_CAVEAT
from mimicry.lmm_checks import WITHOUT_BOUNDARY, FitCheck, best_tests, changed_decisions

FINDING_COLUMNS = ["topic", "statement"]
WEIGHT_LABELS = {
    "weight_lopo": "leave-one-participant-out",
    "weight_waic": "WAIC",
    "weight_loo": "PSIS-LOO",
    "weight_stacking": "PSIS-LOO stacking",
}


def term_words(term: str) -> str:
    return " × ".join(term.split(":"))


def dataset_findings(emg_rejections: pd.DataFrame, rates: pd.DataFrame, groups: Sequence[str]) -> list[str]:
    """How many participants were analysed per group, and what share of trials the outlier rules removed."""
    analysed = emg_rejections.loc[emg_rejections["status"] == "ok"].drop_duplicates("participant")
    per_group = analysed["group"].value_counts()
    counts = ", ".join(f"{int(per_group.get(group, 0))} {group}" for group in groups)
    excluded = emg_rejections.loc[emg_rejections["status"] != "ok", "participant"].nunique()
    overall = rates.loc[rates["group"] == "all"].set_index("measure")
    statement = f"{len(analysed)} participants were analysed ({counts})"
    statement += f"; {excluded} recording(s) could not be preprocessed and were excluded." if excluded else "."

    def rate(measure: str, of: str) -> str:  # with the paper's figure only for a study of the paper's design
        row = overall.loc[measure]
        paper = "" if pd.isna(row["paper_percent"]) else f" (paper: {row['paper_percent']:g}%)"
        return f"{row['percent']:.1f}% of {of}{paper}"

    statement += f" The outlier rules rejected {rate('emg_trials_rejected_pct', 'EMG trials')}"
    if "rt_outliers_pct" in overall.index:
        statement += f" and {rate('rt_outliers_pct', 'response times')}"
    return [statement + "."]


def response_time_findings(has_response_times: bool) -> list[str]:
    """Said once, for a study without a response task: what the report therefore does not have."""
    if has_response_times:
        return []
    return ["The study has no response times: no RT cleaning, RT model or Figure S2."]


def table1_findings(tests: pd.DataFrame, alpha: float) -> list[str]:
    """Do the drug groups differ in the Table 1 variables? (And which could not be tested.)"""
    tested = tests.dropna(subset=["p"])
    untested = tests.loc[tests["p"].isna(), "variable"].tolist()
    skipped = f" Not tested (see the notes under Table 1): {', '.join(untested)}." if untested else ""
    differing = tested.loc[tested["p"] < alpha]
    if tested.empty:
        return [f"No Table 1 variable could be tested.{skipped}"]
    if differing.empty:
        smallest = tested.loc[tested["p"].idxmin()]
        return [
            f"The drug groups did not differ in any Table 1 variable at p < {alpha:g} (smallest: "
            f"{smallest['variable']}, {format_p(smallest['p'])}).{skipped}"
        ]
    listed = "; ".join(f"{row.variable} ({row.test}, {format_p(row.p)})" for row in differing.itertuples())
    return [f"The drug groups differed at p < {alpha:g} in: {listed}.{skipped}"]


def rejection_findings(by_group: pd.DataFrame, alpha: float) -> list[str]:
    words = {
        "emg_rejected_trials": "rejected EMG trials",
        "rt_outlier_trials": "RT outliers",
        "rt_not_correct_trials": "trials without a correct response",
    }
    parts = [
        f"{words.get(row['measure'], row['measure'])}: F({row['df1']:g}, {row['df2']:g}) = {row['F']:.2f}, "
        f"{format_p(row['p'])}"
        for _, row in by_group.iterrows()
    ]
    differ = (by_group["p"] < alpha).any()
    verdict = "differed" if differ else "did not differ significantly"
    return [f"The number of excluded trials {verdict} between drug groups ({'; '.join(parts)})."]


def drug_terms(anova: pd.DataFrame) -> pd.DataFrame:
    return anova.loc[anova["term"].str.split(":").apply(lambda parts: "drug" in parts)]


def lmm_findings(name: str, anova: pd.DataFrame, alpha: float, trends: pd.DataFrame | None = None) -> list[str]:
    """For one model: the mimicry effect (emotion × time, with the time slope per emotion) where the model has
    it, and whether any term involving the drug group reached ``alpha``."""
    statements = []
    rows = anova.set_index("term")
    if "emotion:time" in rows.index:
        row = rows.loc["emotion:time"]
        verdict = "depended" if row["p"] < alpha else "did not depend significantly"
        statement = f"{name}: activity over time {verdict} on the emotion (emotion × time: {format_f(row)})"
        if trends is not None and not trends.empty:
            slopes = "; ".join(
                f"{t.emotion} {t.slope:+.4f} per window ({t.test} = {t.statistic:.2f}, {format_p(t.p)})"
                for t in trends.itertuples()
            )
            statement += f"; slope of time: {slopes}"
        statements.append(statement + ".")
    drug = drug_terms(anova)
    if drug.empty:
        return statements
    significant = drug.loc[drug["p"] < alpha]
    if significant.empty:
        smallest = drug.loc[drug["p"].idxmin()]
        statements.append(
            f"{name}: no term involving the drug group reached p < {alpha:g} (smallest: "
            f"{term_words(smallest['term'])}, {format_f(smallest)})."
        )
    else:
        listed = "; ".join(f"{term_words(row['term'])}, {format_f(row)}" for _, row in significant.iterrows())
        statements.append(f"{name}: terms involving the drug group at p < {alpha:g}: {listed}.")
    return statements


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


def bayes_findings(
    table2: pd.DataFrame, diagnostics: pd.DataFrame, contrasts: pd.DataFrame, hdi_prob: float
) -> list[str]:
    """Did every model pass the convergence gate; which drug - reference contrasts of the full model have an HDI
    that excludes 0; which model each criterion weighs most, and which criteria are unreliable."""
    failed = diagnostics.loc[~diagnostics["converged"].astype(bool)]
    worst_rhat, lowest_ess = diagnostics["max_rhat"].max(), diagnostics["min_ess_bulk"].min()
    named = "; ".join(f"{MODEL_LABELS.get(row.model, row.model)}: {row.failed_classes}" for row in failed.itertuples())
    if failed.empty:
        gate = f"All {len(diagnostics)} Bayesian models passed the convergence gate"
    elif len(failed) == len(diagnostics):
        gate = f"No Bayesian model passed the convergence gate ({named}): every estimate and weight is provisional"
    else:
        gate = (
            f"{len(failed)} of {len(diagnostics)} Bayesian models did not pass the convergence gate ({named}): "
            "their estimates are not reliable, and Table 2 weighs only the models that passed"
        )
    statements = [f"{gate} (largest R-hat {worst_rhat:.3f}, smallest bulk ESS {lowest_ess:.0f})."]
    full = contrasts[contrasts["model"] == "full"]
    if not full.empty:
        found = full[full["excludes_zero"].astype(bool)]
        if found.empty:
            largest = full.loc[full["mean"].abs().idxmax()]
            statements.append(
                f"No drug - {largest['reference']} contrast of the full model has a {hdi_prob:.0%} HDI excluding 0 "
                f"(largest: {largest['drug']}, {largest['parameter']} of the {largest['muscle']} in "
                f"{largest['emotion']}, {largest['mean']:+.3f} [{largest['hdi_low']:.3f}, {largest['hdi_high']:.3f}])."
            )
        else:
            listed = "; ".join(
                f"{row.drug} {row.parameter} of the {row.muscle} in {row.emotion} {row.direction} "
                f"({row.mean:+.3f} [{row.hdi_low:.3f}, {row.hdi_high:.3f}], probability of direction "
                f"{row.prob_direction:.3f})"
                for row in found.itertuples()
            )
            statements.append(
                f"Drug - {found['reference'].iloc[0]} contrasts of the full model whose {hdi_prob:.0%} HDI excludes "
                f"0: {listed}."
            )
    labels = table2.set_index("model")["label"]
    parts = []
    for column, words in WEIGHT_LABELS.items():
        weights = table2.set_index("model")[column]
        best = weights.idxmax()
        reliable = table2.set_index("model")["lopo_reliable" if column == "weight_lopo" else "windows_reliable"]
        flag = "" if reliable.all() else ", unreliable: more than 10% of Pareto k above 0.7"
        parts.append(f"{words}: '{labels[best]}' ({weights[best]:.3f}{flag})")
    statements.append("Model weights, most weighted model per criterion: " + "; ".join(parts) + ".")
    statements.append(WINDOW_CRITERIA_CAVEAT)
    return statements


def power_findings(
    table: pd.DataFrame, detectable: pd.DataFrame, coverage: pd.DataFrame, labels: Mapping[str, str], hdi_prob: float
) -> list[str]:
    """From the power analysis's tables: per decision rule and design, the smallest effect it detects with the
    target power (or its power at the largest effect simulated) and its false-positive rate; the Bayesian
    intervals' coverage of the planted contrast (``labels``: rule -> name)."""
    statements = []
    order = {rule: k for k, rule in enumerate(labels)}
    for row in detectable.sort_values("rule", key=lambda rules: rules.map(order)).itertuples():
        cells = table[(table["rule"] == row.rule)]
        cells = cells[
            cells["participants_per_group"].isna()
            if pd.isna(row.participants_per_group)
            else (cells["participants_per_group"] == row.participants_per_group)
        ]
        design = (
            "the study's group sizes"
            if pd.isna(row.participants_per_group)
            else (f"{int(row.participants_per_group)} per group")
        )
        largest = cells.loc[cells["effect"].abs().idxmax()]
        # the detectable effects are sizes: given the sign of the grid's effects
        effect, low, high = (
            math.copysign(size, largest["effect"]) for size in (row.effect, row.effect_low, row.effect_high)
        )
        reach = (
            f"reaches {row.target_power:.0%} power at an effect of {effect:.3f} (from the power intervals: "
            f"{low:.3f} to {high:.3f})"
            if pd.notna(row.effect)
            else f"does not reach {row.target_power:.0%} power within the effects simulated (at "
            f"{largest['effect']:g}: {largest['power']:.0%} [{largest['ci_low']:.0%}, {largest['ci_high']:.0%}])"
        )
        null = cells[cells["effect"] == 0.0]
        false_positives = (
            f"; with no effect it detects {null['power'].iloc[0]:.1%} [{null['ci_low'].iloc[0]:.1%}, "
            f"{null['ci_high'].iloc[0]:.1%}] of {int(null['replicates'].iloc[0])} studies"
            if len(null)
            else ""
        )
        statements.append(f"{labels.get(row.rule, row.rule)}, {design}: {reach}{false_positives}.")
    if len(coverage):
        covered, total = int(coverage["covered"].sum()), int(coverage["contrasts"].sum())
        statements.append(
            f"The Bayesian {hdi_prob:.0%} HDI covered the planted drug contrast in {covered / total:.1%} of {total} "
            f"simulated contrasts ({coverage['coverage'].min():.0%} to {coverage['coverage'].max():.0%} per effect)."
        )
    return statements


def findings_table(topics: Mapping[str, list[str]]) -> pd.DataFrame:
    """One row per statement (FINDING_COLUMNS), topics in the order given."""
    rows = [
        {"topic": topic, "statement": statement} for topic, statements in topics.items() for statement in statements
    ]
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)
