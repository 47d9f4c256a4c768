"""The study's findings in plain language, computed from the result tables (never written by hand): what the
report's summary says, with the numbers that support each sentence."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd

from mimicry.apa import format_f, format_p
from mimicry.bayes_specs import MODEL_LABELS, WINDOW_CRITERIA_CAVEAT
from mimicry.power.planning import design_phrase
from mimicry.power.summary import cells_of, needed_sentences

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
    """How many participants were analysed per group (a crossover's: in how many sessions, how many under each
    drug), and what share of trials the outlier rules removed."""
    crossover = "session" in emg_rejections.columns
    analysed = emg_rejections.loc[emg_rejections["status"] == "ok"]
    analysed = analysed.drop_duplicates(["participant", "session"] if crossover else "participant")
    per_group = analysed["group"].value_counts()
    excluded = emg_rejections.loc[emg_rejections["status"] != "ok", "participant"].nunique()
    overall = rates.loc[rates["group"] == "all"].set_index("measure")
    if crossover:
        counts = ", ".join(f"{int(per_group.get(group, 0))} under {group}" for group in groups)
        statement = (
            f"{analysed['participant'].nunique()} participants were analysed in {len(analysed)} sessions ({counts})"
        )
    else:
        counts = ", ".join(f"{int(per_group.get(group, 0))} {group}" for group in groups)
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


def table1_findings(tests: pd.DataFrame, alpha: float, crossover: bool = False) -> list[str]:
    """Do the drug groups (a crossover's: the sessions under each drug) differ in the Table 1 variables? (And which
    could not be tested.)"""
    who = "The sessions under each drug" if crossover else "The drug groups"
    tested = tests.dropna(subset=["p"])
    untested = tests.loc[tests["p"].isna(), "variable"].tolist()
    skipped = f" Not tested (see the notes under Table 1): {', '.join(untested)}." if untested else ""
    differing = tested.loc[tested["p"] < alpha]
    if tested.empty:
        return [f"No Table 1 variable could be tested.{skipped}"]
    if differing.empty:
        smallest = tested.loc[tested["p"].idxmin()]
        return [
            f"{who} did not differ in any Table 1 variable at p < {alpha:g} (smallest: "
            f"{smallest['variable']}, {format_p(smallest['p'])}).{skipped}"
        ]
    listed = "; ".join(f"{row.variable} ({row.test}, {format_p(row.p)})" for row in differing.itertuples())
    return [f"{who} differed at p < {alpha:g} in: {listed}.{skipped}"]


def rejection_findings(by_group: pd.DataFrame, alpha: float, crossover: bool = False) -> list[str]:
    """Did the numbers of excluded trials differ between the drug groups (a crossover's: between the drugs, within
    participants)?"""
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
    between = "between drugs, within participants" if crossover else "between drug groups"
    return [f"The number of excluded trials {verdict} {between} ({'; '.join(parts)})."]


def drug_terms(anova: pd.DataFrame) -> pd.DataFrame:
    return anova.loc[anova["term"].str.split(":").apply(lambda parts: "drug" in parts)]


def lmm_findings(
    name: str, anova: pd.DataFrame, alpha: float, trends: pd.DataFrame | None = None, crossover: bool = False
) -> list[str]:
    """For one model: the mimicry effect (emotion × time, with the time slope per emotion) where the model has
    it, and whether any term involving the drug group (a crossover's: the drug) reached ``alpha``."""
    drug_words = "the drug" if crossover else "the drug group"
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
            f"{name}: no term involving {drug_words} reached p < {alpha:g} (smallest: "
            f"{term_words(smallest['term'])}, {format_f(smallest)})."
        )
    else:
        listed = "; ".join(f"{term_words(row['term'])}, {format_f(row)}" for _, row in significant.iterrows())
        statements.append(f"{name}: terms involving {drug_words} at p < {alpha:g}: {listed}.")
    return statements


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
    table: pd.DataFrame,
    detectable: pd.DataFrame,
    coverage: pd.DataFrame,
    labels: Mapping[str, str],
    hdi_prob: float,
    needed: pd.DataFrame | None = None,
) -> list[str]:
    """From the power analysis's tables: per decision rule, design and size, the smallest effect it detects with
    the target power (or its power at the largest effect simulated) and its false-positive rate; the Bayesian
    intervals' coverage of the planted contrast; with designs compared (``needed``), the participants each needs
    (``labels``: rule -> name)."""
    statements = []
    order = {rule: k for k, rule in enumerate(labels)}
    for row in detectable.sort_values("rule", key=lambda rules: rules.map(order), kind="stable").itertuples():
        cells = cells_of(table[table["rule"] == row.rule], row)
        design = design_phrase(row.design, row.participants_per_group, row.participants, row.sessions)
        largest = cells.loc[cells["effect"].abs().idxmax()]
        # the detectable effects are sizes: given the sign of the grid's effects
        effect, low, high = (
            math.copysign(size, largest["effect"]) for size in (row.effect, row.effect_low, row.effect_high)
        )
        bounds = [f"{bound:.3f}" if pd.notna(bound) else "beyond the grid" for bound in (low, high)]
        reach = (
            f"reaches {row.target_power:.0%} power at an effect of {effect:.3f} (from the power intervals: "
            f"{bounds[0]} to {bounds[1]})"
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
    if needed is not None:
        statements += [f"Participants needed: {sentence}" for sentence in needed_sentences(needed, labels)]
    return statements


def findings_table(topics: Mapping[str, list[str]]) -> pd.DataFrame:
    """One row per statement (FINDING_COLUMNS), topics in the order given."""
    rows = [
        {"topic": topic, "statement": statement} for topic, statements in topics.items() for statement in statements
    ]
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)
