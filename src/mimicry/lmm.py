"""Linear mixed models of Korb et al. (2023), through pymer4 over R's lme4, lmerTest and emmeans.

Every model is fitted once, with sum-to-zero contrasts for the factors (R's ``contr.sum``), so lmerTest's
type-III ANOVA (F tests with Satterthwaite df) is the one the paper reports, and the slope of time per emotion
comes from ``emmeans::emtrends`` (asymptotic df, a z test, above emmeans' 3000-row limit, as in the paper).
Every message R prints while fitting (convergence and singular-fit warnings) is kept with the results.
Each fit runs in a fresh R process in which lme4 is known to give the same numbers for the same input
(``mimicry.rsession``).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mimicry.lmm_checks import REFIT_COLUMNS, FitCheck, check_fit, check_summary, needs_check
from mimicry.lmm_specs import CROSSOVER_COLUMNS, LmmSpec, formula_variables
from mimicry.rsession import call_in_fresh_r, clean_messages, r_messages, to_pandas


@dataclass
class LmmResult:
    """A fitted model's tables and its honesty record."""

    formula: str
    n_observations: int
    n_participants: int
    anova: pd.DataFrame  #: term, sum_sq, mean_sq, num_df, den_df, F, p
    fixed_effects: pd.DataFrame  #: term, estimate, se, df, t, p (sum-to-zero coding)
    trends: pd.DataFrame | None  #: emotion, slope, se, df, statistic, p, ci_low, ci_high (time slope)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    check: FitCheck | None = None  #: the refits of a warned fit (``mimicry.lmm_checks``)
    #: fitted value and residual of each row of the model's data, in its order
    residuals: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["fitted", "residual"]))

    @property
    def converged(self) -> bool:
        return not any("converge" in w for w in self.warnings)


def as_text(warnings: Sequence[Any]) -> list[str]:
    """pymer4's warnings as one message each: lme4 reports the messages of one check together (several failed
    checks of convergence and identifiability: a character vector, not a string), and a vector read as one warning
    hid its "failed to converge" from the convergence verdict."""
    return [message for warning in warnings for message in ([warning] if isinstance(warning, str) else warning)]


def fit_lmm(
    data: pd.DataFrame,
    formula: str,
    factors: Mapping[str, Sequence[str]],
    trend: tuple[str, str] | None = None,
    trend_df: str = "asymptotic",
    contrasts: str = "sum",
) -> LmmResult:
    """Fit ``formula`` (lme4 syntax) by REML with ``contrasts`` (``sum``: sum-to-zero, ``treatment``: against each
    factor's first level) for ``factors`` (column -> level order).

    ``trend = (variable, by)`` also estimates the slope of ``variable`` within each level of ``by``
    (``emmeans::emtrends``) with ``trend_df`` degrees of freedom (emmeans' ``lmer.df``: ``asymptotic``, the
    paper's z tests, ``satterthwaite`` or ``kenward-roger``, the last slow on large data).
    The fit runs in a fresh R process (``mimicry.rsession``).
    """
    return call_in_fresh_r(fit_lmm_here, data, formula, factors, trend, trend_df, contrasts)


#: R's contrast functions by the config's name (statistics.contrasts)
R_CONTRASTS = {"sum": "contr.sum", "treatment": "contr.treatment"}


def fit_lmm_here(
    data: pd.DataFrame,
    formula: str,
    factors: Mapping[str, Sequence[str]],
    trend: tuple[str, str] | None = None,
    trend_df: str = "asymptotic",
    contrasts: str = "sum",
    check_cores: int = 0,
    last: bool = True,
) -> LmmResult:
    """``fit_lmm`` in this process's embedded R, which must have lme4's default ordering
    (``rsession.lme4_default_ordering``). With ``check_cores``, a fit lme4 warns about is refitted across
    optimizers on that many processes (``mimicry.lmm_checks``) if it is the fit used: it converged, or it is the
    ``last`` of its fallbacks."""
    import rpy2.robjects as ro
    from pymer4.models import Lmer
    from rpy2.robjects.packages import importr

    frame = data.copy()
    for column, levels in factors.items():
        frame[column] = pd.Categorical(frame[column].astype(str), categories=list(levels))
    started = time.perf_counter()
    with r_messages() as messages:
        ro.r(f'options(contrasts = c("{R_CONTRASTS[contrasts]}", "contr.poly"))')
        model = Lmer(formula, data=frame)
        model.fit(REML=True, summarize=False, verbose=False, no_warnings=True)
        anova = model.anova()
        trends = None
        if trend is not None:
            emmeans = importr("emmeans")
            variable, by = trend
            estimated = emmeans.emtrends(model.model_obj, specs=by, var=variable, **{"lmer.df": trend_df})
            trends = to_pandas(ro.r["as.data.frame"](ro.r["summary"](estimated, infer=ro.BoolVector([True, True]))))
    warnings = list(dict.fromkeys([*as_text(model.warnings), *clean_messages(messages)]))
    seconds = time.perf_counter() - started
    used = last or not any("converge" in warning for warning in warnings)
    check = check_fit(model.model_obj, check_cores) if check_cores and used and needs_check(warnings) else None

    anova_table = pd.DataFrame(
        {
            "term": anova.index,
            "sum_sq": anova["SS"].to_numpy(float),
            "mean_sq": anova["MS"].to_numpy(float),
            "num_df": anova["NumDF"].to_numpy(float),
            "den_df": anova["DenomDF"].to_numpy(float),
            "F": anova["F-stat"].to_numpy(float),
            "p": anova["P-val"].to_numpy(float),
        }
    ).reset_index(drop=True)
    coefs = model.coefs
    fixed = pd.DataFrame(
        {
            "term": coefs.index,
            "estimate": coefs["Estimate"].to_numpy(float),
            "se": coefs["SE"].to_numpy(float),
            "df": coefs["DF"].to_numpy(float),
            "t": coefs["T-stat"].to_numpy(float),
            "p": coefs["P-val"].to_numpy(float),
        }
    ).reset_index(drop=True)
    if trend is not None and trends is not None:
        trends = _tidy_trends(trends, trend[0], trend[1])
    return LmmResult(
        formula=formula,
        n_observations=len(frame),
        n_participants=frame["participant"].nunique(),
        anova=anova_table,
        fixed_effects=fixed,
        trends=trends,
        warnings=warnings,
        seconds=seconds,
        check=check,
        residuals=pd.DataFrame(
            {"fitted": np.asarray(model.fits, float), "residual": np.asarray(model.residuals, float)}
        ),
    )


#: the trends table's columns after the factor the slope is taken within (emotion, or drug in the follow-up)
TREND_COLUMNS = ("slope", "se", "df", "test", "statistic", "p", "ci_low", "ci_high")


def _tidy_trends(table: pd.DataFrame, variable: str, by: str) -> pd.DataFrame:
    """emmeans' summary -> by, slope, se, df, statistic (z if df is infinite, else t), p, ci_low, ci_high."""
    low = next(c for c in table.columns if c in ("lower.CL", "asymp.LCL"))
    high = next(c for c in table.columns if c in ("upper.CL", "asymp.UCL"))
    statistic = next(c for c in table.columns if c in ("t.ratio", "z.ratio"))
    return pd.DataFrame(
        {
            by: table[by].astype(str).to_numpy(),
            "slope": table[f"{variable}.trend"].to_numpy(float),
            "se": table["SE"].to_numpy(float),
            "df": table["df"].to_numpy(float),
            "test": "z" if statistic == "z.ratio" else "t",
            "statistic": table[statistic].to_numpy(float),
            "p": table["p.value"].to_numpy(float),
            "ci_low": table[low].to_numpy(float),
            "ci_high": table[high].to_numpy(float),
        }
    )


def _crossover_columns(kept: pd.DataFrame) -> dict[str, Any]:
    """A crossover's session, period and sequence (factors, as text), from a group table that has them."""
    if "session" not in kept.columns:
        return {}
    return {column: kept[column].astype(str).to_numpy() for column in CROSSOVER_COLUMNS}


def emg_model_data(windows: pd.DataFrame, muscle: str) -> pd.DataFrame:
    """The EMG LMM's data for one muscle: kept trials, one row per trial x window (a crossover's: with each
    recording's session, period and sequence)."""
    kept = windows[(windows["muscle"] == muscle) & ~windows["rejected"] & windows["log_emg"].notna()]
    return pd.DataFrame(
        {
            "participant": kept["participant"].astype(str).to_numpy(),
            "drug": kept["group"].astype(str).to_numpy(),
            "face": kept["face"].astype(str).to_numpy(),
            "emotion": kept["emotion"].astype(str).to_numpy(),
            "time": kept["window"].to_numpy(float),
            "log_emg": kept["log_emg"].to_numpy(float),
            **_crossover_columns(kept),
        }
    )


def rt_model_data(rt_trials: pd.DataFrame) -> pd.DataFrame:
    """The RT LMM's data: correct, non-outlier trials (a crossover's: with session, period and sequence)."""
    kept = rt_trials[rt_trials["rt_included"]]
    return pd.DataFrame(
        {
            "participant": kept["participant"].astype(str).to_numpy(),
            "drug": kept["group"].astype(str).to_numpy(),
            "face": kept["face"].astype(str).to_numpy(),
            "emotion": kept["emotion"].astype(str).to_numpy(),
            "response_time": kept["response_time"].to_numpy(float),
            **_crossover_columns(kept),
        }
    )


def model_data(
    spec: LmmSpec, table: pd.DataFrame, participants: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, dict[str, Sequence[str]], tuple[str, str] | None]:
    """What fitting ``spec`` takes from its group table (window or RT trials): the model's rows, its factors
    (column -> level order, coded by ``spec.contrasts``) and its trend (the slope of time per emotion; per drug in the
    follow-up model, which has one emotion). ``participants`` (participants.tsv) supplies the covariates."""
    # treatment contrasts compare with each factor's first level: the reference group first
    groups = [spec.reference_group, *[g for g in spec.groups if g != spec.reference_group]]
    factors: dict[str, Sequence[str]] = {
        "emotion": spec.emotions,
        "drug": groups if spec.contrasts == "treatment" else spec.groups,
    }
    if spec.kind == "rt":
        data, trend = rt_model_data(table), None
    else:
        data, trend = emg_model_data(table, str(spec.muscle)), ("time", "emotion")
        if spec.emotion is not None:
            data = data[data["emotion"] == spec.emotion]
            factors.pop("emotion")
            trend = ("time", "drug")
    if "time" not in formula_variables(spec.formulas[0]):  # a model without time has no time slope
        trend = None
    for column in ("period", "sequence"):  # a crossover's, coded as the design's factors are
        if column in data.columns:
            factors[column] = sorted(data[column].unique(), key=lambda level: (len(level), level))
    if spec.covariates and participants is not None:
        covariates = participants.assign(participant=participants["participant_id"].str.removeprefix("sub-"))
        data = data.merge(covariates[["participant", *spec.covariates]], on="participant", how="left")
    return data, factors, trend


def result_tables(result: LmmResult, model: str, attempts: Sequence[LmmResult] = ()) -> dict[str, pd.DataFrame]:
    """The result's tables with a ``model`` column, ready to write; ``info`` has one row per fit attempted
    (formula, size, convergence, R's warnings, seconds, and the convergence verdict: ``check_summary``) and marks
    the one whose tables these are; ``optimizers`` has the refits of the result used (none: no warning)."""
    info = pd.DataFrame(
        [
            {
                "model": model,
                "formula": attempt.formula,
                "used": attempt is result,
                "observations": attempt.n_observations,
                "participants": attempt.n_participants,
                "converged": attempt.converged,
                "warnings": " | ".join(attempt.warnings),
                "seconds": round(attempt.seconds, 2),
                **check_summary(attempt.anova, attempt.check, needs_check(attempt.warnings)),
            }
            for attempt in (attempts or [result])
        ]
    )
    # a model without time has an empty trends table (its columns only), so every EMG model has one
    trends = result.trends if result.trends is not None else pd.DataFrame(columns=TREND_COLUMNS)
    refits = result.check.table() if result.check is not None else pd.DataFrame(columns=REFIT_COLUMNS)
    tables = {
        "anova": result.anova.assign(model=model),
        "fixed_effects": result.fixed_effects.assign(model=model),
        "info": info,
        "trends": trends.assign(model=model),
        "optimizers": refits.assign(model=model),
    }
    return {name: table[["model", *[c for c in table.columns if c != "model"]]] for name, table in tables.items()}


def fit_with_fallbacks(
    data: pd.DataFrame,
    formulas: Sequence[str],
    factors: Mapping[str, Sequence[str]],
    trend: tuple[str, str] | None = None,
    trend_df: str = "asymptotic",
    contrasts: str = "sum",
    check_cores: int = 0,
) -> tuple[LmmResult, list[LmmResult]]:
    """Fit the first formula; while a fit does not converge, try the next (``statistics.*.fallbacks``).

    Returns the result used (the first that converged, else the last tried) and every attempt, so the report
    can say which model was fitted and why. All of them run in one fresh R process. With ``check_cores``, the
    result used is checked across optimizers when lme4 warns about it (``mimicry.lmm_checks``).
    """
    return call_in_fresh_r(_fit_with_fallbacks_here, data, formulas, factors, trend, trend_df, contrasts, check_cores)


def _fit_with_fallbacks_here(
    data: pd.DataFrame,
    formulas: Sequence[str],
    factors: Mapping[str, Sequence[str]],
    trend: tuple[str, str] | None,
    trend_df: str,
    contrasts: str,
    check_cores: int,
) -> tuple[LmmResult, list[LmmResult]]:
    attempts = []
    for k, formula in enumerate(formulas):
        last = k == len(formulas) - 1
        attempts.append(fit_lmm_here(data, formula, factors, trend, trend_df, contrasts, check_cores, last))
        if attempts[-1].converged:
            break
    return attempts[-1], attempts
