"""The prior predictive check (is the data a plausible draw from the priors?), the prior curves of Figure 2B and
the posterior band of the population curve."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from mimicry.bayes.model import Cells, bambi_model, brms_model
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

    if sampling.variant == "bambi":
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
