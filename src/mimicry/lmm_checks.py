"""lme4's advice for a fit it warns about, turned into a verdict a reader can act on.

lme4 warns when the gradient at its optimum exceeds a tolerance or a variance component sits on the boundary;
on large data the gradient check is known to warn on fits that are fine (``?lme4::convergence``). Its advice:
restart from the optimum, and refit with every optimizer ``allFit`` has; when they agree, the warning is a false
positive. Here they agree when every refit that reaches the best likelihood found gives each term's F test as
the reported fit does, at the precision the report prints it (``mimicry.apa``), so the verdict says whether any
reported test depends on the optimizer. The R side is ``lmm_checks.R``, sourced into the R process that fitted
the model (allFit's optimizers, refitted by our own loop: lme4 1.1-31's allFit fails without optimx).
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
#: Columns of a model's ``optimizers.tsv``: one row per refit x ANOVA term.
REFIT_COLUMNS = ["optimizer", "term", "num_df", "den_df", "F", "p", "loglik", "fixef_difference", "messages"]
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
    """Refit ``model_obj`` (an lmerTest fit in this process's R) from its optimum and with every optimizer
    ``allFit`` has here (on ``cores`` processes); name its boundary components and fit it without them."""
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


def same_test(a: Mapping[str, float], b: Mapping[str, float]) -> bool:
    """Whether two fits' F tests of one term agree at the precision the report prints them: denominator df, F
    and p within half a unit of their last printed digit (``mimicry.apa``), or both p-values below .001."""
    close = all(abs(a[key] - b[key]) < resolution / 2 for key, resolution in F_TEST_RESOLUTION.items() if key != "p")
    p_close = abs(a["p"] - b["p"]) < F_TEST_RESOLUTION["p"] / 2 or max(a["p"], b["p"]) < 0.001
    return close and p_close


def verdict(reported: pd.DataFrame, check: FitCheck) -> tuple[str, list[str]]:
    """``stable`` when the reported fit reached the best log-likelihood found and every refit that also reached
    it agrees with each term's reported F test at the precision printed (:func:`same_test`); else ``unstable``
    and the terms that differ (every term when the reported fit stopped below the optimum)."""
    terms = reported.set_index("term")
    optimum = at_optimum(check)
    if len(optimum) and check.loglik < optimum["loglik"].max() - LOGLIK_TOLERANCE:
        return "unstable", list(terms.index)
    differing = [
        term
        for term, row in terms.iterrows()
        if not all(same_test(row, refit) for _, refit in optimum[optimum["term"] == term].iterrows())
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


def check_summary(reported: pd.DataFrame, check: FitCheck | None, warned: bool) -> dict[str, Any]:
    """The columns ``info.tsv`` gains for a fit (``warned``: lme4 warned about it): the verdict; how many refits
    ran, failed, and stopped below the best log-likelihood; how far below it the reported fit is; the largest
    difference of a fixed effect from the reported fit's and the largest spread of F, denominator df and p over
    the reported fit and the refits at the optimum; the terms whose printed test differs; the boundary
    components, the random part of the fit without them and the terms whose printed test differs in it (``none``:
    every test prints the same); the check's time."""
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
    spread = pd.concat([optimum, reported], ignore_index=True).groupby("term")[["F", "den_df", "p"]]
    spread = spread.agg(lambda values: values.max() - values.min()).max()
    state, differing = verdict(reported, check)
    best = max(ran["loglik"].max(), check.loglik) if len(ran) else check.loglik
    simpler = check.without_boundary
    simpler_differs = "" if simpler is None else ", ".join(differing_tests(reported, simpler.tests)) or "none"
    return {
        "verdict": state,
        "refits": ran["optimizer"].nunique(),
        "refits_failed": check.refits.loc[check.refits["F"].isna(), "optimizer"].nunique(),
        "refits_below_optimum": ran["optimizer"].nunique() - optimum["optimizer"].nunique(),
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
