"""The paper's Bayesian asymptotic regression of log EMG over the five 1-s windows (Korb et al. 2023).

    y = a - (a - b) * exp(-exp(c) * t),   t = window - 1 (0 .. 4 s)

The paper prints the curve as ``a - (a - b) e^(-exp(c) t - 1)`` and calls b "the starting value at t = 1"; only the
reading ``exp(-exp(c) (t - 1))`` with t the window number makes b the value at the first window, so the model
uses ``time = window - 1``. a is the asymptote, c the log rate (the rate exp(c) is always positive), and b, the
start, has no fixed effect (log EMG is relative to the baseline) but a participant effect:

    a ~ 0 + drug:muscle:emotion + (0 + muscle:emotion | participant)
    b ~ 0 + (0 + muscle:emotion | participant)
    c ~ 0 + drug:muscle:emotion + (0 + muscle:emotion | participant)

Two implementations share the data, priors and outputs:

- ``bambi``: a custom Bambi family with distributional parameters a, b, c (independent participant effects, as
  Bambi has no correlated group-level priors), sampled with nutpie by default;
- ``brms``: the same model in PyMC with one LKJ-correlated participant-effect matrix per parameter, as brms
  builds it by default, so the paper's model can be matched exactly.

The nested models of the paper's Table 2 drop the drug from the asymptote, the rate, or both.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mimicry.errors import InputError
from mimicry.nested import MODEL_LABELS, NESTED_MODELS, formulas
from mimicry.settings import Diagnostics, Priors, Sampling

#: Columns of the model data (one row per participant x muscle x emotion x window, or per trial x ... ).
DATA_COLUMNS = ["participant", "drug", "muscle", "emotion", "window", "time", "log_emg"]
#: Columns of the fixed-effects table.
FIXED_COLUMNS = [
    "model",
    "parameter",
    "drug",
    "muscle",
    "emotion",
    "mean",
    "sd",
    "hdi_low",
    "hdi_high",
    "r_hat",
    "ess_bulk",
    "ess_tail",
    "converged",
]


class ConvergenceError(RuntimeError):
    """A posterior that failed the diagnostics gate."""


# ---------------------------------------------------------------------------------------------------------------
# Data


def model_data(windows: pd.DataFrame, level: str = "participant") -> pd.DataFrame:
    """The model's rows from the EMG window table (kept trials only).

    ``participant``: the mean log EMG per participant x muscle x emotion x window (the paper's ~2600 rows);
    ``trial``: every kept trial's window value (``trial`` column added).
    """
    kept = windows.loc[~windows["rejected"]]
    if kept.empty:
        raise InputError("the EMG window table has no kept trials: nothing to model")
    keys = ["participant", "group", "muscle", "emotion", "window"]
    if level == "participant":
        data = kept.groupby(keys, observed=True, as_index=False, sort=True)["log_emg"].mean()
    elif level == "trial":
        data = kept[[*keys, "trial", "log_emg"]].sort_values([*keys, "trial"]).reset_index(drop=True)
    else:
        raise InputError(f"statistics.bayes.data_level must be participant or trial, not {level!r}")
    data = data.rename(columns={"group": "drug"})
    for column in ("participant", "drug", "muscle", "emotion"):
        data[column] = data[column].astype(str)
    data["time"] = (data["window"] - 1).astype(float)
    columns = DATA_COLUMNS if level == "participant" else [*DATA_COLUMNS[:5], "trial", *DATA_COLUMNS[5:]]
    return data[columns].reset_index(drop=True)


def curve(a: Any, b: Any, c: Any, t: Any) -> Any:
    """The asymptotic curve a - (a - b) exp(-exp(c) t) (numpy broadcasting)."""
    return a - (a - b) * np.exp(-np.exp(c) * t)


@dataclass
class Cells:
    """Integer codes of the model data's factors (levels in the study's order)."""

    drugs: list[str]
    muscles: list[str]
    emotions: list[str]
    participants: list[str]
    drug: np.ndarray = field(repr=False)
    cell: np.ndarray = field(repr=False)  #: muscle x emotion, muscle-major
    participant: np.ndarray = field(repr=False)

    @classmethod
    def of(cls, data: pd.DataFrame, drugs: Sequence[str], muscles: Sequence[str], emotions: Sequence[str]) -> Cells:
        participants = sorted(data["participant"].unique())
        cell = data["muscle"].map({m: i for i, m in enumerate(muscles)}) * len(emotions) + data["emotion"].map(
            {e: i for i, e in enumerate(emotions)}
        )
        return cls(
            list(drugs),
            list(muscles),
            list(emotions),
            participants,
            data["drug"].map({d: i for i, d in enumerate(drugs)}).to_numpy(),
            cell.to_numpy(),
            data["participant"].map({p: i for i, p in enumerate(participants)}).to_numpy(),
        )

    @property
    def names(self) -> list[str]:
        return [f"{m}:{e}" for m in self.muscles for e in self.emotions]


# ---------------------------------------------------------------------------------------------------------------
# Models


def _categorical(data: pd.DataFrame, cells: Cells) -> pd.DataFrame:
    """Factors as categoricals in the study's level order, so the posterior's coordinates follow it."""
    data = data.copy()
    for column, levels in (
        ("drug", cells.drugs),
        ("muscle", cells.muscles),
        ("emotion", cells.emotions),
        ("participant", cells.participants),
    ):
        data[column] = pd.Categorical(data[column], categories=levels)
    return data


def bambi_model(data: pd.DataFrame, cells: Cells, model: str, priors: Priors) -> Any:
    """The asymptotic model as a Bambi model with a custom family (distributional parameters a, b, c).

    Bambi has no non-linear formulas, so the likelihood computes the curve from a, b, c; time is the data's
    ``time`` column, fixed at build time (the model is only evaluated on its own rows).
    """
    import bambi as bmb
    import pymc as pm
    import pytensor.tensor as pt

    time_s = data["time"].to_numpy(dtype=float)

    def asymptotic_normal(name: str, a: Any, b: Any, c: Any, sigma: Any, **kwargs: Any) -> Any:
        return pm.Normal(name, mu=a - (a - b) * pt.exp(-pt.exp(c) * time_s), sigma=sigma, **kwargs)

    likelihood = bmb.Likelihood("AsymptoticNormal", params=["a", "b", "c", "sigma"], parent="a", dist=asymptotic_normal)
    family = bmb.Family("asymptotic", likelihood, link={"a": "identity", "b": "identity", "c": "identity"})
    terms = formulas(model)
    formula = bmb.Formula(f"log_emg ~ {terms['a']}", f"b ~ {terms['b']}", f"c ~ {terms['c']}")
    random_sd = bmb.Prior("HalfNormal", sigma=priors.random_sd)
    random = bmb.Prior("Normal", mu=0.0, sigma=random_sd, noncentered=True)  # as brms's Stan code
    fixed = {p: "drug:muscle:emotion" if p in NESTED_MODELS[model] else "muscle:emotion" for p in ("asymptote", "rate")}
    prior_spec = {
        fixed["asymptote"]: bmb.Prior("Normal", mu=priors.asymptote_mu, sigma=priors.asymptote_sigma),
        "muscle:emotion|participant": random,
        "b": {"muscle:emotion|participant": random},
        "c": {
            fixed["rate"]: bmb.Prior("Normal", mu=priors.rate_mu, sigma=priors.rate_sigma),
            "muscle:emotion|participant": random,
        },
        "sigma": bmb.Prior("HalfNormal", sigma=priors.residual_sd),
    }
    # Unknown prior keys would be ignored with a mere warning: make that an error.
    bmb.config["UNUSED_PRIORS"] = "error"
    return bmb.Model(formula, _categorical(data, cells), family=family, priors=prior_spec)


def brms_model(data: pd.DataFrame, cells: Cells, model: str, priors: Priors) -> Any:
    """The asymptotic model as brms builds it: one LKJ-correlated participant matrix per parameter (PyMC).

    Participant effects are non-centred (z times the Cholesky factor), as in brms's Stan code.
    """
    import pymc as pm
    import pytensor.tensor as pt

    drug_terms = NESTED_MODELS[model]
    n_cells = len(cells.names)
    coords = {"drug": cells.drugs, "cell": cells.names, "participant": cells.participants}
    with pm.Model(coords=coords) as pymc_model:
        fixed = {}
        for parameter, mu, sigma in (
            ("asymptote", priors.asymptote_mu, priors.asymptote_sigma),
            ("rate", priors.rate_mu, priors.rate_sigma),
        ):
            if parameter in drug_terms:
                values = pm.Normal(f"{parameter}_fixed", mu, sigma, dims=("drug", "cell"))
                fixed[parameter] = values[cells.drug, cells.cell]
            else:
                values = pm.Normal(f"{parameter}_fixed", mu, sigma, dims="cell")
                fixed[parameter] = values[cells.cell]
        participant_effects = {}
        for parameter in ("a", "b", "c"):
            chol, _, _ = pm.LKJCholeskyCov(
                f"chol_{parameter}",
                n=n_cells,
                eta=priors.lkj_eta,
                sd_dist=pm.HalfNormal.dist(priors.random_sd, shape=n_cells),
                compute_corr=True,
                store_in_trace=True,
            )
            z = pm.Normal(f"z_{parameter}", 0.0, 1.0, dims=("participant", "cell"))
            effects = pm.Deterministic(f"effect_{parameter}", pt.dot(z, chol.T), dims=("participant", "cell"))
            participant_effects[parameter] = effects[cells.participant, cells.cell]
        a = fixed["asymptote"] + participant_effects["a"]
        b = participant_effects["b"]
        c = fixed["rate"] + participant_effects["c"]
        sigma = pm.HalfNormal("sigma", priors.residual_sd)
        time_s = data["time"].to_numpy(dtype=float)
        pm.Normal(
            "log_emg",
            mu=a - (a - b) * pt.exp(-pt.exp(c) * time_s),
            sigma=sigma,
            observed=data["log_emg"].to_numpy(dtype=float),
        )
    return pymc_model


# ---------------------------------------------------------------------------------------------------------------
# Fitting


@dataclass
class Fit:
    """A sampled model: the sampler's own output and the posterior in the shared layout (see ``tidy_posterior``)."""

    model: str
    variant: str
    raw: Any  #: the sampler's DataTree (posterior, sample_stats, ...)
    posterior: xr.Dataset
    seconds: float  #: wall time of building, compiling and sampling


def fit(data: pd.DataFrame, cells: Cells, model: str, priors: Priors, sampling: Sampling) -> Fit:
    """Build the chosen implementation of a nested model and sample it."""
    import pymc as pm

    start = time.perf_counter()
    options = dict(
        draws=sampling.draws,
        tune=sampling.warmup,
        chains=sampling.chains,
        cores=sampling.cores,
        random_seed=sampling.seed,
        target_accept=sampling.target_accept,
        progressbar=False,
    )
    if sampling.variant == "bambi":
        bambi = bambi_model(data, cells, model, priors)
        raw = bambi.fit(inference_method=sampling.sampler, **options)
    elif sampling.variant == "brms":
        with brms_model(data, cells, model, priors):
            raw = pm.sample(nuts_sampler=sampling.sampler, **options)
    else:
        raise InputError(f"statistics.bayes.variant must be bambi or brms, not {sampling.variant!r}")
    seconds = time.perf_counter() - start
    return Fit(model, sampling.variant, raw, tidy_posterior(raw, sampling.variant, cells), seconds)


def _split_cells(array: xr.DataArray, dim: str, names: Sequence[str], separator: str) -> xr.DataArray:
    """Unstack a dimension whose labels join several factors ("placebo, zygomaticus, AngryToHappy")."""
    labels = [tuple(str(label).split(separator)) for label in array[dim].values]
    index = pd.MultiIndex.from_tuples(labels, names=list(names))
    array = array.assign_coords(xr.Coordinates.from_pandas_multiindex(index, dim)).unstack(dim)
    return array.transpose("chain", "draw", ...)


def tidy_posterior(raw: Any, variant: str, cells: Cells) -> xr.Dataset:
    """The posterior in one layout for both implementations.

    ``asymptote`` and ``rate`` (fixed effects of a and c; dims [drug,] muscle, emotion), ``effect_a|b|c``
    (participant effects; dims participant, muscle, emotion), ``sd_a|b|c`` (their SDs) and ``sigma``.
    """
    posterior = raw["posterior"].to_dataset() if hasattr(raw["posterior"], "to_dataset") else raw["posterior"]
    factors3, factors2 = ("drug", "muscle", "emotion"), ("muscle", "emotion")
    tidy: dict[str, xr.DataArray] = {}
    if variant == "bambi":
        for name, prefix in (("asymptote", ""), ("rate", "c_")):
            for term, factors in ((f"{prefix}drug:muscle:emotion", factors3), (f"{prefix}muscle:emotion", factors2)):
                if term in posterior:
                    tidy[name] = _split_cells(posterior[term], f"{term}_dim", factors, ", ")
        for parameter, prefix in (("a", ""), ("b", "b_"), ("c", "c_")):
            term = f"{prefix}muscle:emotion|participant"
            effects = posterior[term].rename({"participant__factor_dim": "participant"})
            tidy[f"effect_{parameter}"] = _split_cells(effects, f"{prefix}muscle:emotion__expr_dim", factors2, ", ")
            tidy[f"sd_{parameter}"] = _split_cells(
                posterior[f"{term}_sigma"], f"{prefix}muscle:emotion__expr_dim", factors2, ", "
            )
    else:
        for name in ("asymptote", "rate"):
            tidy[name] = _split_cells(posterior[f"{name}_fixed"], "cell", factors2, ":")
        for parameter in ("a", "b", "c"):
            tidy[f"effect_{parameter}"] = _split_cells(posterior[f"effect_{parameter}"], "cell", factors2, ":")
            stds = posterior[f"chol_{parameter}_stds"]
            stds = stds.rename({stds.dims[-1]: "cell"}).assign_coords(cell=cells.names)
            tidy[f"sd_{parameter}"] = _split_cells(stds, "cell", factors2, ":")
    tidy["sigma"] = posterior["sigma"]
    dataset = xr.Dataset(tidy)
    order = {"drug": cells.drugs, "muscle": cells.muscles, "emotion": cells.emotions}
    return dataset.reindex({dim: levels for dim, levels in order.items() if dim in dataset.dims})


def _at_rows(posterior: xr.Dataset, name: str, rows: pd.DataFrame) -> np.ndarray:
    """Draws x rows: ``posterior[name]`` at each row's drug / muscle / emotion / participant."""
    values = posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...)
    codes = [pd.Index(values[dim].values).get_indexer(rows[dim]) for dim in values.dims[1:]]
    return values.values[(slice(None), *codes)]


def observation_parameters(posterior: xr.Dataset, data: pd.DataFrame) -> dict[str, np.ndarray]:
    """a, b, c of every posterior draw (rows) at every observation (columns)."""
    return {
        "a": _at_rows(posterior, "asymptote", data) + _at_rows(posterior, "effect_a", data),
        "b": _at_rows(posterior, "effect_b", data),
        "c": _at_rows(posterior, "rate", data) + _at_rows(posterior, "effect_c", data),
    }


def thin(posterior: xr.Dataset, max_draws: int) -> xr.Dataset:
    """Every k-th draw of each chain, so that at most ``max_draws`` draws remain in all."""
    step = int(np.ceil(posterior.sizes["chain"] * posterior.sizes["draw"] / max_draws))
    return posterior.isel(draw=slice(None, None, step))


def log_likelihood_draws(n_observations: int, max_values: int = 200_000_000) -> int:
    """How many draws the pointwise log-likelihood may use: draws x observations float64 values stay under 1.6 GB
    (no thinning for the paper's 2600 rows; ~1600 draws for trial-level data)."""
    return max(1000, max_values // n_observations)


def pointwise_log_likelihood(posterior: xr.Dataset, data: pd.DataFrame) -> np.ndarray:
    """Log density of every observation under every posterior draw (draws x observations)."""
    from scipy.stats import norm

    parameters = observation_parameters(posterior, data)
    mu = curve(parameters["a"], parameters["b"], parameters["c"], data["time"].to_numpy())
    sigma = posterior["sigma"].stack(sample=("chain", "draw")).values[:, None]
    return norm.logpdf(data["log_emg"].to_numpy()[None, :], loc=mu, scale=sigma)


# ---------------------------------------------------------------------------------------------------------------
# Summaries and the diagnostics gate

#: The parameters brms's summary reports (and the paper's R-hat statement covers): fixed effects, the SDs of
#: the participant effects and the residual SD. Participant effects are summarised too, but not gated.
POPULATION = ("asymptote", "rate", "sd_a", "sd_b", "sd_c", "sigma")
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


def summary(posterior: xr.Dataset, model: str, hdi_prob: float = 0.95) -> pd.DataFrame:
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
    for column in ("drug", "muscle", "emotion", "participant"):
        if column not in table:
            table[column] = ""
        table[column] = table[column].fillna("")
    return table[SUMMARY_COLUMNS]


def divergences(raw: Any) -> int:
    stats = raw["sample_stats"]
    return int(stats["diverging"].sum()) if "diverging" in stats else 0


def check_diagnostics(table: pd.DataFrame, n_divergent: int, gate: Diagnostics) -> list[str]:
    """Every way the fit misses the gate, in words (empty when it passes). Gated: the POPULATION parameters."""
    population = table[table["parameter"].isin(POPULATION)]
    problems = []
    worst = population.loc[population["r_hat"].idxmax()]
    if worst["r_hat"] >= gate.max_rhat:
        count = int((population["r_hat"] >= gate.max_rhat).sum())
        problems.append(
            f"R-hat >= {gate.max_rhat} for {count} parameter(s), worst {worst['r_hat']:.4f} ({_label(worst)})"
        )
    low = population.loc[population["ess_bulk"].idxmin()]
    if low["ess_bulk"] < gate.min_ess_bulk:
        count = int((population["ess_bulk"] < gate.min_ess_bulk).sum())
        problems.append(
            f"bulk ESS < {gate.min_ess_bulk:g} for {count} parameter(s), lowest {low['ess_bulk']:.0f} ({_label(low)})"
        )
    if n_divergent > gate.max_divergences:
        problems.append(f"{n_divergent} divergent transitions (at most {gate.max_divergences} allowed)")
    return problems


def _label(row: pd.Series) -> str:
    cells = [str(row[c]) for c in ("drug", "muscle", "emotion", "participant") if str(row[c])]
    return row["parameter"] + (f"[{', '.join(cells)}]" if cells else "")


def diagnostics_row(
    fitted: Fit, table: pd.DataFrame, sampling: Sampling, gate: Diagnostics, n_observations: int
) -> dict[str, Any]:
    """One line per model: sampler settings, time, divergences, worst R-hat / ESS, and the gate's verdict."""
    n_divergent = divergences(fitted.raw)
    problems = check_diagnostics(table, n_divergent, gate)
    population = table[table["parameter"].isin(POPULATION)]
    return {
        "model": fitted.model,
        "variant": sampling.variant,
        "sampler": sampling.sampler,
        "chains": sampling.chains,
        "warmup": sampling.warmup,
        "draws": sampling.draws,
        "observations": n_observations,
        "seconds": round(fitted.seconds, 2),
        "divergences": n_divergent,
        "max_rhat": population["r_hat"].max(),
        "min_ess_bulk": population["ess_bulk"].min(),
        "min_ess_tail": population["ess_tail"].min(),
        "max_rhat_all": table["r_hat"].max(),
        "min_ess_bulk_all": table["ess_bulk"].min(),
        "ess_bulk_per_s": population["ess_bulk"].min() / fitted.seconds,
        "converged": not problems,
        "problems": "; ".join(problems),
    }


def fixed_effects(table: pd.DataFrame, converged: bool) -> pd.DataFrame:
    """The fixed effects of a (asymptote) and c (log rate) with the model's convergence verdict."""
    fixed = table[table["parameter"].isin(("asymptote", "rate"))].copy()
    fixed["drug"] = fixed["drug"].replace("", "all")
    fixed["converged"] = converged
    return fixed[FIXED_COLUMNS].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------------------------
# Model comparison (Table 2)


def _logmeanexp(log_lik: np.ndarray) -> np.ndarray:
    peak = log_lik.max(axis=0)
    return peak + np.log(np.mean(np.exp(log_lik - peak), axis=0))


def waic_pointwise(log_lik: np.ndarray) -> pd.DataFrame:
    """WAIC per observation from a draws x observations log-likelihood matrix, as R's loo::waic computes it.

    elpd_waic_i = log mean_s exp(ll_si) - var_s(ll_si)  (sample variance, ddof = 1).
    """
    lpd = _logmeanexp(log_lik)
    p_waic = log_lik.var(axis=0, ddof=1)
    return pd.DataFrame({"lpd": lpd, "p_waic": p_waic, "elpd_waic": lpd - p_waic})


def loo_pointwise(log_lik: np.ndarray, posterior: xr.Dataset) -> pd.DataFrame:
    """PSIS-LOO per observation (ArviZ; relative efficiency from the posterior), with each Pareto k."""
    import arviz as az

    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    matrix = xr.DataArray(log_lik.reshape(chains, draws, -1), dims=("chain", "draw", "observation"))
    tree = xr.DataTree.from_dict({"posterior": posterior, "log_likelihood": xr.Dataset({"log_emg": matrix})})
    result = az.loo(tree, pointwise=True)
    return pd.DataFrame({"elpd_loo": np.asarray(result.elpd_i), "pareto_k": np.asarray(result.pareto_k)})


def participant_log_likelihood(
    posterior: xr.Dataset, data: pd.DataFrame, nodes: int = 32, chunk: int = 50
) -> np.ndarray:
    """Log density of each participant's data with their participant effects integrated out (draws x participants).

    This is the likelihood of a *new* participant of the same drug group, the unit of leave-one-participant-out
    cross-validation. Per muscle x emotion cell, given the population parameters of a draw, the curve is linear
    in (a, b) for fixed c, so a and b are integrated exactly (a Gaussian with a rank-2 covariance update) and c by
    Gauss-Hermite quadrature over its participant distribution. Exact for independent participant effects (the
    ``bambi`` variant); for the ``brms`` variant it ignores the correlations between cells.
    """
    from scipy.special import logsumexp

    order = data.sort_values(["participant", "muscle", "emotion"], kind="stable").index.to_numpy()
    rows = data.loc[order].reset_index(drop=True)
    group_keys = rows["participant"] + "|" + rows["muscle"] + "|" + rows["emotion"]
    starts = np.flatnonzero(np.r_[True, group_keys.to_numpy()[1:] != group_keys.to_numpy()[:-1]])
    first = rows.iloc[starts]
    participants = list(dict.fromkeys(rows["participant"]))
    owner = pd.Index(participants).get_indexer(first["participant"])
    n = np.diff(np.r_[starts, len(rows)])

    fixed_a, fixed_c = _at_rows(posterior, "asymptote", first), _at_rows(posterior, "rate", first)
    sd_a, sd_b, sd_c = (_at_rows(posterior, f"sd_{p}", first) for p in "abc")
    sigma2 = posterior["sigma"].stack(sample=("chain", "draw")).values[:, None] ** 2
    x, w = np.polynomial.hermite.hermgauss(nodes)
    log_w = np.log(w) - 0.5 * np.log(np.pi)
    t, y = rows["time"].to_numpy(), rows["log_emg"].to_numpy()
    out = np.empty((sigma2.shape[0], len(participants)))
    for lo in range(0, sigma2.shape[0], chunk):
        s = slice(lo, lo + chunk)
        c = fixed_c[s, None, :] + np.sqrt(2.0) * sd_c[s, None, :] * x[None, :, None]  # draws x nodes x groups
        k = np.repeat(np.exp(c), n, axis=2)  # per observation
        x2 = np.exp(-k * t)
        x1 = 1.0 - x2
        r = y - np.repeat(fixed_a[s], n, axis=1)[:, None, :] * x1  # residual from the fixed curve (b's mean is 0)

        def total(values: np.ndarray) -> np.ndarray:
            return np.add.reduceat(values, starts, axis=2)

        s11, s12, s22 = total(x1 * x1), total(x1 * x2), total(x2 * x2)
        u1, u2, rr = total(x1 * r), total(x2 * r), total(r * r)
        v = sigma2[s, :, None]
        m11 = 1.0 / sd_a[s, None, :] ** 2 + s11 / v
        m22 = 1.0 / sd_b[s, None, :] ** 2 + s22 / v
        m12 = s12 / v
        det = m11 * m22 - m12**2
        u1, u2 = u1 / v, u2 / v
        quad = rr / v - (m22 * u1**2 - 2.0 * m12 * u1 * u2 + m11 * u2**2) / det
        log_det = n * np.log(v) + np.log(sd_a[s, None, :] ** 2 * sd_b[s, None, :] ** 2) + np.log(det)
        log_density = -0.5 * (n * np.log(2.0 * np.pi) + log_det + quad)
        per_cell = logsumexp(log_density + log_w[None, :, None], axis=1)  # draws x groups
        out[s] = np.stack([per_cell[:, owner == j].sum(axis=1) for j in range(len(participants))], axis=1)
    return out


def lopo_pointwise(posterior: xr.Dataset, data: pd.DataFrame, max_draws: int = 4000) -> pd.DataFrame:
    """Leave-one-participant-out (PSIS over the participant-level likelihood): one row per participant.

    Observation-level WAIC and LOO ask how well a participant's own effects predict one of their window means;
    they cannot see a drug effect that the participant effects absorb. Leaving out a whole participant asks how
    well the population part of the model (where the drug effects are) predicts a new participant. Draws are
    thinned to at most ``max_draws``.
    """
    thinned = thin(posterior, max_draws)
    log_lik = participant_log_likelihood(thinned, data)
    result = loo_pointwise(log_lik, thinned)
    return pd.DataFrame(
        {
            "participant": sorted(data["participant"].unique()),
            "lpd": _logmeanexp(log_lik),
            "elpd_lopo": result["elpd_loo"],
            "pareto_k": result["pareto_k"],
        }
    )


def information_criteria(pointwise: pd.DataFrame) -> dict[str, float]:
    """Totals and SEs of WAIC and PSIS-LOO (deviance scale, -2 elpd, as brms prints them) from pointwise values."""
    n = len(pointwise)
    out: dict[str, float] = {}
    for criterion, penalty in (("waic", "p_waic"), ("loo", None)):
        elpd = pointwise[f"elpd_{criterion}"]
        out[f"elpd_{criterion}"] = float(elpd.sum())
        out[f"se_elpd_{criterion}"] = float(np.sqrt(n * elpd.var(ddof=1)))
        out[f"{criterion}ic" if criterion == "loo" else "waic"] = -2.0 * out[f"elpd_{criterion}"]
        if penalty:
            out[penalty] = float(pointwise[penalty].sum())
    out["p_loo"] = float((pointwise["lpd"] - pointwise["elpd_loo"]).sum())
    return out


def ic_weights(information_criterion: Sequence[float]) -> np.ndarray:
    """Akaike-type weights from WAIC or LOOIC values, as brms's ``model_weights(weights = "waic" | "loo")``."""
    ic = np.asarray(information_criterion, dtype=float)
    relative = np.exp(-(ic - ic.min()) / 2.0)
    return relative / relative.sum()


def stacking_weights(elpd_loo: np.ndarray) -> np.ndarray:
    """Stacking weights (Yao et al. 2018) from an observations x models matrix of pointwise elpd_loo.

    Maximises sum_i log sum_k w_k exp(elpd_loo_ik) over the simplex, as loo::stacking_weights does.
    """
    from scipy.optimize import minimize
    from scipy.special import logsumexp, softmax

    elpd = np.asarray(elpd_loo, dtype=float)
    k = elpd.shape[1]

    def objective(free: np.ndarray) -> tuple[float, np.ndarray]:
        weights = softmax(np.append(free, 0.0))
        mixture = logsumexp(elpd, axis=1, b=weights)
        responsibilities = weights * np.exp(elpd - mixture[:, None])  # d log p_i / d logit_k
        gradient = responsibilities.sum(axis=0) - len(elpd) * weights
        return -float(mixture.sum()), -gradient[:-1]

    result = minimize(objective, np.zeros(k - 1), jac=True, method="BFGS")
    return softmax(np.append(result.x, 0.0))


def pareto_k_threshold(draws: int) -> float:
    """The Pareto k above which PSIS is unreliable for this many draws: min(1 - 1 / log10(S), 0.7)."""
    return min(1.0 - 1.0 / np.log10(draws), 0.7)


def compare_models(
    pointwise: Mapping[str, pd.DataFrame], draws: int, participants: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """Table 2: per nested model, WAIC and PSIS-LOO over observations (the paper's) with brms-style and stacking
    weights and Pareto k, and leave-one-participant-out (``participants``: :func:`lopo_pointwise` tables) with
    the same weights."""
    names = list(pointwise)
    rows = []
    for name in names:
        values, by_participant = pointwise[name], participants[name]
        elpd_lopo = by_participant["elpd_lopo"]
        rows.append(
            {
                "model": name,
                "label": MODEL_LABELS.get(name, name),
                **information_criteria(values),
                "waic_warnings": int((values["p_waic"] > 0.4).sum()),
                "pareto_k_max": float(values["pareto_k"].max()),
                "pareto_k_bad": int((values["pareto_k"] > pareto_k_threshold(draws)).sum()),
                "elpd_lopo": float(elpd_lopo.sum()),
                "se_elpd_lopo": float(np.sqrt(len(elpd_lopo) * elpd_lopo.var(ddof=1))),
                "lopo_pareto_k_bad": int((by_participant["pareto_k"] > pareto_k_threshold(min(draws, 4000))).sum()),
            }
        )
    table = pd.DataFrame(rows)
    table["weight_waic"] = ic_weights(table["waic"])
    table["weight_loo"] = ic_weights(table["looic"])
    table["weight_stacking"] = stacking_weights(np.column_stack([pointwise[n]["elpd_loo"] for n in names]))
    table["weight_lopo"] = ic_weights(-2.0 * table["elpd_lopo"])
    table["weight_lopo_stacking"] = stacking_weights(np.column_stack([participants[n]["elpd_lopo"] for n in names]))
    table["elpd_loo_diff"] = table["elpd_loo"] - table["elpd_loo"].max()
    table["elpd_lopo_diff"] = table["elpd_lopo"] - table["elpd_lopo"].max()
    return table


# ---------------------------------------------------------------------------------------------------------------
# Prior predictive check

PRIOR_PREDICTIVE_COLUMNS = [
    "muscle",
    "emotion",
    "window",
    "observed_mean",
    "observed_low",
    "observed_high",
    "prior_low",
    "prior_median",
    "prior_high",
    "observed_inside",
]


def prior_predictive(
    data: pd.DataFrame, cells: Cells, model: str, priors: Priors, sampling: Sampling, draws: int
) -> np.ndarray:
    """Draws x observations from the implemented model's prior predictive distribution (PyMC forward sampling)."""
    import pymc as pm

    if sampling.variant == "bambi":
        pymc_model = bambi_model(data, cells, model, priors)
        pymc_model.build()
        pymc_model = pymc_model.backend.model
    else:
        pymc_model = brms_model(data, cells, model, priors)
    with pymc_model:
        tree = pm.sample_prior_predictive(draws=draws, var_names=["log_emg"], random_seed=sampling.seed)
    values = tree["prior_predictive"]["log_emg"]
    return values.stack(sample=("chain", "draw")).transpose("sample", ...).values


def prior_predictive_table(data: pd.DataFrame, predicted: np.ndarray, prob: float = 0.95) -> pd.DataFrame:
    """Per muscle x emotion x window: the data's spread beside the prior predictive interval, and the share of
    observations inside that interval (a prior that cannot produce the data shows a share far below ``prob``)."""
    tail = (1.0 - prob) / 2.0
    rows = []
    for (muscle, emotion, window), group in data.groupby(["muscle", "emotion", "window"], sort=False):
        simulated = predicted[:, group.index.to_numpy()].ravel()
        low, median, high = np.quantile(simulated, [tail, 0.5, 1.0 - tail])
        observed = group["log_emg"]
        rows.append(
            {
                "muscle": muscle,
                "emotion": emotion,
                "window": int(window),
                "observed_mean": observed.mean(),
                "observed_low": observed.quantile(tail),
                "observed_high": observed.quantile(1.0 - tail),
                "prior_low": low,
                "prior_median": median,
                "prior_high": high,
                "observed_inside": float(observed.between(low, high).mean()),
            }
        )
    return pd.DataFrame(rows, columns=PRIOR_PREDICTIVE_COLUMNS)


def prior_curves(priors: Priors, draws: int, seed: int, times: np.ndarray) -> np.ndarray:
    """Population curves (b = 0, its fixed value) for a and c drawn from their priors: Figure 2B. draws x times."""
    rng = np.random.default_rng(seed)
    a = rng.normal(priors.asymptote_mu, priors.asymptote_sigma, size=(draws, 1))
    c = rng.normal(priors.rate_mu, priors.rate_sigma, size=(draws, 1))
    return curve(a, 0.0, c, times[None, :])


def population_curve_band(posterior: xr.Dataset, times: np.ndarray, prob: float) -> pd.DataFrame:
    """HDI of the population curve (fixed a and c, b = 0) per [drug x] muscle x emotion over ``times``."""
    import arviz as az

    t = xr.DataArray(times, dims="time", coords={"time": times})
    mean_curve = curve(posterior["asymptote"], 0.0, posterior["rate"], t)
    hdi = az.hdi(xr.Dataset({"curve": mean_curve}), prob=prob)["curve"]
    band = xr.Dataset(
        {
            "median": mean_curve.median(("chain", "draw")),
            "hdi_low": hdi.sel(ci_bound="lower", drop=True),
            "hdi_high": hdi.sel(ci_bound="upper", drop=True),
        }
    )
    return band.to_dataframe().reset_index()


# ---------------------------------------------------------------------------------------------------------------
# Files


def save_posterior(fitted: Fit, data: pd.DataFrame, path: str, attributes: Mapping[str, Any]) -> None:
    """The posterior (shared layout), the sampler's statistics and the modelled data as one netCDF file."""
    posterior = fitted.posterior.assign_attrs({k: str(v) for k, v in attributes.items()})
    stats = fitted.raw["sample_stats"]
    stats = stats.to_dataset() if hasattr(stats, "to_dataset") else stats
    stats = stats[
        [name for name in ("diverging", "tree_depth", "step_size", "energy", "lp", "n_steps") if name in stats]
    ]
    observed = xr.Dataset.from_dataframe(data.reset_index(drop=True).rename_axis("observation"))
    tree = xr.DataTree.from_dict(
        {"posterior": posterior, "sample_stats": stats.drop_attrs(), "observed_data": observed}
    )
    encoding = {
        "/posterior": {name: {"dtype": "float32", "zlib": True, "complevel": 4} for name in posterior.data_vars}
    }
    tree.to_netcdf(path, engine="h5netcdf", encoding=encoding)


def load_posterior(path: str) -> xr.Dataset:
    """The posterior (shared layout) from a file written by ``save_posterior``."""
    with xr.open_datatree(path, engine="h5netcdf") as tree:
        return tree["posterior"].to_dataset().load()


def format_table2(table: pd.DataFrame) -> str:
    """Table 2 as in the paper (model weights by WAIC and LOO), with stacking weights and the diagnostics."""

    def weight(value: float) -> str:
        return "<0.001" if value < 0.001 else f"{value:.3f}"

    lines = [
        "| Model | WAIC | LOO | Stacking | bad Pareto k | LOPO | LOPO stacking | elpd_lopo diff | converged |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        lines.append(
            f"| {row.label} | {weight(row.weight_waic)} | {weight(row.weight_loo)} | "
            f"{weight(row.weight_stacking)} | {row.pareto_k_bad} | {weight(row.weight_lopo)} | "
            f"{weight(row.weight_lopo_stacking)} | {row.elpd_lopo_diff:.1f} | "
            f"{'yes' if row.converged else 'NO'} |"
        )
    lines.append("")
    lines.append(
        'WAIC, LOO: model weights as brms\'s `model_weights(weights = "waic" | "loo")` (exp(-IC/2), '
        "normalised), over single window means, as in the paper; Stacking: stacking of those PSIS-LOO "
        "densities. LOPO: leave-one-participant-out (participant effects integrated out), the comparison "
        "that can see drug effects; weights exp(elpd), normalised, and stacking."
    )
    return "\n".join(lines) + "\n"
