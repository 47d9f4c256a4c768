"""The prior predictive check (is the data a plausible draw from the priors?), the posterior predictive check
(does the fitted model reproduce each drug group's mean curve?), the prior curves of Figure 2B and the posterior
band of the population curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from mimicry.bayes.model import Cells, bambi_model, brms_model, crossover_model
from mimicry.bayes.sampling import reproducible_compilation
from mimicry.curve import curve
from mimicry.settings import Priors, Sampling

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
    """Draws x observations from the implemented model's prior predictive distribution (PyMC forward sampling).

    Always from the joint parameterisation: integrating the participant effects out changes how the posterior
    is sampled, not the model, so both parameterisations have this prior predictive distribution."""
    import pymc as pm

    if cells.crossover:
        pymc_model = crossover_model(data, cells, model, priors)
    elif sampling.variant == "bambi":
        pymc_model = bambi_model(data, cells, model, priors)
        pymc_model.build()
        pymc_model = pymc_model.backend.model
    else:
        pymc_model = brms_model(data, cells, model, priors)
    with pymc_model, reproducible_compilation():
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


POSTERIOR_PREDICTIVE_COLUMNS = [
    "drug",
    "muscle",
    "emotion",
    "window",
    "participants",
    "observed_mean",
    "predicted_low",
    "predicted_median",
    "predicted_high",
    "p_value",
    "outside",
]


def _draw_values(values: xr.DataArray, draws: np.ndarray) -> np.ndarray:
    """The chosen draws (chains stacked) of one variable, its other dims kept."""
    return values.stack(sample=("chain", "draw")).transpose("sample", ...).values[draws]


def posterior_predictive_table(
    posterior: xr.Dataset, data: pd.DataFrame, prob: float, seed: int, max_draws: int = 1000
) -> pd.DataFrame:
    """Per drug x muscle x emotion x window: the group's mean of its participants' window means beside its
    posterior predictive distribution, and the two-sided posterior predictive p-value.

    The replications are new participants of the group (its size, and each participant's trials per window, as
    observed): their a, b, c drawn from the population (fixed effects and participant SDs of each posterior
    draw), their window means with the residual SD over the square root of their trials. New participants, not
    the observed ones' own effects: those absorb whatever the population part misses (a drug effect a nested
    model leaves out), as the report's caveat on window-level criteria says. ``posterior``: the tidy layout."""
    means = data.groupby(["participant", "drug", "muscle", "emotion", "window", "time"], observed=True)["log_emg"].agg(
        ["mean", "size"]
    )
    means = means.reset_index()
    samples = posterior.sizes["chain"] * posterior.sizes["draw"]
    draws = np.linspace(0, samples - 1, min(max_draws, samples)).round().astype(int)
    rng = np.random.default_rng(seed)
    sigma = _draw_values(posterior["sigma"], draws)[:, None]
    tail = (1.0 - prob) / 2.0
    rows = []
    for (drug, muscle, emotion), group in means.groupby(["drug", "muscle", "emotion"], sort=False, observed=True):
        cell = {"drug": drug, "muscle": muscle, "emotion": emotion}

        def at(name: str, cell: dict[str, str] = cell) -> np.ndarray:
            values = posterior[name]
            return _draw_values(values.sel({dim: cell[dim] for dim in values.dims if dim in cell}), draws)[:, None]

        participants = group["participant"].unique()
        shape = (len(draws), len(participants))
        a = at("asymptote") + at("sd_a") * rng.standard_normal(shape)
        if "sd_a_session" in posterior:  # a crossover's: the new participant's session deviates too
            a = a + at("sd_a_session") * rng.standard_normal(shape)
        b = (at("start") if "start" in posterior else 0.0) + at("sd_b") * rng.standard_normal(shape)
        c = at("rate") + at("sd_c") * rng.standard_normal(shape)
        for (number, time), window in group.groupby(["window", "time"], sort=True):
            columns = pd.Index(participants).get_indexer(window["participant"])
            noise = (
                sigma / np.sqrt(window["size"].to_numpy())[None, :] * rng.standard_normal((len(draws), len(columns)))
            )
            replicated = curve(a[:, columns], b[:, columns], c[:, columns], float(time)) + noise
            predicted = replicated.mean(axis=1)
            observed = float(window["mean"].mean())
            low, median, high = np.quantile(predicted, [tail, 0.5, 1.0 - tail])
            above = float(np.mean(predicted >= observed))
            rows.append(
                {
                    "drug": drug,
                    "muscle": muscle,
                    "emotion": emotion,
                    "window": int(number),
                    "participants": len(window),
                    "observed_mean": observed,
                    "predicted_low": low,
                    "predicted_median": median,
                    "predicted_high": high,
                    "p_value": min(1.0, 2.0 * min(above, 1.0 - above)),
                    "outside": not low <= observed <= high,
                }
            )
    return pd.DataFrame(rows, columns=POSTERIOR_PREDICTIVE_COLUMNS)


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
