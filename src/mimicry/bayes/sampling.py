"""Sampling a nested model and keeping its posterior: the chosen implementation and parameterisation, sampled
with nutpie (or PyMC's NUTS); the posterior in one layout for all of them; netCDF files."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mimicry.bayes.marginal import Series, marginal_model, with_recovered_effects
from mimicry.bayes.model import Cells, bambi_model, brms_model
from mimicry.errors import InputError
from mimicry.settings import Priors, Sampling


@contextlib.contextmanager
def reproducible_compilation() -> Iterator[None]:
    """Compile with PyTensor's numba backend without fast-math (restored afterwards).

    With fast-math, LLVM may reassociate floating-point sums, and it did so differently for a model compiled afresh
    and the same model loaded from PyTensor's on-disk cache: the same seed gave three different posteriors (cache
    cold, warm, off), so a result depended on what the machine had compiled before (a local run and the same run on
    SLURM differed). Without it the three agree, whatever the hash seed. The price, measured on 129 participants'
    window means: sampling the integrated model 1.5x slower (7 s instead of 4.6 s for 2 x 2000 iterations).
    """
    import pytensor

    with pytensor.config.change_flags(numba__fastmath=False):
        yield


@dataclass
class Fit:
    """A sampled model: the sampler's own output and the posterior in the shared layout (see ``tidy_posterior``)."""

    model: str
    variant: str
    raw: Any  #: the sampler's DataTree (posterior, sample_stats, ...)
    posterior: xr.Dataset
    seconds: float  #: wall time of building, compiling and sampling (and recovering a and b's effects)

    @property
    def sampling_seconds(self) -> float:
        """Wall time of the sampler alone (PyMC stamps it on the posterior)."""
        return float(_posterior(self.raw).attrs.get("sampling_time", self.seconds))


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
    if sampling.variant not in ("bambi", "brms"):
        raise InputError(f"statistics.bayes.variant must be bambi or brms, not {sampling.variant!r}")
    if cells.crossover and sampling.parameterization != "marginal":
        raise InputError("statistics.bayes.parameterization: a crossover's model is built integrated (marginal) only")
    with reproducible_compilation():
        if sampling.parameterization == "marginal":
            series = Series.of(data, cells)
            with marginal_model(series, cells, model, priors, sampling.variant):
                raw = pm.sample(nuts_sampler=sampling.sampler, **options)
            sampled = with_recovered_effects(_posterior(raw), series, sampling.variant, sampling.seed)
            layout = "pymc"
        elif sampling.variant == "bambi":
            raw = bambi_model(data, cells, model, priors).fit(inference_method=sampling.sampler, **options)
            sampled, layout = _posterior(raw), "bambi"
        else:
            with brms_model(data, cells, model, priors):
                raw = pm.sample(nuts_sampler=sampling.sampler, **options)
            sampled, layout = _posterior(raw), "pymc"
    seconds = time.perf_counter() - start
    return Fit(model, sampling.variant, raw, tidy_posterior(sampled, layout, cells), seconds)


def _posterior(raw: Any) -> xr.Dataset:
    return raw["posterior"].to_dataset() if hasattr(raw["posterior"], "to_dataset") else raw["posterior"]


def _split_cells(array: xr.DataArray, dim: str, names: Sequence[str], separator: str) -> xr.DataArray:
    """Unstack a dimension whose labels join several factors ("placebo, zygomaticus, AngryToHappy")."""
    labels = [tuple(str(label).split(separator)) for label in array[dim].values]
    index = pd.MultiIndex.from_tuples(labels, names=list(names))
    array = array.assign_coords(xr.Coordinates.from_pandas_multiindex(index, dim)).unstack(dim)
    return array.transpose("chain", "draw", ...)


def tidy_posterior(posterior: xr.Dataset, layout: str, cells: Cells) -> xr.Dataset:
    """The posterior in one layout for every implementation (``layout``: the names ``bambi`` or the PyMC models
    give their variables).

    ``asymptote`` and ``rate`` (fixed effects of a and c; dims [drug,] muscle, emotion), ``start`` (b's intercept,
    if the model has one), ``effect_a|b|c`` (participant effects; dims participant, muscle, emotion), ``sd_a|b|c``
    (their SDs) and ``sigma``; in a crossover also ``effect_a_session`` (each session's deviation of a; dims
    participant, session, muscle, emotion) and its SD ``sd_a_session``.
    """
    factors3, factors2 = ("drug", "muscle", "emotion"), ("muscle", "emotion")
    tidy: dict[str, xr.DataArray] = {}
    if layout == "bambi":
        if "b_muscle:emotion" in posterior:
            tidy["start"] = _split_cells(posterior["b_muscle:emotion"], "b_muscle:emotion_dim", factors2, ", ")
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
        for name in ("asymptote", "rate", "start"):
            if f"{name}_fixed" in posterior:
                tidy[name] = _split_cells(posterior[f"{name}_fixed"], "cell", factors2, ":")
        if "sd_a_session" in posterior:  # a crossover's: each session's deviation of a
            tidy["effect_a_session"] = _split_cells(posterior["effect_a_session"], "cell", factors2, ":")
            tidy["sd_a_session"] = _split_cells(posterior["sd_a_session"], "cell", factors2, ":")
        for parameter in ("a", "b", "c"):
            tidy[f"effect_{parameter}"] = _split_cells(posterior[f"effect_{parameter}"], "cell", factors2, ":")
            if f"sd_{parameter}" in posterior:
                tidy[f"sd_{parameter}"] = _split_cells(posterior[f"sd_{parameter}"], "cell", factors2, ":")
                continue
            stds = posterior[f"chol_{parameter}_stds"]
            stds = stds.rename({stds.dims[-1]: "cell"}).assign_coords(cell=cells.names)
            tidy[f"sd_{parameter}"] = _split_cells(stds, "cell", factors2, ":")
    tidy["sigma"] = posterior["sigma"]
    dataset = xr.Dataset(tidy)
    order = {"drug": cells.drugs, "muscle": cells.muscles, "emotion": cells.emotions}
    return dataset.reindex({dim: levels for dim, levels in order.items() if dim in dataset.dims})


def thin(posterior: xr.Dataset, max_draws: int) -> xr.Dataset:
    """Every k-th draw of each chain, so that at most ``max_draws`` draws remain in all."""
    step = int(np.ceil(posterior.sizes["chain"] * posterior.sizes["draw"] / max_draws))
    return posterior.isel(draw=slice(None, None, step))


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
