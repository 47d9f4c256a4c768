"""Simulation-based calibration of the asymptotic model (Talts et al., 2018; Modrak et al., 2023).

Each simulation draws the population parameters from the priors and the participants' effects from them, at the
study's design (its groups and group sizes, muscles, emotions and windows; one mean per participant x muscle x
emotion x window, the paper's data level), simulates the data from the model's own likelihood, and fits them
with the project's sampler (the integrated-out model, compiled once per batch and refitted to each simulation's
data, as the power analysis does). If the model and its sampler are right, the rank of each true value among the
posterior draws is uniform: per population parameter, per drug contrast with the reference group, and for the
log-likelihood of the data (a test quantity that sees the whole model at once). Every fit's gate verdict is
recorded; a fit that fails the gate is counted, not dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mimicry.bayes.compare import observation_parameters, pointwise_log_likelihood
from mimicry.bayes.contrasts import population_and_contrasts, with_cell_columns
from mimicry.bayes.marginal import Series, marginal_model, series_data, with_recovered_effects
from mimicry.bayes.model import Cells
from mimicry.bayes.sampling import _posterior, reproducible_compilation, tidy_posterior
from mimicry.bayes_specs import NESTED_MODELS
from mimicry.curve import curve
from mimicry.power.bayes_rules import gate_verdict
from mimicry.settings import CalibrationSettings, Diagnostics, Priors

#: Columns of a batch's ranks table: one row per simulation x quantity element.
RANK_COLUMNS = [
    "simulation",
    "quantity",
    "drug",
    "muscle",
    "emotion",
    "rank",
    "draws",
    "max_rhat",
    "min_ess_bulk",
    "divergences",
    "converged",
]
#: The Kolmogorov-Smirnov critical value of a simultaneous 95% band around an ECDF (times 1 / sqrt(n)).
KS_95 = 1.3581


@dataclass(frozen=True)
class Design:
    """The study's shape the simulations take: its groups and their sizes, muscles, emotions and windows."""

    participants_per_group: Mapping[str, int]
    muscles: tuple[str, ...]
    emotions: tuple[str, ...]
    windows: int

    def data_frame(self) -> pd.DataFrame:
        """Every participant x muscle x emotion x window row of the model data, without values."""
        rows = [
            (f"{group[:3]}{k:03d}", group, muscle, emotion, window)
            for group, size in self.participants_per_group.items()
            for k in range(size)
            for muscle in self.muscles
            for emotion in self.emotions
            for window in range(1, self.windows + 1)
        ]
        data = pd.DataFrame(rows, columns=["participant", "drug", "muscle", "emotion", "window"])
        return data.assign(time=(data["window"] - 1).astype(float), log_emg=0.0)

    def cells(self, data: pd.DataFrame) -> Cells:
        return Cells.of(data, list(self.participants_per_group), list(self.muscles), list(self.emotions))


def draw_truth(priors: Priors, model: str, cells: Cells, rng: np.random.Generator) -> xr.Dataset:
    """Population parameters from the priors and participant effects from them, in the tidy posterior's layout
    (one draw: chain and draw of length 1)."""
    shape = (len(cells.muscles), len(cells.emotions))
    factors = {"muscle": cells.muscles, "emotion": cells.emotions}

    def array(values: np.ndarray, dims: tuple[str, ...]) -> xr.DataArray:
        coords = {dim: {"drug": cells.drugs, "participant": cells.participants, **factors}[dim] for dim in dims}
        return xr.DataArray(values[None, None], dims=("chain", "draw", *dims), coords=coords)

    truth = {}
    for name, mu, sigma in (
        ("asymptote", priors.asymptote_mu, priors.asymptote_sigma),
        ("rate", priors.rate_mu, priors.rate_sigma),
    ):
        with_drug = name in NESTED_MODELS[model]
        dims = ("drug", "muscle", "emotion") if with_drug else ("muscle", "emotion")
        size = (len(cells.drugs), *shape) if with_drug else shape
        truth[name] = array(rng.normal(mu, sigma, size), dims)
    if priors.b_intercept:
        truth["start"] = array(rng.normal(priors.asymptote_mu, priors.asymptote_sigma, shape), ("muscle", "emotion"))
    for parameter in "abc":
        sd = np.abs(rng.normal(0.0, priors.random_sd, shape))
        truth[f"sd_{parameter}"] = array(sd, ("muscle", "emotion"))
        effects = rng.normal(0.0, 1.0, (len(cells.participants), *shape)) * sd
        truth[f"effect_{parameter}"] = array(effects, ("participant", "muscle", "emotion"))
    truth["sigma"] = xr.DataArray([[abs(rng.normal(0.0, priors.residual_sd))]], dims=("chain", "draw"))
    return xr.Dataset(truth)


def simulate_data(truth: xr.Dataset, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The design's rows (``Design.data_frame``) with values from the model's likelihood at ``truth``."""
    parameters = observation_parameters(truth, frame)
    mean = curve(parameters["a"][0], parameters["b"][0], parameters["c"][0], frame["time"].to_numpy())
    sigma = float(truth["sigma"].values.ravel()[0])
    return frame.assign(log_emg=mean + rng.normal(0.0, sigma, len(frame)))


def thin_draws(posterior: xr.Dataset, draws: int) -> xr.Dataset:
    """``draws`` draws evenly spaced over the chains stacked (one chain, draws in order)."""
    stacked = posterior.stack(sample=("chain", "draw"))
    chosen = np.linspace(0, stacked.sizes["sample"] - 1, draws).round().astype(int)
    thinned = stacked.isel(sample=chosen).drop_vars(["sample", "chain", "draw"])
    return thinned.rename(sample="draw").expand_dims(chain=1).transpose("chain", "draw", ...)


def ranks(posterior: xr.Dataset, truth: xr.Dataset, data: pd.DataFrame, reference: str, draws: int) -> pd.DataFrame:
    """The rank (0 to ``draws``) of each true quantity among ``draws`` thinned posterior draws, and of the data's
    log-likelihood at the truth among its log-likelihood at each draw."""
    thinned = thin_draws(posterior, draws)
    ours, true = population_and_contrasts(thinned, reference), population_and_contrasts(truth, reference)
    rows = []
    for name in ours.data_vars:
        below = (ours[name] < true[name].squeeze(("chain", "draw"), drop=True)).sum(("chain", "draw"))
        table = below.to_dataframe(name="rank").reset_index() if below.dims else pd.DataFrame({"rank": [int(below)]})
        rows.append(table.assign(quantity=name))
    log_lik = pointwise_log_likelihood(thinned, data).sum(axis=1)
    at_truth = pointwise_log_likelihood(truth, data).sum()
    rows.append(pd.DataFrame({"quantity": ["log_likelihood"], "rank": [int((log_lik < at_truth).sum())]}))
    table = with_cell_columns(pd.concat(rows, ignore_index=True))
    return table.assign(draws=draws)[["quantity", "drug", "muscle", "emotion", "rank", "draws"]]


class Refitter:
    """The calibrated model compiled once for the design (nutpie), refitted to each simulation's data."""

    def __init__(self, series: Series, cells: Cells, model: str, priors: Priors, variant: str) -> None:
        import nutpie

        self.cells, self.variant = cells, variant
        with reproducible_compilation():
            self.compiled = nutpie.compile_pymc_model(
                marginal_model(series, cells, model, priors, variant, shared=True)
            )

    def fit(self, series: Series, settings: CalibrationSettings, target_accept: float, seed: int) -> tuple[Any, int]:
        """One simulation's posterior (tidy layout, participant effects recovered) and its divergences."""
        import nutpie

        used = {variable.name for variable in self.compiled.shared_var_keys}
        raw = nutpie.sample(
            self.compiled.with_data(**{name: values for name, values in series_data(series).items() if name in used}),
            draws=settings.draws,
            tune=settings.warmup,
            chains=settings.chains,
            cores=1,
            seed=seed,
            target_accept=target_accept,
            progress_bar=False,
        )
        posterior = with_recovered_effects(_posterior(raw), series, self.variant, seed)
        return tidy_posterior(posterior, "pymc", self.cells), int(raw["sample_stats"]["diverging"].sum())


def run_batch(
    settings: CalibrationSettings,
    simulations: Sequence[int],
    design: Design,
    priors: Priors,
    variant: str,
    target_accept: float,
    gate: Diagnostics,
    reference: str,
) -> pd.DataFrame:
    """Draw, simulate, fit and rank each simulation of a batch (its seeds from the calibration seed and its
    number, so a batch's results do not depend on how the simulations are batched)."""
    frame = design.data_frame()
    cells = design.cells(frame)
    refitter = Refitter(Series.of(frame, cells), cells, settings.model, priors, variant)
    tables = []
    for simulation in simulations:
        rng = np.random.default_rng([settings.seed, simulation])
        truth = draw_truth(priors, settings.model, cells, rng)
        data = simulate_data(truth, frame, rng)
        seed = int(rng.integers(2**31))
        posterior, divergences = refitter.fit(Series.of(data, cells), settings, target_accept, seed)
        rhat, ess, passed = gate_verdict(posterior, divergences, gate)
        table = ranks(posterior, truth, data, reference, settings.ranks)
        tables.append(
            table.assign(
                simulation=simulation, max_rhat=rhat, min_ess_bulk=ess, divergences=divergences, converged=passed
            )
        )
    return pd.concat(tables, ignore_index=True)[RANK_COLUMNS]


def uniformity_table(ranks_table: pd.DataFrame, bins: int = 10) -> pd.DataFrame:
    """Per quantity (its elements pooled): how many ranks from how many simulations (and how many of those fits
    missed the gate: counted, not dropped), the chi-square test of their uniformity over ``bins`` equal bins of the
    ranks' range, its p-value, and the largest distance of their ECDF (as PIT values) from the uniform one beside
    the simultaneous 95% band's half-width (Kolmogorov-Smirnov); ``uniform``: p >= 0.01 and inside the band."""
    from scipy import stats

    rows = []
    for quantity, group in ranks_table.groupby("quantity", sort=False):
        draws = int(group["draws"].iloc[0])
        pit = (group["rank"].to_numpy() + 0.5) / (draws + 1)
        counts = np.histogram(pit, bins=bins, range=(0.0, 1.0))[0]
        chi_square, p = stats.chisquare(counts)
        ordered = np.sort(pit)
        n = len(ordered)
        distance = float(np.max(np.abs(np.arange(1, n + 1) / n - ordered)))
        rows.append(
            {
                "quantity": quantity,
                "ranks": n,
                "simulations": group["simulation"].nunique(),
                "failed_gate": int((~group.drop_duplicates("simulation")["converged"].astype(bool)).sum()),
                "chi_square": float(chi_square),
                "df": bins - 1,
                "p": float(p),
                "ecdf_distance": distance,
                "band": KS_95 / math.sqrt(n),
                "uniform": bool(p >= 0.01 and distance <= KS_95 / math.sqrt(n)),
            }
        )
    return pd.DataFrame(rows)
