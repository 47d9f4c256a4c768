"""Table 2's nested asymptotic models: which non-linear parameters carry drug effects, their labels and their
brms-style formulas. Light on purpose: the workflow, the methods text and the report name the models without
importing the Bayesian stack."""

from __future__ import annotations

#: The nested models of Table 2: which non-linear parameters carry drug effects.
NESTED_MODELS: dict[str, tuple[str, ...]] = {
    "full": ("asymptote", "rate"),
    "asymptote": ("asymptote",),
    "rate": ("rate",),
    "no_drug": (),
}
#: The models the study's findings rest on: the full model's drug contrasts (Figure 3, the summary) and the no-drug
#: model's band in Figure 2. The other nested models enter only Table 2's comparison, so one of them that fails
#: the convergence gate is reported as failed rather than stopping the analysis.
FINDINGS_MODELS: tuple[str, ...] = ("full", "no_drug")
MODEL_LABELS = {
    "full": "Full",
    "asymptote": "Drug effects asymptote only",
    "rate": "Drug effects rate only",
    "no_drug": "No effect of drug",
}


def formulas(model: str, b_intercept: bool = False) -> dict[str, str]:
    """The brms-style formulas of a nested model, as the Bambi implementation uses them (``b_intercept``: b gets a
    population value per muscle x emotion; the paper's b has none)."""
    drug_terms = NESTED_MODELS[model]
    random = "(0 + muscle:emotion | participant)"
    fixed = {p: "drug:muscle:emotion" if p in drug_terms else "muscle:emotion" for p in ("asymptote", "rate")}
    start = "muscle:emotion + " if b_intercept else ""
    return {
        "a": f"0 + {fixed['asymptote']} + {random}",
        "b": f"0 + {start}{random}",
        "c": f"0 + {fixed['rate']} + {random}",
    }


#: The asymptotic curve has three parameters per condition: it needs at least as many time windows.
MIN_WINDOWS = 3


def asymptotic_skipped(n_windows: int) -> str:
    """Why a study with ``n_windows`` time windows has no Bayesian asymptotic models ("" when it has them)."""
    if n_windows >= MIN_WINDOWS:
        return ""
    return (
        f"The asymptotic model needs at least {MIN_WINDOWS} time windows (three parameters per curve); this study "
        f"has {n_windows} (preprocessing.emg.windows.count): no Bayesian models."
    )


#: Why the per-window criteria and leave-one-participant-out can disagree (Table 2's note, the report's summary;
#: tests on planted data keep it true).
WINDOW_CRITERIA_CAVEAT = (
    "WAIC and LOO score how well a participant's own fitted curve predicts one of their window means, and each "
    "participant's own effects absorb a difference between groups, so they cannot see a drug effect. "
    "Leave-one-participant-out scores how well a group's population curve predicts a new participant of that "
    "group, so it can."
)


def crossover_problems(bayes: dict[str, object], crossover: bool) -> list[str]:
    """What in ``statistics.bayes`` a crossover's asymptotic model is not built for (empty: nothing, or not a
    crossover): it is the Bambi variant's model (independent participant effects), integrated."""
    if not crossover:
        return []
    problems = []
    if bayes["variant"] != "bambi":
        problems.append(
            f"statistics.bayes.variant: {bayes['variant']} (correlated participant effects) is not built for a "
            "crossover (study.design.drug: within); set it to bambi"
        )
    if bayes["parameterization"] != "marginal":
        problems.append(
            f"statistics.bayes.parameterization: {bayes['parameterization']} is not built for a crossover; set it "
            "to marginal (the participant and session effects of a and b integrated out)"
        )
    return problems
