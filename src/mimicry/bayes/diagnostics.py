"""Posterior summaries and the convergence gate: R-hat, bulk ESS and divergences per parameter class, the
verdict per model and what the job does with a fit that misses the gate."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
import xarray as xr

from mimicry.bayes_specs import FINDINGS_MODELS
from mimicry.settings import Diagnostics, Sampling

if TYPE_CHECKING:
    from mimicry.bayes.sampling import Fit


class ConvergenceError(RuntimeError):
    """A posterior that failed the diagnostics gate."""


# ---------------------------------------------------------------------------------------------------------------
# Summaries and the diagnostics gate

#: The gate's parameter classes. brms's summary (and the paper's "all R-hat < 1.01") covers the first, second
#: and last; participant effects are gated too, so that every number a table or figure shows has converged.
PARAMETER_CLASSES: dict[str, tuple[str, ...]] = {
    "fixed effects": ("asymptote", "rate", "start"),
    "participant SDs": ("sd_a", "sd_b", "sd_c", "sd_a_session"),
    "participant effects": ("effect_a", "effect_b", "effect_c", "effect_a_session"),
    "residual": ("sigma",),
}
#: Short names of the classes in diagnostics.tsv's columns.
CLASS_KEYS = {
    "fixed effects": "fixed",
    "participant SDs": "sds",
    "participant effects": "effects",
    "residual": "residual",
}
#: The population-level parameters (what brms's summary reports).
POPULATION = tuple(name for key in ("fixed effects", "participant SDs", "residual") for name in PARAMETER_CLASSES[key])
SUMMARY_COLUMNS = [
    "model",
    "parameter",
    "drug",
    "muscle",
    "emotion",
    "participant",
    "mean",
    "sd",
    "hdi_low",
    "hdi_high",
    "r_hat",
    "ess_bulk",
    "ess_tail",
]
#: Columns of the fixed-effects table: the summary's, without participants, and the model's verdict.
FIXED_COLUMNS = [*(column for column in SUMMARY_COLUMNS if column != "participant"), "converged"]


def summary(posterior: xr.Dataset, model: str, hdi_prob: float) -> pd.DataFrame:
    """Mean, SD, HDI, rank-normalised R-hat and bulk/tail ESS of every parameter, one row per element."""
    import arviz as az

    statistics = {
        "mean": posterior.mean(("chain", "draw")),
        "sd": posterior.std(("chain", "draw"), ddof=1),
        "r_hat": az.rhat(posterior),
        "ess_bulk": az.ess(posterior, method="bulk"),
        "ess_tail": az.ess(posterior, method="tail"),
    }
    hdi = az.hdi(posterior, prob=hdi_prob)
    statistics["hdi_low"] = hdi.sel(ci_bound="lower", drop=True)
    statistics["hdi_high"] = hdi.sel(ci_bound="upper", drop=True)
    rows = []
    for parameter in posterior.data_vars:
        columns = {
            name: values[parameter].to_series() if values[parameter].ndim else pd.Series([float(values[parameter])])
            for name, values in statistics.items()
        }
        frame = pd.DataFrame(columns)
        frame = frame.reset_index().drop(columns="index", errors="ignore")
        frame.insert(0, "parameter", parameter)
        rows.append(frame)
    table = pd.concat(rows, ignore_index=True)
    table.insert(0, "model", model)
    for column in ("drug", "muscle", "emotion", "participant", *(["session"] if "session" in table else [])):
        if column not in table:
            table[column] = ""
        table[column] = table[column].fillna("")
    # a crossover's session effects: the session after the participant
    at = SUMMARY_COLUMNS.index("participant") + 1
    return table[[*SUMMARY_COLUMNS[:at], *(["session"] if "session" in table else []), *SUMMARY_COLUMNS[at:]]]


def divergences(raw: Any) -> int:
    stats = raw["sample_stats"]
    return int(stats["diverging"].sum()) if "diverging" in stats else 0


def failed_classes(table: pd.DataFrame, gate: Diagnostics) -> dict[str, list[str]]:
    """Per parameter class, every way it misses the gate's R-hat and bulk-ESS thresholds, in words."""
    failed: dict[str, list[str]] = {}
    for name, parameters in PARAMETER_CLASSES.items():
        rows = table[table["parameter"].isin(parameters)]
        if rows.empty:
            continue
        problems = []
        worst = rows.loc[rows["r_hat"].idxmax()]
        if worst["r_hat"] >= gate.max_rhat:
            count = int((rows["r_hat"] >= gate.max_rhat).sum())
            problems.append(
                f"R-hat >= {gate.max_rhat} for {count} parameter(s), worst {worst['r_hat']:.4f} ({_label(worst)})"
            )
        low = rows.loc[rows["ess_bulk"].idxmin()]
        if low["ess_bulk"] < gate.min_ess_bulk:
            count = int((rows["ess_bulk"] < gate.min_ess_bulk).sum())
            problems.append(
                f"bulk ESS < {gate.min_ess_bulk:g} for {count} parameter(s), lowest {low['ess_bulk']:.0f} "
                f"({_label(low)})"
            )
        if problems:
            failed[name] = problems
    return failed


def check_diagnostics(table: pd.DataFrame, n_divergent: int, gate: Diagnostics) -> list[str]:
    """Every way the fit misses the gate, in words, each named by its parameter class (empty when it passes)."""
    problems = [f"{name}: {problem}" for name, found in failed_classes(table, gate).items() for problem in found]
    if n_divergent > gate.max_divergences:
        problems.append(f"{n_divergent} divergent transitions (at most {gate.max_divergences} allowed)")
    return problems


def _label(row: pd.Series) -> str:
    cells = [str(row[c]) for c in ("drug", "muscle", "emotion", "participant") if str(row[c])]
    return row["parameter"] + (f"[{', '.join(cells)}]" if cells else "")


def diagnostics_row(
    fitted: Fit, table: pd.DataFrame, sampling: Sampling, gate: Diagnostics, n_observations: int
) -> dict[str, Any]:
    """One line per model: sampler settings, time, divergences, worst R-hat and lowest bulk ESS overall and per
    parameter class, the classes that failed, and the gate's verdict."""
    n_divergent = divergences(fitted.raw)
    problems = check_diagnostics(table, n_divergent, gate)
    failed = [*failed_classes(table, gate), *(["divergences"] if n_divergent > gate.max_divergences else [])]
    gated = table[table["parameter"].isin([p for names in PARAMETER_CLASSES.values() for p in names])]
    population = table[table["parameter"].isin(POPULATION)]
    by_class = {}
    for name, parameters in PARAMETER_CLASSES.items():
        rows = table[table["parameter"].isin(parameters)]
        by_class[f"max_rhat_{CLASS_KEYS[name]}"] = rows["r_hat"].max() if len(rows) else float("nan")
        by_class[f"min_ess_bulk_{CLASS_KEYS[name]}"] = rows["ess_bulk"].min() if len(rows) else float("nan")
    return {
        "model": fitted.model,
        "variant": sampling.variant,
        "parameterization": sampling.parameterization,
        "sampler": sampling.sampler,
        "chains": sampling.chains,
        "warmup": sampling.warmup,
        "draws": sampling.draws,
        "observations": n_observations,
        "seconds": round(fitted.seconds, 2),
        "sampling_seconds": round(fitted.sampling_seconds, 2),
        "divergences": n_divergent,
        "max_rhat": gated["r_hat"].max(),
        "min_ess_bulk": gated["ess_bulk"].min(),
        "min_ess_tail": gated["ess_tail"].min(),
        **by_class,
        "ess_bulk_per_s": population["ess_bulk"].min() / fitted.seconds,
        "converged": not problems,
        "failed_classes": ", ".join(failed),
        "problems": "; ".join(problems),
    }


#: An R-hat this far above 1 means chains that explore different regions, not chains that are merely short
#: (Gelman and Rubin's original threshold).
SPLIT_RHAT = 1.1


def gate_advice(row: dict[str, Any]) -> str:
    """What helps a fit that missed the gate, by how it missed it. Divergences alone: a smaller step (a higher
    ``target_accept``). Chains that disagree (R-hat) with few effective draws: the chains settled in different
    modes, which a smaller step does not mend (on a study made elsewhere, target_accept 0.95 turned 62 divergences
    of the rate-only model into R-hat 1.38 and bulk ESS 9); the model does not fit these data well enough to have
    one mode. Too few effective draws alone: more draws."""
    if row["max_rhat"] >= SPLIT_RHAT:
        return (
            "Its chains settled in different modes (R-hat far above 1): more iterations or a higher target_accept do "
            "not mend that. A nested model without the drug term these data need can have several modes; look at "
            "its traces in posterior.nc, and check the data of the cells its largest R-hat names."
        )
    advice = []
    if row["divergences"] > 0:
        advice.append("raise statistics.bayes.target_accept (e.g. 0.95) for a smaller step")
    if "R-hat" in row["problems"] or "bulk ESS" in row["problems"]:
        advice.append("raise statistics.bayes.iterations (more draws per chain)")
    return ("To fix it, " + " and ".join(advice) + ".") if advice else ""


def enforce_gate(row: dict[str, Any], gate: Diagnostics) -> str | None:
    """The gate's policy for one model's diagnostics row: ``None`` when it passed. A failed model the findings
    rest on (:data:`FINDINGS_MODELS`) raises :class:`ConvergenceError` under ``on_failure: fail`` (the job leaves
    no outputs); any other failed model, and every one under ``mark``, returns the warning to log: its outputs
    say ``converged = false``, and a model compared in Table 2 only is left out of the weights."""
    if row["converged"]:
        return None
    message = (
        f"Bayesian model {row['model']!r} ({row['variant']}, {row['parameterization']}, {row['sampler']}) did not "
        f"pass the diagnostics gate: {row['problems']}. {gate_advice(row)}"
    ).strip()
    if gate.on_failure == "fail" and row["model"] in FINDINGS_MODELS:
        raise ConvergenceError(
            f"{message} The study's findings rest on this model, so the analysis stops here; to keep its "
            "results marked as not converged instead, set statistics.bayes.diagnostics.on_failure: mark."
        )
    if row["model"] in FINDINGS_MODELS:
        return message + " Results kept, marked converged = false."
    return message + " Results kept, marked converged = false; it is named as failed in Table 2 and has no weight."


def fixed_effects(table: pd.DataFrame, converged: bool) -> pd.DataFrame:
    """The fixed effects of a (asymptote), c (log rate) and b (start, if the model has one) with the model's
    convergence verdict."""
    fixed = table[table["parameter"].isin(PARAMETER_CLASSES["fixed effects"])].copy()
    fixed["drug"] = fixed["drug"].replace("", "all")
    fixed["converged"] = converged
    return fixed[FIXED_COLUMNS].reset_index(drop=True)
