"""The asymptotic model with the participant effects of a and b integrated out (``parameterization: marginal``).

For fixed c the curve is linear in a and b: ``y_t = a (1 - E_t) + b E_t`` with ``E_t = exp(-exp(c) t)``. The
participant effects on a and b are Gaussian, so a participant x muscle x emotion *series* of windows is
multivariate normal with mean ``A (1 - E) + B E`` (A, B the population values) and covariance
``sigma^2 I + sd_a^2 u u' + sd_b^2 v v'`` (u = 1 - E, v = E): a rank-2 update, whose log density Woodbury's
identity and the matrix determinant lemma give with 2 x 2 algebra (:func:`series_log_density`). Only the
participant effects of c and the population parameters are sampled; the a and b effects are drawn afterwards,
per posterior draw, from their exact Gaussian conditional (:func:`recover_effects`), so the posterior keeps the
joint parameterisation's layout. In the brms variant the a (and b) effects of one participant are correlated
across cells (LKJ); they are integrated jointly per participant, a (2 cells) x (2 cells) system.

The residual is iid per trial and the effects are per participant, so a series' trials enter the likelihood only
through per-window trial counts and means and the within-window sum of squares (:class:`Series`): trial-level
data cost what participant-level data cost, and the log density equals the row-wise one exactly.

These are PyMC models, not Bambi ones: the likelihood is over a whole series (a wide response with its trial
counts), and Bambi's auxiliary parameters are scalars (a formula for one puts a normal prior on its link scale),
so per-cell SDs of a and b with the paper's half-normal priors cannot be written in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from mimicry.bayes.model import Cells, lkj_cholesky, population_parameters
from mimicry.errors import InputError
from mimicry.settings import Priors


@dataclass
class Series:
    """Sufficient statistics of every participant x cell series (cells: muscle x emotion, muscle-major), on the
    full participant x cell x window grid; a window (or a whole series) without trials has count 0. In a
    crossover a series is a participant x session x cell one, on the participant x session x cell x window grid
    (a session a participant did not have: count 0)."""

    participants: list[str]
    drug: np.ndarray = field(repr=False)  #: drug code per participant (a crossover's: per participant x session)
    times: np.ndarray = field(repr=False)  #: time (window - 1) of each window
    count: np.ndarray = field(repr=False)  #: participants [x sessions] x cells x windows: trials
    mean: np.ndarray = field(repr=False)  #: ... their mean log EMG (0 where there are none)
    within_ss: np.ndarray = field(repr=False)  #: participants [x sessions] x cells: sum of squares about the means
    sessions: list[str] = field(default_factory=list)  #: a crossover's session labels

    @classmethod
    def of(cls, data: pd.DataFrame, cells: Cells) -> Series:
        """From model data of either level (participant means are series with one trial per window)."""
        times = np.sort(data["time"].unique())
        window = np.searchsorted(times, data["time"].to_numpy())
        sessions = (len(cells.sessions),) if cells.crossover else ()
        shape = (len(cells.participants), *sessions, len(cells.names), len(times))
        recording = (cells.participant, cells.session) if cells.crossover else (cells.participant,)
        index = (*recording, cells.cell, window)
        y = data["log_emg"].to_numpy(dtype=float)
        count, total = np.zeros(shape), np.zeros(shape)
        np.add.at(count, index, 1.0)
        np.add.at(total, index, y)
        mean = np.divide(total, count, out=np.zeros(shape), where=count > 0)
        within = np.zeros(shape[:-1])
        np.add.at(within, index[:-1], (y - mean[index]) ** 2)
        drug = np.full(shape[:-2], -1)
        drug[recording] = cells.drug
        if cells.crossover:  # a session a participant did not have: any drug (its count is 0)
            drug[drug < 0] = 0
        return cls(cells.participants, drug, times, count, mean, within, list(cells.sessions))

    @property
    def crossover(self) -> bool:
        """Series per participant x session (the drug within participants)."""
        return self.count.ndim == 4

    @property
    def trials(self) -> np.ndarray:
        """Observations per participant x cell."""
        return self.count.sum(axis=-1)


def _window_sum(xp: Any, values: Any) -> Any:
    """Sum over the last axis (the windows). In NumPy as one vectorised addition per window: a reduction over a
    short last axis costs per output element (5 windows: 6 s of a 12-s leave-one-participant-out), and for fewer
    than eight windows NumPy's own sum adds them in this order, so the bits are the same."""
    if xp is not np:
        return xp.sum(values, axis=-1)
    total = values[..., 0].copy()
    for window in range(1, values.shape[-1]):
        total += values[..., window]
    return total


def _normal_equations(xp: Any, series: Series, asymptote: Any, start: Any, rate: Any, sigma2: Any) -> tuple[Any, ...]:
    """The data's part of the precision (h11, h12, h22) and the score (g1, g2) of a series' a and b effects'
    Gaussian conditional, and the scaled residual sum of squares about the population curve (rr). Arrays
    broadcast against participants x cells (leading axes: draws, nodes); ``xp`` is numpy or pytensor.tensor."""
    decay = xp.exp(-rate[..., None] * series.times)
    rise = 1.0 - decay
    residual = series.mean - asymptote[..., None] * rise - start[..., None] * decay
    weight = series.count / sigma2[..., None]
    weighted_rise, weighted_decay = weight * rise, weight * decay  # each used twice below: half the products
    h11 = _window_sum(xp, weighted_rise * rise)
    h12 = _window_sum(xp, weighted_rise * decay)
    h22 = _window_sum(xp, weighted_decay * decay)
    g1 = _window_sum(xp, weighted_rise * residual)
    g2 = _window_sum(xp, weighted_decay * residual)
    rr = (_window_sum(xp, series.count * residual**2) + series.within_ss) / sigma2
    return h11, h12, h22, g1, g2, rr


def series_log_density(
    xp: Any, series: Series, asymptote: Any, start: Any, rate: Any, sd_a: Any, sd_b: Any, sigma: Any
) -> Any:
    """Log density of each series' trials with its a and b participant effects integrated out.

    ``asymptote``, ``start`` (population a and b), ``rate`` (exp(c), the participant's), ``sd_a``, ``sd_b`` and
    ``sigma`` broadcast against participants x cells. A series without trials has log density 0.
    """
    sigma2 = xp.square(sigma)
    h11, m12, h22, g1, g2, rr = _normal_equations(xp, series, asymptote, start, rate, sigma2)
    m11, m22 = 1.0 / sd_a**2 + h11, 1.0 / sd_b**2 + h22
    det = m11 * m22 - m12**2
    quad = rr - (m22 * g1**2 - 2.0 * m12 * g1 * g2 + m11 * g2**2) / det
    n = series.trials
    log_det = n * xp.log(2.0 * np.pi * sigma2) + xp.log(sd_a**2 * sd_b**2 * det)
    return -0.5 * (log_det + quad)


# ---------------------------------------------------------------------------------------------------------------
# A crossover: a participant's a and b effects shared by their sessions, each session's own deviation of a


def _session_integrated(xp: Any, series: Series, asymptote: Any, start: Any, rate: Any, sd_session: Any, sigma2: Any):
    """A crossover's normal equations with each session's own deviation of a integrated out (its prior SD
    ``sd_session``), summed over the participant's sessions: the precision (h11, h12, h22) and score (g1, g2) of
    the participant's shared a and b effects, the scaled residual sum of squares less what the sessions'
    deviations explain (rr), and the log determinant the deviations add (each session's 1 + sd^2 h11).

    Per session s, with data precision H_s and score g_s of (a, b, deviation) (the deviation enters as a does):
    integrating the deviation (prior precision 1/sd^2, posterior m_s = 1/sd^2 + h11_s) leaves the Schur
    complement H_s - h_s h_s' / m_s with h_s = (h11_s, h12_s), the score g_s - h_s g1_s / m_s, and removes
    g1_s^2 / m_s from the residual sum of squares. Arrays broadcast against participants x sessions x cells."""
    h11, h12, h22, g1, g2, rr = _normal_equations(xp, series, asymptote, start, rate, sigma2)
    m = 1.0 / sd_session**2 + h11

    def over_sessions(values: Any) -> Any:
        return xp.sum(values, axis=-2)

    return (
        over_sessions(h11 - h11 * h11 / m),
        over_sessions(h12 - h11 * h12 / m),
        over_sessions(h22 - h12 * h12 / m),
        over_sessions(g1 - h11 * g1 / m),
        over_sessions(g2 - h12 * g1 / m),
        over_sessions(rr - g1 * g1 / m),
        over_sessions(xp.log(sd_session**2 * m)),
        m,
    )


def crossover_log_density(
    xp: Any,
    series: Series,
    asymptote: Any,
    start: Any,
    rate: Any,
    sd_a: Any,
    sd_b: Any,
    sd_session: Any,
    sigma: Any,
) -> Any:
    """Log density of each participant x cell's trials, all their sessions, with the participant's a and b
    effects and each session's deviation of a integrated out (participants x cells).

    ``asymptote``, ``start`` and ``rate`` broadcast against participants x sessions x cells (the session's drug,
    the participant's c effect); ``sd_a``, ``sd_b``, ``sd_session`` and ``sigma`` against cells. The sessions'
    deviations are integrated first (:func:`_session_integrated`), then the shared effects as in
    :func:`series_log_density`; a session without trials adds nothing."""
    sigma2 = xp.square(sigma)
    h11, m12, h22, g1, g2, rr, log_det_sessions, _ = _session_integrated(
        xp, series, asymptote, start, rate, sd_session, sigma2
    )
    m11, m22 = 1.0 / sd_a**2 + h11, 1.0 / sd_b**2 + h22
    det = m11 * m22 - m12**2
    quad = rr - (m22 * g1**2 - 2.0 * m12 * g1 * g2 + m11 * g2**2) / det
    residual_log_det = xp.sum(series.trials * xp.log(2.0 * np.pi * sigma2), axis=-2)
    log_det = residual_log_det + xp.log(sd_a**2 * sd_b**2 * det) + log_det_sessions
    return -0.5 * (log_det + quad)


def recover_crossover_effects(
    series: Series, values: dict[str, np.ndarray], seed: int, chunk: int = 250
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draws of a crossover's effects from their Gaussian conditional, one per posterior draw: the participant's
    shared a and b effects (draws x participants x cells), then each session's deviation of a given them (draws x
    participants x sessions x cells). ``values`` as for :func:`recover_effects`, with ``sd_session``; the arrays
    broadcast against draws x participants x sessions x cells, ``sigma`` has draws."""
    rng = np.random.default_rng([seed, 1])
    n_draws = values["sigma"].shape[0]
    n_participants, n_sessions, n_cells = series.trials.shape
    effect_a = np.empty((n_draws, n_participants, n_cells))
    effect_b = np.empty_like(effect_a)
    deviation = np.empty((n_draws, n_participants, n_sessions, n_cells))
    for lo in range(0, n_draws, chunk):
        s = slice(lo, lo + chunk)
        asymptote, start, rate = (_chunk(values[name], s) for name in ("asymptote", "start", "rate"))
        sd_session = _chunk(values["sd_session"], s)
        sigma2 = values["sigma"][s, None, None, None] ** 2
        h11, m12, h22, g1, g2, _, _, m = _session_integrated(np, series, asymptote, start, rate, sd_session, sigma2)
        sd_a, sd_b = (_chunk(values[name], s) for name in ("sd_a", "sd_b"))
        m11, m22 = 1.0 / sd_a**2 + h11, 1.0 / sd_b**2 + h22
        det = m11 * m22 - m12**2
        l11 = np.sqrt(m22 / det)  # Cholesky factor of the conditional covariance M^-1
        l21 = -m12 / det / l11
        l22 = np.sqrt(m11 / det - l21**2)
        z = rng.standard_normal((2, *m11.shape))
        a = (m22 * g1 - m12 * g2) / det + l11 * z[0]
        b = (m11 * g2 - m12 * g1) / det + l21 * z[0] + l22 * z[1]
        # each session's deviation given the shared effects: N((g1_s - h11_s a - h12_s b) / m_s, 1 / m_s)
        s_h11, s_h12, _, s_g1, _, _ = _normal_equations(np, series, asymptote, start, rate, sigma2)
        mean = (s_g1 - s_h11 * a[:, :, None, :] - s_h12 * b[:, :, None, :]) / m
        deviation[s] = mean + rng.standard_normal(m.shape) / np.sqrt(m)
        effect_a[s], effect_b[s] = a, b
    return effect_a, effect_b, deviation


def _chunk(values: np.ndarray, draws: slice) -> np.ndarray:
    """Some draws of an array whose first axis is the draws, or is 1 (the same for every draw)."""
    return values if values.shape[0] == 1 else values[draws]


def recover_effects(
    series: Series, values: dict[str, np.ndarray], seed: int, chunk: int = 500
) -> tuple[np.ndarray, np.ndarray]:
    """Draws x participants x cells of the a and b participant effects, one from their Gaussian conditional per
    posterior draw. ``values``: draws x participants x cells arrays ``asymptote``, ``start``, ``rate`` (exp(c)),
    ``sd_a``, ``sd_b`` (broadcastable) and draws ``sigma``."""
    rng = np.random.default_rng([seed, 1])
    n_draws = values["sigma"].shape[0]
    effect_a = np.empty((n_draws, *series.trials.shape))
    effect_b = np.empty_like(effect_a)
    for lo in range(0, n_draws, chunk):
        s = slice(lo, lo + chunk)
        asymptote, start, rate = (_chunk(values[name], s) for name in ("asymptote", "start", "rate"))
        h11, m12, h22, g1, g2, _ = _normal_equations(
            np, series, asymptote, start, rate, values["sigma"][s, None, None] ** 2
        )
        m11, m22 = 1.0 / _chunk(values["sd_a"], s) ** 2 + h11, 1.0 / _chunk(values["sd_b"], s) ** 2 + h22
        det = m11 * m22 - m12**2
        l11 = np.sqrt(m22 / det)  # Cholesky factor of the conditional covariance M^-1
        l21 = -m12 / det / l11
        l22 = np.sqrt(m11 / det - l21**2)
        z = rng.standard_normal((2, *m11.shape))
        effect_a[s] = (m22 * g1 - m12 * g2) / det + l11 * z[0]
        effect_b[s] = (m11 * g2 - m12 * g1) / det + l21 * z[0] + l22 * z[1]
    return effect_a, effect_b


# ---------------------------------------------------------------------------------------------------------------
# Correlated (LKJ) participant effects: a and b integrated jointly per participant


def _participant_system(
    xp: Any, series: Series, asymptote: Any, start: Any, rate: Any, precision_a: Any, precision_b: Any, sigma2: Any
) -> tuple[Any, Any, Any]:
    """Per participant: the precision of all their a and b effects given the data (a's cells, then b's), its
    score, and the summed scaled residual sum of squares about the population curves."""
    h11, h12, h22, g1, g2, rr = _normal_equations(xp, series, asymptote, start, rate, sigma2)
    eye = np.eye(series.count.shape[1])

    def diagonal(values: Any) -> Any:
        return values[..., :, None] * eye

    matrix = xp.concatenate(
        [
            xp.concatenate([diagonal(h11) + precision_a, diagonal(h12)], axis=-1),
            xp.concatenate([diagonal(h12), diagonal(h22) + precision_b], axis=-1),
        ],
        axis=-2,
    )
    return matrix, xp.concatenate([g1, g2], axis=-1), xp.sum(rr, axis=-1)


def log_det_and_quadratic(xp: Any, matrix: Any, vector: Any) -> tuple[Any, Any]:
    """log det M and g' M^-1 g per batch element (numpy, or a PyTensor graph)."""
    if xp is np:
        from mimicry.bayes.linalg import log_det_and_quadratic as numeric

        return numeric(matrix, vector)
    from mimicry.bayes.linalg import log_det_quadratic

    log_det, quadratic = log_det_quadratic.make_node(matrix, vector).outputs
    return log_det, quadratic


def participant_log_density_lkj(
    xp: Any,
    series: Series,
    asymptote: Any,
    start: Any,
    rate: Any,
    precision_a: Any,
    precision_b: Any,
    log_det_covariance: Any,
    sigma: Any,
) -> Any:
    """Log density of each participant's trials with their correlated a and b effects integrated out.

    ``precision_a``, ``precision_b``: inverses of the participant-effect covariances of a and b (cells x cells);
    ``log_det_covariance``: the log determinant of both covariances together.
    """
    sigma2 = xp.square(sigma)
    matrix, score, rr = _participant_system(xp, series, asymptote, start, rate, precision_a, precision_b, sigma2)
    log_det, quadratic = log_det_and_quadratic(xp, matrix, score)
    n = series.trials.sum(axis=-1)
    return -0.5 * (n * xp.log(2.0 * np.pi * sigma2) + log_det_covariance + log_det + rr - quadratic)


def recover_effects_lkj(
    series: Series, values: dict[str, np.ndarray], seed: int, chunk: int = 250
) -> tuple[np.ndarray, np.ndarray]:
    """As :func:`recover_effects` for correlated effects: ``values`` has draws x cells x cells ``precision_a`` and
    ``precision_b`` instead of the SDs; each participant's a and b effects are drawn jointly."""
    rng = np.random.default_rng([seed, 1])
    n_draws = values["sigma"].shape[0]
    n_cells = series.count.shape[1]
    effects = np.empty((n_draws, series.count.shape[0], 2 * n_cells))
    for lo in range(0, n_draws, chunk):
        s = slice(lo, lo + chunk)
        asymptote, start, rate = (_chunk(values[name], s) for name in ("asymptote", "start", "rate"))
        matrix, score, _ = _participant_system(
            np,
            series,
            asymptote,
            start,
            rate,
            values["precision_a"][s, None],
            values["precision_b"][s, None],
            values["sigma"][s, None, None] ** 2,
        )
        factor = np.linalg.cholesky(matrix)  # M = L L'; the effects are N(M^-1 g, M^-1)
        mean = np.linalg.solve(matrix, score[..., None])[..., 0]
        z = rng.standard_normal((*score.shape, 1))
        noise = np.linalg.solve(np.swapaxes(factor, -1, -2), z)[..., 0]
        effects[s] = mean + noise
    return effects[..., :n_cells], effects[..., n_cells:]


# ---------------------------------------------------------------------------------------------------------------
# The PyMC models and the effects' recovery


def _at_participants(parameters: dict[str, Any], series: Series, draws: bool) -> dict[str, Any]:
    """Population a, b and c per participant [x session] x cell (by the participant's drug, a crossover's by the
    session's, where the model has the drug); ``draws``: the values have a leading axis of posterior draws. b's
    population value is 0 unless sampled."""
    lead = (slice(None),) if draws else ()
    recording = (None,) * series.drug.ndim  # participant [x session]
    values = {
        name: value[(*lead, series.drug)] if value.ndim == len(lead) + 2 else value[(*lead, *recording)]
        for name, value in parameters.items()
    }
    # broadcasts against participants [x sessions] x cells
    values.setdefault("start", np.zeros((1,) * (len(lead) + len(recording) + 1)))
    return values


def marginal_model(series: Series, cells: Cells, model: str, priors: Priors, variant: str, shared: bool = False) -> Any:
    """The nested model with a and b's participant effects integrated out: independent effects (``bambi``, the
    structure of the Bambi model) or LKJ-correlated ones (``brms``). c's participant effects stay, non-centred
    (z times the SD or the Cholesky factor), as in brms's Stan code.

    ``shared``: the series' drug codes, counts, means and sums of squares are ``pm.Data`` (``SERIES_DATA``
    names them), so that a compiled model takes another study of the same shape without compiling again
    (nutpie's ``with_data``: the power analysis refits one model to many simulated studies)."""
    import pymc as pm
    import pytensor.tensor as pt

    n_cells = len(cells.names)
    coords = {"drug": cells.drugs, "cell": cells.names, "participant": cells.participants}
    if series.crossover and variant != "bambi":
        raise InputError(
            "statistics.bayes.variant: brms (correlated participant effects) is not built for a crossover; use bambi"
        )
    with pm.Model(coords=coords) as pymc_model:
        if shared:
            series = Series(
                participants=series.participants,
                times=series.times,
                sessions=series.sessions,
                **{field: pm.Data(name, getattr(series, field)) for field, name in SERIES_DATA.items()},
            )
        population = _at_participants(population_parameters(model, priors), series, draws=False)
        z_c = pm.Normal("z_c", 0.0, 1.0, dims=("participant", "cell"))
        if variant == "bambi":
            sd = {p: pm.HalfNormal(f"sd_{p}", priors.random_sd, dims="cell") for p in "abc"}
            effect_c = pm.Deterministic("effect_c", z_c * sd["c"], dims=("participant", "cell"))
        else:
            chol = {p: lkj_cholesky(p, n_cells, priors) for p in "abc"}
            effect_c = pm.Deterministic("effect_c", pt.dot(z_c, chol["c"].T), dims=("participant", "cell"))
        sigma = pm.HalfNormal("sigma", priors.residual_sd)
        if series.crossover:  # c's participant effect is shared by the sessions; a has each session's deviation
            rate = pt.exp(population["rate"] + effect_c[:, None, :])
            sd_session = pm.HalfNormal("sd_a_session", priors.random_sd, dims="cell")
            log_density = crossover_log_density(
                pt, series, population["asymptote"], population["start"], rate, sd["a"], sd["b"], sd_session, sigma
            )
        elif variant == "bambi":
            rate = pt.exp(population["rate"] + effect_c)
            log_density = series_log_density(
                pt, series, population["asymptote"], population["start"], rate, sd["a"], sd["b"], sigma
            )
        else:
            rate = pt.exp(population["rate"] + effect_c)
            eye = pt.as_tensor_variable(np.eye(n_cells))
            inverse = {p: pt.linalg.solve_triangular(chol[p], eye, lower=True) for p in "ab"}
            log_det = sum(2.0 * pt.sum(pt.log(pt.diagonal(chol[p]))) for p in "ab")
            log_density = participant_log_density_lkj(
                pt,
                series,
                population["asymptote"],
                population["start"],
                rate,
                inverse["a"].T @ inverse["a"],
                inverse["b"].T @ inverse["b"],
                log_det,
                sigma,
            )
        pm.Potential("log_emg", pt.sum(log_density))
    return pymc_model


#: The series' arrays as a shared marginal model names its data (``marginal_model(..., shared=True)``).
SERIES_DATA = {"drug": "series_drug", "count": "series_count", "mean": "series_mean", "within_ss": "series_within_ss"}


def series_data(series: Series) -> dict[str, np.ndarray]:
    """A study's series as the data of a shared marginal model (for nutpie's ``with_data``)."""
    return {name: getattr(series, field) for field, name in SERIES_DATA.items()}


def _draws(posterior: xr.Dataset, name: str) -> np.ndarray:
    """Draws (chains stacked) x the variable's own dims."""
    return posterior[name].stack(sample=("chain", "draw")).transpose("sample", ...).values


def with_recovered_effects(posterior: xr.Dataset, series: Series, variant: str, seed: int) -> xr.Dataset:
    """The sampled posterior of a marginal model with draws of a and b's participant effects added (``effect_a``,
    ``effect_b``: participant x cell, like the joint model's)."""
    names = [name for name in ("asymptote", "rate", "start") if f"{name}_fixed" in posterior]
    values = _at_participants({name: _draws(posterior, f"{name}_fixed") for name in names}, series, draws=True)
    values["sigma"] = _draws(posterior, "sigma")
    coords = {"participant": posterior["participant"].values, "cell": posterior["cell"].values}
    dims = ("chain", "draw", "participant", "cell")
    if series.crossover:
        values["rate"] = np.exp(values["rate"] + _draws(posterior, "effect_c")[:, :, None, :])
        values.update({f"sd_{p}": _draws(posterior, f"sd_{p}")[:, None, :] for p in "ab"})
        values["sd_session"] = _draws(posterior, "sd_a_session")[:, None, None, :]
        effect_a, effect_b, deviation = recover_crossover_effects(series, values, seed)
        chains_draws = (posterior.sizes["chain"], posterior.sizes["draw"])
        sessions = {"session": series.sessions}
        return posterior.assign(
            effect_a=xr.DataArray(effect_a.reshape(*chains_draws, *effect_a.shape[1:]), dims=dims, coords=coords),
            effect_b=xr.DataArray(effect_b.reshape(*chains_draws, *effect_b.shape[1:]), dims=dims, coords=coords),
            effect_a_session=xr.DataArray(
                deviation.reshape(*chains_draws, *deviation.shape[1:]),
                dims=("chain", "draw", "participant", "session", "cell"),
                coords=coords | sessions,
            ),
        )
    values["rate"] = np.exp(values["rate"] + _draws(posterior, "effect_c"))
    if variant == "bambi":
        values.update({f"sd_{p}": _draws(posterior, f"sd_{p}")[:, None, :] for p in "ab"})
        effect_a, effect_b = recover_effects(series, values, seed)
    else:
        for p in "ab":
            sd = _draws(posterior, f"chol_{p}_stds")
            covariance = _draws(posterior, f"chol_{p}_corr") * sd[:, :, None] * sd[:, None, :]
            values[f"precision_{p}"] = np.linalg.inv(covariance)
        effect_a, effect_b = recover_effects_lkj(series, values, seed)
    shape = (posterior.sizes["chain"], posterior.sizes["draw"], *effect_a.shape[1:])
    return posterior.assign(
        effect_a=xr.DataArray(effect_a.reshape(shape), dims=dims, coords=coords),
        effect_b=xr.DataArray(effect_b.reshape(shape), dims=dims, coords=coords),
    )
