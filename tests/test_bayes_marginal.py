"""a and b's participant effects integrated out: the closed-form densities against dense multivariate normals, the
sufficient statistics against the trial rows, the recovered effects against their exact conditional."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytensor
import pytensor.tensor as pt
import pytest
from scipy.stats import multivariate_normal

from mimicry.bayes.marginal import (
    Series,
    _window_sum,
    crossover_log_density,
    participant_log_density_lkj,
    recover_crossover_effects,
    recover_effects,
    recover_effects_lkj,
    series_log_density,
)
from mimicry.bayes.model import Cells

DRUGS, MUSCLES, EMOTIONS = ["drug", "placebo"], ["corrugator", "zygomaticus"], ["angry", "happy"]


def _trials(seed: int = 0) -> pd.DataFrame:
    """Trial-level rows of 3 participants x 4 cells: 1-4 trials per window, one window and one whole series
    without any (rejected trials leave such holes)."""
    rng = np.random.default_rng(seed)
    rows = []
    for p, participant in enumerate(["p1", "p2", "p3"]):
        for muscle in MUSCLES:
            for emotion in EMOTIONS:
                if (participant, muscle, emotion) == ("p3", "zygomaticus", "happy"):
                    continue
                for window in range(1, 6):
                    if (participant, window) == ("p2", 4):
                        continue
                    for trial in range(rng.integers(1, 5)):
                        rows.append((participant, DRUGS[p % 2], muscle, emotion, window, trial, rng.normal(0.1, 0.3)))
    data = pd.DataFrame(rows, columns=["participant", "drug", "muscle", "emotion", "window", "trial", "log_emg"])
    return data.assign(time=data["window"] - 1.0)


def _cells(data: pd.DataFrame) -> Cells:
    return Cells.of(data, DRUGS, MUSCLES, EMOTIONS)


PARAMETERS = {
    "asymptote": np.array([[0.2, -0.1, 0.05, 0.3]]),  # by cell, the same for every participant
    "start": np.array([[0.0, 0.02, -0.03, 0.0]]),
    "rate": np.exp(np.array([[-1.0, 0.3, -0.5], [0.2, -2.0, 0.0], [0.5, 0.1, -1.2], [0.0, 0.4, 1.0]]).T),
    "sd_a": np.array([0.15, 0.08, 0.2, 0.1]),
    "sd_b": np.array([0.05, 0.12, 0.07, 0.1]),
    "sigma": 0.25,
}


def _dense_series_density(data: pd.DataFrame, cells: Cells, participant: int, cell: int) -> float:
    rows = data[(cells.participant == participant) & (cells.cell == cell)]
    if rows.empty:
        return 0.0
    decay = np.exp(-PARAMETERS["rate"][participant, cell] * rows["time"].to_numpy())
    u, v = 1.0 - decay, decay
    mean = PARAMETERS["asymptote"][0, cell] * u + PARAMETERS["start"][0, cell] * v
    covariance = (
        PARAMETERS["sigma"] ** 2 * np.eye(len(rows))
        + PARAMETERS["sd_a"][cell] ** 2 * np.outer(u, u)
        + PARAMETERS["sd_b"][cell] ** 2 * np.outer(v, v)
    )
    return multivariate_normal(mean, covariance).logpdf(rows["log_emg"].to_numpy())


def test_series_density_equals_the_dense_multivariate_normal_of_the_trials() -> None:
    """The sufficient statistics (counts, window means, within sum of squares) give the row-wise log-likelihood
    with a and b integrated out exactly, constant included; an empty series contributes 0."""
    data = _trials()
    cells = _cells(data)
    series = Series.of(data, cells)
    assert series.count.sum() == len(data) and series.count[1, :, 3].sum() == 0 and series.trials[2, 3] == 0
    mine = series_log_density(
        np, series, *(PARAMETERS[k] for k in ("asymptote", "start", "rate", "sd_a", "sd_b", "sigma"))
    )
    dense = np.array([[_dense_series_density(data, cells, p, c) for c in range(4)] for p in range(3)])
    np.testing.assert_allclose(mine, dense, rtol=1e-10)


def test_participant_level_series_are_the_window_means() -> None:
    data = (
        _trials()
        .groupby(["participant", "drug", "muscle", "emotion", "window", "time"], as_index=False)["log_emg"]
        .mean()
    )
    series = Series.of(data, _cells(data))
    assert set(np.unique(series.count)) == {0.0, 1.0} and np.all(series.within_ss == 0)


def test_the_pytensor_graph_computes_the_numpy_density() -> None:
    data = _trials(1)
    series = Series.of(data, _cells(data))
    symbols = {k: pt.as_tensor_variable(v) for k, v in PARAMETERS.items() if k != "sigma"}
    sigma = pt.dscalar("sigma")
    graph = pt.sum(
        series_log_density(pt, series, *(symbols[k] for k in ("asymptote", "start", "rate", "sd_a", "sd_b")), sigma)
    )
    value = pytensor.function([sigma], graph)(PARAMETERS["sigma"])
    expected = series_log_density(
        np, series, *(PARAMETERS[k] for k in ("asymptote", "start", "rate", "sd_a", "sd_b", "sigma"))
    )
    assert value == pytest.approx(expected.sum(), rel=1e-12)


def _exact_conditional(data: pd.DataFrame, cells: Cells, participant: int, cell: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of (a effect, b effect) given one series, by dense Gaussian algebra."""
    rows = data[(cells.participant == participant) & (cells.cell == cell)]
    decay = np.exp(-PARAMETERS["rate"][participant, cell] * rows["time"].to_numpy())
    design = np.column_stack([1.0 - decay, decay])
    prior = np.diag([PARAMETERS["sd_a"][cell] ** 2, PARAMETERS["sd_b"][cell] ** 2])
    residual = rows["log_emg"].to_numpy() - design @ [PARAMETERS["asymptote"][0, cell], PARAMETERS["start"][0, cell]]
    covariance = (
        prior @ design.T @ np.linalg.inv(design @ prior @ design.T + PARAMETERS["sigma"] ** 2 * np.eye(len(rows)))
    )
    return covariance @ residual, prior - covariance @ design @ prior


def test_recovered_effects_follow_their_exact_gaussian_conditional() -> None:
    data = _trials(2)
    cells = _cells(data)
    series = Series.of(data, cells)
    draws = 40_000
    values = {
        k: np.broadcast_to(np.asarray(v), (1, *np.shape(v))) if k != "sigma" else np.full(draws, v)
        for k, v in PARAMETERS.items()
    }
    values["sd_a"], values["sd_b"] = values["sd_a"][:, None, :], values["sd_b"][:, None, :]
    effect_a, effect_b = recover_effects(series, values, seed=3)
    assert effect_a.shape == (draws, 3, 4)
    for participant, cell in [(0, 0), (1, 2), (2, 1)]:
        mean, covariance = _exact_conditional(data, cells, participant, cell)
        sample = np.column_stack([effect_a[:, participant, cell], effect_b[:, participant, cell]])
        assert np.all(np.abs(sample.mean(axis=0) - mean) < 4 * np.sqrt(np.diag(covariance) / draws))
        scale = np.sqrt(np.outer(np.diag(covariance), np.diag(covariance)) / draws)  # Monte Carlo SE scale
        assert np.all(np.abs(np.cov(sample.T) - covariance) < 5 * scale)
    # a series without data: its effects come from the prior
    assert effect_a[:, 2, 3].std() == pytest.approx(PARAMETERS["sd_a"][3], rel=0.02)
    again = recover_effects(series, values, seed=3)
    assert np.array_equal(again[0], effect_a)  # same seed, same draws


def _correlated(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    root = rng.normal(size=(n, n)) * 0.1
    return root @ root.T + np.diag(rng.uniform(0.005, 0.02, n))


def _dense_participant(
    data: pd.DataFrame, cells: Cells, p: int, cov_a: np.ndarray, cov_b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One participant's trials, the design of their 8 a and b effects, the effects' prior covariance, and the
    population mean of each trial."""
    rows = data[cells.participant == p]
    cell = cells.cell[cells.participant == p]
    decay = np.exp(-PARAMETERS["rate"][p, cell] * rows["time"].to_numpy())
    design = np.zeros((len(rows), 8))
    design[np.arange(len(rows)), cell] = 1.0 - decay
    design[np.arange(len(rows)), 4 + cell] = decay
    prior = np.block([[cov_a, np.zeros((4, 4))], [np.zeros((4, 4)), cov_b]])
    mean = PARAMETERS["asymptote"][0, cell] * (1 - decay) + PARAMETERS["start"][0, cell] * decay
    return rows["log_emg"].to_numpy(), design, prior, mean


def test_lkj_participant_density_equals_the_dense_multivariate_normal() -> None:
    """Correlated a and b effects across one participant's cells: every trial of the participant jointly."""
    data = _trials(3)
    cells = _cells(data)
    series = Series.of(data, cells)
    cov_a, cov_b = _correlated(4, 1), _correlated(4, 2)
    log_det = np.linalg.slogdet(cov_a)[1] + np.linalg.slogdet(cov_b)[1]
    args = (
        PARAMETERS["asymptote"],
        PARAMETERS["start"],
        PARAMETERS["rate"],
        np.linalg.inv(cov_a),
        np.linalg.inv(cov_b),
    )
    mine = participant_log_density_lkj(np, series, *args, log_det, PARAMETERS["sigma"])
    for p in range(3):
        y, design, prior, mean = _dense_participant(data, cells, p, cov_a, cov_b)
        dense = multivariate_normal(mean, design @ prior @ design.T + PARAMETERS["sigma"] ** 2 * np.eye(len(y)))
        assert mine[p] == pytest.approx(dense.logpdf(y), rel=1e-10)


def test_lkj_recovered_effects_follow_their_exact_conditional() -> None:
    data = _trials(4)
    cells = _cells(data)
    series = Series.of(data, cells)
    cov_a, cov_b = _correlated(4, 5), _correlated(4, 6)
    draws = 20_000
    values = {
        "asymptote": PARAMETERS["asymptote"][None],
        "start": PARAMETERS["start"][None],
        "rate": PARAMETERS["rate"][None],
        "precision_a": np.broadcast_to(np.linalg.inv(cov_a), (draws, 4, 4)),
        "precision_b": np.broadcast_to(np.linalg.inv(cov_b), (draws, 4, 4)),
        "sigma": np.full(draws, PARAMETERS["sigma"]),
    }
    effect_a, effect_b = recover_effects_lkj(series, values, seed=1)
    p = 1
    y, design, prior, population = _dense_participant(data, cells, p, cov_a, cov_b)
    gain = prior @ design.T @ np.linalg.inv(design @ prior @ design.T + PARAMETERS["sigma"] ** 2 * np.eye(len(y)))
    mean, covariance = gain @ (y - population), prior - gain @ design @ prior
    sample = np.concatenate([effect_a[:, p], effect_b[:, p]], axis=1)
    assert np.all(np.abs(sample.mean(axis=0) - mean) < 4 * np.sqrt(np.diag(covariance) / draws))
    scale = np.sqrt(np.outer(np.diag(covariance), np.diag(covariance)) / draws)
    assert np.all(np.abs(np.cov(sample.T) - covariance) < 5 * scale)


def test_the_log_det_and_quadratic_op_has_the_right_values_and_gradient() -> None:
    from pytensor.gradient import verify_grad

    from mimicry.bayes.linalg import InverseAndSolve, log_det_quadratic

    rng = np.random.default_rng(0)
    matrices = np.stack([_correlated(6, k) * 10 + np.eye(6) for k in range(3)])
    vectors = rng.normal(size=(3, 6))
    log_det, quadratic = (
        pytensor.function([], output)() for output in log_det_quadratic.make_node(matrices, vectors).outputs
    )
    np.testing.assert_allclose(log_det, np.linalg.slogdet(matrices)[1], rtol=1e-12)
    np.testing.assert_allclose(quadratic, np.einsum("bi,bij,bj->b", vectors, np.linalg.inv(matrices), vectors))
    # nutpie compiles the model with numba (which runs these Ops in object mode): the same values
    compiled = pytensor.function([], list(log_det_quadratic.make_node(matrices, vectors).outputs), mode="NUMBA")
    np.testing.assert_allclose(compiled()[0], log_det, rtol=1e-12)
    np.testing.assert_allclose(compiled()[1], quadratic, rtol=1e-12)
    inverse, solved = pytensor.function(
        [], list(InverseAndSolve().make_node(matrices, vectors).outputs), mode="NUMBA"
    )()
    np.testing.assert_allclose(inverse, np.linalg.inv(matrices), rtol=1e-10)
    np.testing.assert_allclose(solved, np.linalg.solve(matrices, vectors[..., None])[..., 0], rtol=1e-10)

    def scalar(matrix, vector):  # a weighted sum of both outputs, symmetric in M as the model builds it
        terms = log_det_quadratic.make_node(0.5 * (matrix + matrix.transpose(0, 2, 1)), vector).outputs
        return pt.sum(terms[0] * [1.0, 2.0, 3.0]) + pt.sum(terms[1] * [0.5, -1.0, 2.0])

    verify_grad(scalar, [matrices, vectors], rng=rng, mode="FAST_COMPILE")


def test_the_window_sum_is_numpys_to_the_bit_for_the_designs_window_counts() -> None:
    """The summed normal equations add one window at a time (NumPy's reduction over a short last axis was half of
    leave-one-participant-out's time): the same bits as ``np.sum`` for up to seven windows (the paper's five), and
    equal to rounding for more."""
    rng = np.random.default_rng(3)
    for windows in range(1, 13):
        values = rng.standard_normal((4, 32, windows)) * np.exp(5.0 * rng.standard_normal((4, 32, windows)))
        if windows <= 7:
            assert np.array_equal(_window_sum(np, values), values.sum(axis=-1)), windows
        error = np.abs(_window_sum(np, values) - values.sum(axis=-1))
        assert np.all(error <= 1e-14 * np.abs(values).sum(axis=-1)), windows


# ---------------------------------------------------------------------------------------------------------------
# A crossover: effects shared by a participant's sessions, each session's own deviation of a

SESSION_SD = np.array([0.12, 0.05, 0.1, 0.07])


def _crossover_trials(seed: int = 4) -> pd.DataFrame:
    """Trial rows of 3 participants x 3 sessions (each session its own drug), one session missing and a window
    without trials."""
    rng = np.random.default_rng(seed)
    drugs = ["drug", "placebo", "other"]
    rows = []
    for p, participant in enumerate(["p1", "p2", "p3"]):
        for s, session in enumerate(["1", "2", "3"]):
            if (participant, session) == ("p3", "2"):
                continue
            for muscle, emotion in ((m, e) for m in MUSCLES for e in EMOTIONS):
                for window in range(1, 6):
                    if (participant, session, window) == ("p1", "3", 2):
                        continue
                    for _ in range(rng.integers(1, 4)):
                        drug = drugs[(p + s) % 3]
                        rows.append((participant, session, drug, muscle, emotion, window, rng.normal(0.1, 0.3)))
    columns = ["participant", "session", "drug", "muscle", "emotion", "window", "log_emg"]
    data = pd.DataFrame(rows, columns=columns)
    return data.assign(time=data["window"] - 1.0)


#: a crossover's population values: the asymptote and the rate by drug (the session's), c's effect per participant
CROSSOVER = {
    "asymptote": np.array([[0.2, -0.1, 0.05, 0.3], [0.1, 0.0, -0.05, 0.25], [0.3, -0.2, 0.1, 0.2]]),
    "log_rate": np.array([[-1.0, 0.3, -0.5, 0.0], [-0.5, 0.1, 0.2, -0.3], [0.4, -0.6, 0.0, 0.1]]),
    "effect_c": np.array([[0.1, -0.2, 0.0, 0.3], [-0.1, 0.05, 0.2, 0.0], [0.0, 0.1, -0.3, 0.2]]),
}


def _crossover_arguments(series: Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    asymptote = CROSSOVER["asymptote"][series.drug]  # participants x sessions x cells
    rate = np.exp(CROSSOVER["log_rate"][series.drug] + CROSSOVER["effect_c"][:, None, :])
    return asymptote, PARAMETERS["start"][None], rate


def _dense_crossover(data: pd.DataFrame, cells: Cells, participant: int, cell: int) -> tuple:
    """One participant x cell's trials of all sessions: y, the design of (a effect, b effect, each session's
    deviation), the prior covariance, the population mean."""
    drug_code = {d: i for i, d in enumerate(["drug", "placebo", "other"])}
    mine = (cells.participant == participant) & (cells.cell == cell)
    rows = data[mine]
    drug = rows["drug"].map(drug_code).to_numpy()
    session = cells.session[mine]
    decay = np.exp(-np.exp(CROSSOVER["log_rate"][drug, cell] + CROSSOVER["effect_c"][participant, cell]) * rows["time"])
    rise = 1.0 - decay.to_numpy()
    design = np.column_stack([rise, decay, *[rise * (session == s) for s in range(3)]])
    prior = np.diag([PARAMETERS["sd_a"][cell] ** 2, PARAMETERS["sd_b"][cell] ** 2, *[SESSION_SD[cell] ** 2] * 3])
    mean = CROSSOVER["asymptote"][drug, cell] * rise + PARAMETERS["start"][0, cell] * decay.to_numpy()
    return rows["log_emg"].to_numpy(), design, prior, mean


def test_crossover_density_equals_the_dense_multivariate_normal_of_all_sessions() -> None:
    """A participant's effects shared by their sessions and each session's deviation of a, integrated out: the
    row-wise log-likelihood exactly (a missing session and an empty window included)."""
    data = _crossover_trials()
    cells = Cells.of(data, ["drug", "placebo", "other"], MUSCLES, EMOTIONS)
    series = Series.of(data, cells)
    assert series.crossover and series.count.shape == (3, 3, 4, 5) and series.trials[2, 1].sum() == 0
    asymptote, start, rate = _crossover_arguments(series)
    mine = crossover_log_density(
        np, series, asymptote, start, rate, PARAMETERS["sd_a"], PARAMETERS["sd_b"], SESSION_SD, PARAMETERS["sigma"]
    )
    dense = np.empty((3, 4))
    for participant in range(3):
        for cell in range(4):
            y, design, prior, mean = _dense_crossover(data, cells, participant, cell)
            covariance = PARAMETERS["sigma"] ** 2 * np.eye(len(y)) + design @ prior @ design.T
            dense[participant, cell] = multivariate_normal(mean, covariance).logpdf(y)
    np.testing.assert_allclose(mine, dense, rtol=1e-10)
    # as the sessions' deviations vanish, the density of all sessions sharing the participant's effects alone
    shared = crossover_log_density(
        np, series, asymptote, start, rate, PARAMETERS["sd_a"], PARAMETERS["sd_b"], 1e-6, PARAMETERS["sigma"]
    )
    for participant, cell in [(0, 1), (2, 2)]:
        y, design, prior, mean = _dense_crossover(data, cells, participant, cell)
        covariance = PARAMETERS["sigma"] ** 2 * np.eye(len(y)) + design[:, :2] @ prior[:2, :2] @ design[:, :2].T
        expected = multivariate_normal(mean, covariance).logpdf(y)
        assert shared[participant, cell] == pytest.approx(expected, rel=1e-6)


def test_crossover_recovered_effects_follow_their_exact_conditional() -> None:
    data = _crossover_trials(5)
    cells = Cells.of(data, ["drug", "placebo", "other"], MUSCLES, EMOTIONS)
    series = Series.of(data, cells)
    asymptote, start, rate = _crossover_arguments(series)
    draws = 40_000
    values = {
        "asymptote": asymptote[None],
        "start": start[None],
        "rate": rate[None],
        "sd_a": PARAMETERS["sd_a"][None, None, :],
        "sd_b": PARAMETERS["sd_b"][None, None, :],
        "sd_session": SESSION_SD[None, None, None, :],
        "sigma": np.full(draws, PARAMETERS["sigma"]),
    }
    effect_a, effect_b, deviation = recover_crossover_effects(series, values, seed=3)
    assert effect_a.shape == (draws, 3, 4) and deviation.shape == (draws, 3, 3, 4)
    for participant, cell in [(0, 0), (2, 3)]:
        y, design, prior, mean = _dense_crossover(data, cells, participant, cell)
        gain = prior @ design.T @ np.linalg.inv(design @ prior @ design.T + PARAMETERS["sigma"] ** 2 * np.eye(len(y)))
        exact_mean, exact_covariance = gain @ (y - mean), prior - gain @ design @ prior
        sample = np.column_stack(
            [effect_a[:, participant, cell], effect_b[:, participant, cell], deviation[:, participant, :, cell]]
        )
        se = np.sqrt(np.diag(exact_covariance) / draws)
        assert np.all(np.abs(sample.mean(axis=0) - exact_mean) < 4 * se)
        scale = np.sqrt(np.outer(np.diag(exact_covariance), np.diag(exact_covariance)) / draws)
        assert np.all(np.abs(np.cov(sample.T) - exact_covariance) < 5 * scale)
    # the missing session's deviation comes from its prior
    assert deviation[:, 2, 1, 0].std() == pytest.approx(SESSION_SD[0], rel=0.02)
