"""lme4's advice for a fit it warns about, turned into a verdict a reader can act on.

lme4 warns when the gradient at its optimum exceeds a tolerance or a variance component sits on the boundary;
on large data the gradient check is known to warn on fits that are fine (``?lme4::convergence``). Its advice:
restart from the optimum (or a perturbed point), and refit with every optimizer ``allFit`` has; when they agree,
the warning is a false positive. Here every optimizer restarts from the reported optimum, and a singular fit once
more from a point off the boundary (where a start at the optimum stays: on the default study's zygomaticus model
that start found an interior optimum 0.93 log-likelihood units higher). The refits count as agreeing when each
term's F test at the best likelihood found prints as the reported fit's does (``mimicry.apa``), and so does the F
of every refit that reaches that likelihood: the verdict says whether any reported test depends on where the
optimizer stopped. Only the best refit gets lmerTest's Satterthwaite df (their derivatives cost three quarters of
a fit each); the others get the same Wald F. The R side is ``lmm_checks.R``, sourced into the R process that
fitted the model (allFit's optimizers, refitted by our own loop: lme4 1.1-31's allFit fails without optimx).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from mimicry.apa import F_TEST_RESOLUTION

#: The R functions (``optimizer_refits``, ``boundary_components``).
CHECKS_R = Path(__file__).resolve().with_name("lmm_checks.R")
#: Columns of a model's ``optimizers.tsv``: one row per refit x ANOVA term (``start``: ``optimum`` or ``off
#: boundary``; ``den_df`` and ``p`` of the refit at the best log-likelihood only).
REFIT_COLUMNS = ["optimizer", "start", "term", "num_df", "den_df", "F", "p", "loglik", "fixef_difference", "messages"]
#: What lme4 says that calls for the check.
WARNED = ("converge", "singular")
NAN = float("nan")
#: The verdicts: no warning to check; the warned fit's tests print the same from every optimizer; they do not;
#: a warned fit that was not the one used (a fallback formula replaced it), so not checked.
VERDICTS = ("no warning", "stable", "unstable", "not checked")


#: Refits whose log-likelihood is this close to the best one found reached the same optimum; one further below
#: stopped early (an optimizer that failed on this model, as lme4's allFit comparisons read it), and does not count
#: against the reported fit unless the reported fit is the one below.
LOGLIK_TOLERANCE = 0.01


#: The ``optimizer`` label of the fit without the boundary components in ``optimizers.tsv``.
WITHOUT_BOUNDARY = "without boundary components"


@dataclass(frozen=True)
class SimplerFit:
    """A singular fit refitted without its boundary components (``lmm_checks.R``'s ``without_boundary``): its
    random part in words, its F tests, its log-likelihood, and whether it is singular still."""

    random: str
    tests: pd.DataFrame
    loglik: float
    singular: bool


@dataclass
class FitCheck:
    """The refits of one warned fit, the reported fit's log-likelihood, the variance components at the boundary
    and the fit without them (a singular fit)."""

    refits: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REFIT_COLUMNS))
    loglik: float = float("nan")
    boundary: list[str] = field(default_factory=list)
    without_boundary: SimplerFit | None = None
    seconds: float = 0.0

    def table(self) -> pd.DataFrame:
        """``optimizers.tsv``'s rows: the refits, then the fit without the boundary components (its random part
        in ``messages``)."""
        if self.without_boundary is None:
            return self.refits
        simpler = self.without_boundary.tests.assign(
            optimizer=WITHOUT_BOUNDARY,
            start="",
            loglik=self.without_boundary.loglik,
            fixef_difference=NAN,
            messages=self.without_boundary.random
            + (" | boundary (singular) fit" if self.without_boundary.singular else ""),
        )
        return pd.concat([self.refits, simpler[REFIT_COLUMNS]], ignore_index=True)


def needs_check(warnings: list[str]) -> bool:
    """Whether lme4 warned about convergence or a singular fit."""
    return any(word in warning for warning in warnings for word in WARNED)


def check_fit(model_obj: Any, cores: int = 1) -> FitCheck:
    """Refit ``model_obj`` (an lmerTest fit in this process's R) from its optimum with its own optimizer and
    every optimizer ``allFit`` has here, a singular fit also from off the boundary (on ``cores`` processes); name
    its boundary components and fit it without them."""
    import time

    import rpy2.robjects as ro

    from mimicry.rsession import r_messages, to_pandas

    started = time.perf_counter()
    ro.r["source"](str(CHECKS_R))
    with r_messages():
        refits = to_pandas(ro.r["optimizer_refits"](model_obj, cores))
        boundary = [str(x) for x in ro.r["boundary_components"](model_obj)]
        loglik = float(ro.r["as.numeric"](ro.r["logLik"](model_obj))[0])
        simpler = ro.r["without_boundary"](model_obj)
        without_boundary = None
        if simpler is not ro.NULL:
            without_boundary = SimplerFit(
                random=str(simpler.rx2("random")[0]),
                tests=to_pandas(simpler.rx2("tests")).reset_index(drop=True),
                loglik=float(simpler.rx2("loglik")[0]),
                singular=bool(simpler.rx2("singular")[0]),
            )
    refits = refits.reset_index(drop=True)[REFIT_COLUMNS]
    return FitCheck(refits, loglik, boundary, without_boundary, time.perf_counter() - started)


def at_optimum(check: FitCheck) -> pd.DataFrame:
    """The refits that ran and reached the best log-likelihood found (the reported fit's included)."""
    ran = check.refits.dropna(subset=["F"])
    best = max(ran["loglik"].max(), check.loglik) if len(ran) else check.loglik
    return ran[ran["loglik"] >= best - LOGLIK_TOLERANCE]


def best_tests(check: FitCheck) -> pd.DataFrame:
    """The F tests of the refit at the best log-likelihood (the one refit with Satterthwaite df and p)."""
    return check.refits.dropna(subset=["den_df", "p"])


def same_f(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    """Whether two F values print alike (within half a unit of their last printed digit)."""
    return abs(a["F"] - b["F"]) < F_TEST_RESOLUTION["F"] / 2


def same_test(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    """Whether two fits' F tests of one term agree at the precision the report prints them: denominator df, F
    and p within half a unit of their last printed digit (``mimicry.apa``), or both p-values below .001."""
    close = same_f(a, b) and abs(a["den_df"] - b["den_df"]) < F_TEST_RESOLUTION["den_df"] / 2
    p_close = abs(a["p"] - b["p"]) < F_TEST_RESOLUTION["p"] / 2 or max(a["p"], b["p"]) < 0.001
    return close and p_close


def verdict(reported: pd.DataFrame, check: FitCheck) -> tuple[str, list[str]]:
    """``stable`` when each term's F test prints as the reported one does at the best log-likelihood a refit
    found, and so does the F of every refit that reaches the best likelihood
    (:func:`same_test`, :func:`same_f`); else ``unstable`` and the terms that differ."""
    optimum = at_optimum(check)
    best = best_tests(check).set_index("term")
    differing = [
        term
        for term, row in reported.set_index("term").iterrows()
        if (term in best.index and not same_test(row, best.loc[term]))
        or not all(same_f(row, refit) for _, refit in optimum[optimum["term"] == term].iterrows())
    ]
    return ("unstable" if differing else "stable"), differing


def differing_tests(reported: pd.DataFrame, other: pd.DataFrame) -> list[str]:
    """The terms whose F test in ``other`` (another fit's ANOVA table) does not print as the reported one does
    (:func:`same_test`), or that ``other`` lacks."""
    theirs = other.set_index("term")
    return [
        term
        for term, row in reported.set_index("term").iterrows()
        if term not in theirs.index or not same_test(row, theirs.loc[term])
    ]


def _count(refits: pd.DataFrame) -> int:
    """How many refits (optimizer x start) the rows hold."""
    return len(refits[["optimizer", "start"]].drop_duplicates())


def changed_decisions(reported: pd.DataFrame, other: pd.DataFrame, alpha: float) -> list[str]:
    """The terms significant at ``alpha`` in one of two fits' F tests (ANOVA tables) and not in the other."""
    theirs = other.set_index("term")["p"]
    return [
        term
        for term, p in reported.set_index("term")["p"].items()
        if term in theirs.index and (p < alpha) != (theirs[term] < alpha)
    ]


def check_summary(reported: pd.DataFrame, check: FitCheck | None, warned: bool) -> dict[str, Any]:
    """The columns ``info.tsv`` gains for a fit (``warned``: lme4 warned about it): the verdict; how many refits
    ran, failed, and stopped below the best log-likelihood; how far below it the reported fit is; the largest
    difference of a fixed effect from the reported fit's and the largest spread of F, denominator df and p over
    the reported fit and the refits at the optimum (df and p: the best refit's); the terms whose printed test
    differs; the boundary components, the random part of the fit without them and the terms whose printed test
    differs in it (``none``: every test prints the same); the check's time."""
    if check is None:
        return {
            "verdict": "not checked" if warned else "no warning",
            **dict.fromkeys(["refits", "refits_failed", "refits_below_optimum"], 0),
            **dict.fromkeys(["loglik_shortfall", "fixef_difference", "F_spread", "den_df_spread", "p_spread"], NAN),
            "unstable_terms": "",
            "boundary": "",
            "without_boundary": "",
            "without_boundary_differs": "",
            "check_seconds": 0.0,
        }
    ran = check.refits.dropna(subset=["F"])
    optimum = at_optimum(check)
    # F over every refit at the optimum; df and p between the reported fit and the best refit (NaN elsewhere)
    spread = pd.concat([optimum, reported], ignore_index=True).groupby("term")[["F", "den_df", "p"]]
    spread = spread.agg(lambda values: values.max() - values.min()).max()
    state, differing = verdict(reported, check)
    best = max(ran["loglik"].max(), check.loglik) if len(ran) else check.loglik
    simpler = check.without_boundary
    simpler_differs = "" if simpler is None else ", ".join(differing_tests(reported, simpler.tests)) or "none"
    return {
        "verdict": state,
        "refits": _count(ran),
        "refits_failed": _count(check.refits.loc[check.refits["F"].isna()]),
        "refits_below_optimum": _count(ran) - _count(optimum),
        "loglik_shortfall": float(best - check.loglik),
        "fixef_difference": float(optimum["fixef_difference"].max()) if len(optimum) else NAN,
        "F_spread": float(spread["F"]),
        "den_df_spread": float(spread["den_df"]),
        "p_spread": float(spread["p"]),
        "unstable_terms": ", ".join(differing),
        "boundary": "; ".join(check.boundary),
        "without_boundary": simpler.random if simpler is not None else "",
        "without_boundary_differs": simpler_differs,
        "check_seconds": round(check.seconds, 2),
    }
