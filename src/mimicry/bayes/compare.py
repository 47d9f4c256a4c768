"""Model comparison (Table 2): the pointwise log-likelihood of every window (from the participant effects, as
brms computes it), WAIC and PSIS-LOO over windows, leave-one-participant-out over whole participants (their
effects integrated out), brms-style and stacking weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mimicry.bayes.marginal import Series, crossover_log_density, series_log_density
from mimicry.bayes.model import Cells
from mimicry.bayes.sampling import thin
from mimicry.bayes_specs import MODEL_LABELS, WINDOW_CRITERIA_CAVEAT
from mimicry.curve import curve


def _at_rows(posterior: xr.Dataset, name: str, rows: pd.DataFrame) -> np.ndarray:
    """Draws x rows: ``posterior[name]`` at each row's drug / muscle / emotion / participant."""
    values = posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...)
    codes = [pd.Index(values[dim].values).get_indexer(rows[dim]) for dim in values.dims[1:]]
    return values.values[(slice(None), *codes)]


def observation_parameters(posterior: xr.Dataset, data: pd.DataFrame) -> dict[str, np.ndarray]:
    """a, b, c of every posterior draw (rows) at every observation (columns); in a crossover a has the session's
    own deviation too."""
    session = _at_rows(posterior, "effect_a_session", data) if "effect_a_session" in posterior else 0.0
    return {
        "a": _at_rows(posterior, "asymptote", data) + _at_rows(posterior, "effect_a", data) + session,
        "b": _at_rows(posterior, "effect_b", data)
        + (_at_rows(posterior, "start", data) if "start" in posterior else 0.0),
        "c": _at_rows(posterior, "rate", data) + _at_rows(posterior, "effect_c", data),
    }


def log_likelihood_draws(n_observations: int, max_values: int = 200_000_000) -> int:
    """How many draws the pointwise log-likelihood may use: draws x observations float64 values stay under 1.6 GB
    (no thinning for the paper's 2600 rows; ~1600 draws for trial-level data)."""
    return max(1000, max_values // n_observations)


_LOG_SQRT_2PI = float(np.log(np.sqrt(2.0 * np.pi)))


def normal_logpdf(y: np.ndarray, mu: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Normal log density in ``scipy.stats.norm.logpdf``'s arithmetic, to the bit, without its per-element
    argument checks (3 s of a paper-size model's 10,000 draws x 2600 windows; this takes 0.2 s)."""
    z = (y - mu) / sigma
    # C order, as scipy returns it: sums over draws (WAIC's) then add in the same order
    return np.ascontiguousarray(-(z**2) / 2.0 - _LOG_SQRT_2PI - np.log(sigma))


def observation_distribution(posterior: xr.Dataset, data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mean (draws x observations) and residual SD (draws x 1) of every observation under every posterior draw."""
    parameters = observation_parameters(posterior, data)
    mu = curve(parameters["a"], parameters["b"], parameters["c"], data["time"].to_numpy())
    return mu, posterior["sigma"].stack(sample=("chain", "draw")).values[:, None]


def pointwise_log_likelihood(posterior: xr.Dataset, data: pd.DataFrame) -> np.ndarray:
    """Log density of every observation under every posterior draw (draws x observations)."""
    mu, sigma = observation_distribution(posterior, data)
    return normal_logpdf(data["log_emg"].to_numpy()[None, :], mu, sigma)


# ---------------------------------------------------------------------------------------------------------------
# Model comparison (Table 2)


def observation_criteria(posterior: xr.Dataset, data: pd.DataFrame) -> pd.DataFrame:
    """WAIC, PSIS-LOO and the LOO-PIT per observation (one row each), from at most :func:`log_likelihood_draws`
    draws: memory is draws x rows (trial-level data)."""
    from scipy.special import ndtr

    scored = thin(posterior, log_likelihood_draws(len(data)))
    mu, sigma = observation_distribution(scored, data)
    y = data["log_emg"].to_numpy()[None, :]
    log_lik = normal_logpdf(y, mu, sigma)
    return pd.concat([waic_pointwise(log_lik), loo_pointwise(log_lik, scored, below=ndtr((y - mu) / sigma))], axis=1)


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


def loo_pointwise(log_lik: np.ndarray, posterior: xr.Dataset, below: np.ndarray | None = None) -> pd.DataFrame:
    """PSIS-LOO per observation (ArviZ; relative efficiency from the posterior), with each Pareto k; given
    ``below`` (draws x observations: each draw's probability of a replicate at or below the observation), the
    LOO-PIT too: ``below`` averaged with each observation's Pareto-smoothed leave-one-out weights (exact for the
    Gaussian likelihood: no replicates drawn)."""
    import arviz as az
    from scipy.special import logsumexp

    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    matrix = xr.DataArray(log_lik.reshape(chains, draws, -1), dims=("chain", "draw", "observation"))
    tree = xr.DataTree.from_dict({"posterior": posterior, "log_likelihood": xr.Dataset({"log_emg": matrix})})
    result = az.loo(tree, pointwise=True)
    table = pd.DataFrame({"elpd_loo": np.asarray(result.elpd_i), "pareto_k": np.asarray(result.pareto_k)})
    if below is not None:
        log_weights = result.log_weights.transpose("observation", "chain", "draw").values.reshape(len(table), -1)
        weights = np.exp(log_weights - logsumexp(log_weights, axis=1, keepdims=True))
        table["loo_pit"] = np.einsum("os,so->o", weights, below)
    return table


def _by_cell(posterior: xr.Dataset, name: str) -> np.ndarray:
    """Draws x [drugs x] cells (muscle-major) of a parameter of the tidy posterior."""
    values = posterior[name].stack(sample=("chain", "draw")).transpose("sample", ..., "muscle", "emotion").values
    return values.reshape(*values.shape[:-2], -1)


def participant_log_likelihood(
    posterior: xr.Dataset, data: pd.DataFrame, nodes: int = 32, chunk: int = 1
) -> np.ndarray:
    """Log density of each participant's data with their participant effects integrated out (draws x participants,
    participants sorted).

    This is the likelihood of a *new* participant of the same drug group, the unit of leave-one-participant-out
    cross-validation. Per muscle x emotion series, given the population parameters of a draw, a and b are
    integrated exactly (:func:`mimicry.bayes.marginal.series_log_density`) and c by Gauss-Hermite quadrature
    over its participant distribution. Exact for independent participant effects (the ``bambi`` variant); for
    the ``brms`` variant it ignores the correlations between cells. ``chunk`` draws at a time: one draw's
    nodes x participants x cells x windows arrays stay in the cache (50 at a time took four times as long).
    """
    from scipy.special import logsumexp

    drugs = list(posterior["drug"].values) if "drug" in posterior.dims else sorted(data["drug"].unique())
    cells = Cells.of(data, drugs, list(posterior["muscle"].values), list(posterior["emotion"].values))
    series = Series.of(data, cells)
    # a crossover's arrays have a sessions axis after the participants (the c effect shared by the sessions)
    sessions = (None,) if series.crossover else ()
    population = {name: _by_cell(posterior, name) for name in ("asymptote", "rate", "start") if name in posterior}
    at = {name: v[:, series.drug] if v.ndim == 3 else v[:, None, *sessions, :] for name, v in population.items()}
    sd = {p: _by_cell(posterior, f"sd_{p}")[:, None, :] for p in "abc"}
    sigma = posterior["sigma"].stack(sample=("chain", "draw")).values
    x, w = np.polynomial.hermite.hermgauss(nodes)
    log_w = (np.log(w) - 0.5 * np.log(np.pi))[None, :, None, None]
    node = np.sqrt(2.0) * x[None, :, None, None]
    out = np.empty((len(sigma), len(cells.participants)))
    for lo in range(0, len(sigma), chunk):
        s = slice(lo, lo + chunk)
        start = at["start"][s, None] if "start" in at else 0.0
        asymptote = at["asymptote"][s, None]
        rate = np.exp(at["rate"][s, None] + (node * sd["c"][s, None])[..., *sessions, :])
        shared = (np, series, asymptote, np.zeros_like(asymptote) + start, rate, sd["a"][s, None], sd["b"][s, None])
        if series.crossover:
            session_sd = _by_cell(posterior, "sd_a_session")[s, None, None, None, :]
            log_density = crossover_log_density(*shared, session_sd, sigma[s, None, None, None, None])
        else:
            log_density = series_log_density(*shared, sigma[s, None, None, None])
        out[s] = logsumexp(log_density + log_w, axis=1).sum(axis=-1)
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
    if k == 1:
        return np.ones(1)

    def objective(free: np.ndarray) -> tuple[float, np.ndarray]:
        weights = softmax(np.append(free, 0.0))
        mixture = logsumexp(elpd, axis=1, b=weights)
        responsibilities = weights * np.exp(elpd - mixture[:, None])  # d log p_i / d logit_k
        gradient = responsibilities.sum(axis=0) - len(elpd) * weights
        return -float(mixture.sum()), -gradient[:-1]

    result = minimize(objective, np.zeros(k - 1), jac=True, method="BFGS")
    return softmax(np.append(result.x, 0.0))


#: A criterion is flagged unreliable when more than this share of its Pareto k exceed K_LIMIT.
UNRELIABLE_SHARE = 0.10
K_LIMIT = 0.7


def pareto_k_threshold(draws: int) -> float:
    """The Pareto k above which PSIS is unreliable for this many draws: min(1 - 1 / log10(S), 0.7)."""
    return min(1.0 - 1.0 / np.log10(draws), 0.7)


def compare_models(
    pointwise: Mapping[str, pd.DataFrame],
    draws: int,
    participants: Mapping[str, pd.DataFrame],
    converged: Mapping[str, bool],
) -> pd.DataFrame:
    """Table 2: per nested model, WAIC and PSIS-LOO over observations (the paper's) with brms-style and stacking
    weights and Pareto k, and leave-one-participant-out (``participants``: :func:`lopo_pointwise` tables) with
    the same weights. Only models that passed the convergence gate (``converged``) are weighed: a failed model
    keeps its criteria and has no weight; when none passed (a short exploratory run), all are weighed."""
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
                "pareto_k_share": float((values["pareto_k"] > K_LIMIT).mean()),
                "lopo_pareto_k_share": float((by_participant["pareto_k"] > K_LIMIT).mean()),
                "converged": bool(converged[name]),
            }
        )
    table = pd.DataFrame(rows)
    weighed = [name for name in names if converged[name]] or names
    at = table["model"].isin(weighed).to_numpy()
    weights = {
        "weight_waic": ic_weights(table.loc[at, "waic"]),
        "weight_loo": ic_weights(table.loc[at, "looic"]),
        "weight_stacking": stacking_weights(np.column_stack([pointwise[n]["elpd_loo"] for n in weighed])),
        "weight_lopo": ic_weights(-2.0 * table.loc[at, "elpd_lopo"]),
        "weight_lopo_stacking": stacking_weights(np.column_stack([participants[n]["elpd_lopo"] for n in weighed])),
    }
    for column, values in weights.items():
        table[column] = np.nan
        table.loc[at, column] = values
    # WAIC, LOO and their stacking share the per-window Pareto k; LOPO has its own, per participant
    table["windows_reliable"] = table["pareto_k_share"] <= UNRELIABLE_SHARE
    table["lopo_reliable"] = table["lopo_pareto_k_share"] <= UNRELIABLE_SHARE
    table["elpd_loo_diff"] = table["elpd_loo"] - table.loc[at, "elpd_loo"].max()
    table["elpd_lopo_diff"] = table["elpd_lopo"] - table.loc[at, "elpd_lopo"].max()
    return table


def format_table2(table: pd.DataFrame) -> str:
    """Table 2 as in the paper (model weights by WAIC and LOO), with stacking weights, leave-one-participant-out and
    the gate's verdict; a weight whose criterion is unreliable (more than 10% of Pareto k above 0.7) is marked, a
    model that failed the gate has none."""

    def weight(value: float, reliable: bool) -> str:
        if np.isnan(value):
            return "—"
        text = "<0.001" if value < 0.001 else f"{value:.3f}"
        return text if reliable else f"{text} (unreliable)"

    def verdict(row: Any) -> str:
        return "yes" if row.converged else f"NO ({row.failed_classes})" if row.failed_classes else "NO"

    lines = [
        "| Model | WAIC | LOO | Stacking | Pareto k > 0.7 | LOPO | LOPO stacking | elpd_lopo diff | converged |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table.itertuples():
        windows, lopo = bool(row.windows_reliable), bool(row.lopo_reliable)
        lines.append(
            f"| {row.label} | {weight(row.weight_waic, windows)} | {weight(row.weight_loo, windows)} | "
            f"{weight(row.weight_stacking, windows)} | {row.pareto_k_share:.1%} | {weight(row.weight_lopo, lopo)} | "
            f"{weight(row.weight_lopo_stacking, lopo)} | {row.elpd_lopo_diff:.1f} | {verdict(row)} |"
        )
    lines.append("")
    lines.append(
        'WAIC, LOO: model weights as brms\'s `model_weights(weights = "waic" | "loo")` (exp(-IC/2), '
        "normalised), over single window means, as in the paper; Stacking: stacking of those PSIS-LOO "
        "densities. LOPO: leave-one-participant-out (participant effects integrated out); weights exp(elpd), "
        "normalised, and stacking. (unreliable): more than 10% of the criterion's Pareto k exceed 0.7. "
        "converged: whether the model passed the convergence gate (NO: the parameter classes that missed it); a "
        "model that did not pass has no weight (—), and the weights are over the models that did. "
        + WINDOW_CRITERIA_CAVEAT
    )
    return "\n".join(lines) + "\n"
