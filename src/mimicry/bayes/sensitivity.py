"""Power-scaling sensitivity of a fitted nested model to its prior and to its likelihood (Kallioinen et al., 2024;
``arviz_stats.psense``): how far each population parameter's and each drug contrast's posterior moves when the
prior (or the likelihood) is raised to a power near 1, by Pareto-smoothed importance weights on the draws we have.

The prior is the model's top-level priors (normal on the fixed effects of a and c, and on b's intercept where
the model has one; half-normal on every participant SD and the residual SD), as brms's ``lprior`` and priorsense
count it; the participant effects' own distribution belongs to the hierarchy, not the prior. In the LKJ variant
the correlations' LKJ prior is not counted (the tidy posterior keeps the SDs only). The likelihood is the data's
density given every parameter, the participant effects of a and b included (recovered per draw in the
integrated parameterisation: the draws are of the joint posterior either way).

A quantity whose prior sensitivity reaches ``THRESHOLD`` depends on the prior; with a likelihood sensitivity
that reaches it too, prior and data pull apart (prior-data conflict); with a weak one, the data say little
about it (Kallioinen et al.'s diagnoses).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from mimicry.bayes.compare import pointwise_log_likelihood
from mimicry.bayes.contrasts import population_and_contrasts, with_cell_columns
from mimicry.settings import Priors

#: Kallioinen et al.'s threshold of the power-scaling sensitivity (the CJS distance's gradient).
THRESHOLD = 0.05
SENSITIVITY_COLUMNS = ["quantity", "drug", "muscle", "emotion", "prior", "likelihood", "diagnosis"]
_LOG_2 = float(np.log(2.0))


def _normal_log_density(values: xr.DataArray, mu: float, sigma: float) -> xr.DataArray:
    return -0.5 * ((values - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2.0 * np.pi)


def _half_normal_log_density(values: xr.DataArray, sigma: float) -> xr.DataArray:
    return _normal_log_density(values, 0.0, sigma) + _LOG_2


def log_prior(posterior: xr.Dataset, priors: Priors) -> xr.DataArray:
    """The top-level log prior density of every draw (dims chain, draw)."""
    terms = [
        _normal_log_density(posterior["asymptote"], priors.asymptote_mu, priors.asymptote_sigma),
        _normal_log_density(posterior["rate"], priors.rate_mu, priors.rate_sigma),
        *[
            _half_normal_log_density(posterior[name], priors.random_sd)
            for name in ("sd_a", "sd_b", "sd_c", "sd_a_session")
            if name in posterior
        ],
        _half_normal_log_density(posterior["sigma"], priors.residual_sd),
    ]
    if "start" in posterior:
        terms.append(_normal_log_density(posterior["start"], priors.asymptote_mu, priors.asymptote_sigma))
    sample = ("chain", "draw")
    total = xr.zeros_like(posterior["sigma"])
    for term in terms:
        total = total + term.sum([dim for dim in term.dims if dim not in sample])
    return total


def log_likelihood(posterior: xr.Dataset, data: pd.DataFrame, max_values: int = 10_000_000) -> xr.DataArray:
    """The data's log density given every parameter, per draw (dims chain, draw), summed over the observations in
    chunks of draws (trial-level data: draws x rows would not fit in memory)."""
    chains, draws = posterior.sizes["chain"], posterior.sizes["draw"]
    step = max(1, max_values // (len(data) * chains))
    totals = [
        pointwise_log_likelihood(posterior.isel(draw=slice(start, start + step)), data).sum(axis=1)
        for start in range(0, draws, step)
    ]
    # pointwise_log_likelihood stacks (chain, draw) chain-major within each chunk
    per_chunk = [total.reshape(chains, -1) for total in totals]
    values = np.concatenate(per_chunk, axis=1)
    return xr.DataArray(values, dims=("chain", "draw"), coords={"chain": posterior["chain"], "draw": posterior["draw"]})


def diagnosis(prior: float, likelihood: float) -> str:
    """Kallioinen et al.'s reading of the two sensitivities at :data:`THRESHOLD`."""
    if prior < THRESHOLD:
        return "-"
    return "prior-data conflict" if likelihood >= THRESHOLD else "strong prior / weak likelihood"


def sensitivity_table(posterior: xr.Dataset, data: pd.DataFrame, priors: Priors, reference_group: str) -> pd.DataFrame:
    """Per quantity (``population_and_contrasts``) and cell: its prior and likelihood power-scaling sensitivity and
    their diagnosis (one row per drug x muscle x emotion element; ``drug`` empty where the quantity has none, the drug
    compared with the reference group for a contrast)."""
    from arviz_stats import psense
    from xarray import DataTree

    chosen = population_and_contrasts(posterior, reference_group)
    tree = DataTree.from_dict(
        {
            "posterior": chosen,
            "log_prior": xr.Dataset({"prior": log_prior(posterior, priors)}),
            "log_likelihood": xr.Dataset({"log_emg": log_likelihood(posterior, data)}),
        }
    )
    by_group = {group: psense(tree, group=group, sample_dims=["chain", "draw"]) for group in ("prior", "likelihood")}
    rows = []
    for name in chosen.data_vars:
        both = xr.Dataset({group: by_group[group][name] for group in by_group})
        flat = both.to_dataframe().reset_index() if both.dims else pd.DataFrame([both.to_pandas()])
        rows.append(flat.assign(quantity=name))
    table = with_cell_columns(pd.concat(rows, ignore_index=True))
    table["diagnosis"] = [diagnosis(p, lik) for p, lik in zip(table["prior"], table["likelihood"], strict=True)]
    return table[SENSITIVITY_COLUMNS]
