"""The fast path's window values against the simulator they stand in for: the tonic process's covariance against
the simulator's own Ornstein-Uhlenbeck draws, the planted curves and the noise against the simulation's
parameters, the artefacts and the outlier rules."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from helpers import EMG, ROOT, SIMULATION, STUDY, simulation_with
from mimicry.curve import curve
from mimicry.power import fastpath
from mimicry.settings import EmgSettings
from mimicry.simulate.recording import MAINS_HARMONICS, slow_process
from mimicry.task import load_stimuli

STIMULI = load_stimuli(ROOT / "resources/stimuli.tsv", STUDY.emotions)
MUSCLES = list(STUDY.muscles)
NO_ARTEFACTS = {"burst": 0.0, "spike": 0.0, "baseline": 0.0}


def _effects(a: float, b: float, c: float, participants: int = 6) -> pd.DataFrame:
    """The same planted curve for every participant, muscle and emotion."""
    return pd.DataFrame(
        [
            (f"{p:03d}", "placebo" if p % 2 else "naltrexone", muscle, emotion, a, b, c)
            for p in range(1, participants + 1)
            for muscle in MUSCLES
            for emotion in STUDY.emotions
        ],
        columns=["participant", "group", "muscle", "emotion", "a", "b", "c"],
    )


def test_the_tonic_covariance_is_that_of_the_simulators_own_process() -> None:
    """Means over the baseline and the five windows of the simulator's OU draws (``slow_process``, the
    function the raw path uses) have the covariance ``ou_mean_covariance`` computes, within Monte Carlo error."""
    rng = np.random.default_rng(5)
    sd, timescale = 0.12, 2.0
    times = np.arange(0.0, 5.5, 0.005)  # 200 Hz from the epoch's start (-0.5 s)
    intervals = fastpath.epoch_intervals(EMG)
    masks = [(times - 0.5 >= low) & (times - 0.5 < high) for low, high in intervals]
    paths = 6000
    draws = np.array(
        [
            [path[mask].mean() for mask in masks]
            for path in (slow_process(rng, times, sd, timescale) for _ in range(paths))
        ]
    )
    expected = fastpath.ou_mean_covariance(intervals, sd, timescale)
    tolerance = 5 * sd**2 / np.sqrt(paths)  # five Monte Carlo standard errors of a covariance
    np.testing.assert_allclose(np.cov(draws.T), expected, rtol=0, atol=tolerance)
    difference = np.eye(6)[1:] - np.eye(6)[:1]  # window mean - baseline mean: what a window value holds
    np.testing.assert_allclose(
        np.cov((draws @ difference.T).T), difference @ expected @ difference.T, rtol=0, atol=tolerance
    )
    assert np.all(np.diff(np.diag(difference @ expected @ difference.T)) > 0)  # the tonic drifts from the baseline


def test_window_values_follow_the_planted_curve_and_the_simulations_noise() -> None:
    """Without trial-to-trial weights or artefacts, a window's mean is the planted curve plus the carrier's bias,
    and its SD is the tonic difference's (from tonic_sd and the timescale) with the carrier's noise; doubling
    tonic_sd doubles the tonic part."""
    a, b, c = 0.2, 0.0, np.log(0.8)
    simulation = simulation_with({"trial_response_sd": 0.0, "artefacts": NO_ARTEFACTS})
    quiet_rules = EmgSettings(**{**EMG.__dict__, "n_sd": 1e9})  # no outliers: the raw moments
    for tonic_sd in (0.12, 0.24):
        table = fastpath.window_values(
            _effects(a, b, c, participants=40),
            STIMULI,
            dataclasses.replace(simulation, tonic_sd=tonic_sd),
            quiet_rules,
            MUSCLES,
            seed=3,
        )
        assert not table["rejected"].any()
        by_window = table.groupby("window")["log_emg"]
        planted = curve(a, b, c, np.arange(5.0)) + fastpath.CARRIER_BIAS
        covariance = fastpath.ou_mean_covariance(fastpath.epoch_intervals(EMG), tonic_sd, 2.0)
        difference = np.eye(6)[1:] - np.eye(6)[:1]
        expected_sd = np.sqrt(np.diag(difference @ covariance @ difference.T) + fastpath.CARRIER_SD**2)
        n = len(table) // 5
        np.testing.assert_allclose(by_window.mean(), planted, atol=4 * expected_sd.max() / np.sqrt(n))
        np.testing.assert_allclose(by_window.std(), expected_sd, rtol=0.05)


def test_the_trial_weights_scale_the_response_around_its_planted_mean() -> None:
    simulation = simulation_with({"tonic_sd": 1e-6, "artefacts": NO_ARTEFACTS})
    quiet_rules = EmgSettings(**{**EMG.__dict__, "n_sd": 1e9})
    table = fastpath.window_values(_effects(0.3, 0.3, 0.0), STIMULI, simulation, quiet_rules, MUSCLES, seed=4)
    last = table[table["window"] == 5]["log_emg"] - fastpath.CARRIER_BIAS
    response_sd = SIMULATION.trial_response_sd
    assert last.mean() == pytest.approx(0.3, abs=0.02)
    assert last.std() == pytest.approx(np.hypot(0.3 * response_sd, fastpath.CARRIER_SD), rel=0.06)


def test_artefacts_are_where_the_simulator_puts_them_and_the_rules_catch_most() -> None:
    """A contraction before the video lowers every window of its trial, a burst raises the windows it falls in;
    the outlier rules reject most such trials (in the raw path 85% and 48%) and few clean ones."""
    rng = np.random.default_rng(8)
    simulation = simulation_with({"artefacts": {"burst": 0.5, "spike": 0.0, "baseline": 0.5}})
    burst, contraction, peak = fastpath.artefacts(rng, 4000, simulation, EMG)
    is_burst, is_contraction = burst.any(axis=1), contraction > 0
    assert not np.any(is_burst & is_contraction) and abs(is_burst.mean() - 0.5) < 0.03
    assert np.all(burst >= 0) and np.all(burst.sum(axis=1)[is_burst] > 0)
    assert np.all(peak[is_burst] >= 2.5) and np.all(peak[~is_burst] == 1.0)

    table = fastpath.window_values(_effects(0.1, 0.0, 0.0, participants=20), STIMULI, SIMULATION, EMG, MUSCLES, seed=2)
    rejected = table.groupby(["participant", "trial"])["rejected"].first()
    assert 0.1 < rejected.mean() < 0.35  # the raw path rejects 21% of the default study's trial x window values
    assert table.groupby(["participant", "trial"])["rejected"].nunique().max() == 1  # scope: the whole trial


def test_the_same_seed_gives_the_same_table_and_the_columns_the_models_use() -> None:
    effects = _effects(0.1, 0.0, -0.5)
    first, again = (fastpath.window_values(effects, STIMULI, SIMULATION, EMG, MUSCLES, seed=[7, 1]) for _ in range(2))
    pd.testing.assert_frame_equal(first, again)
    assert list(first.columns) == fastpath.MODEL_WINDOW_COLUMNS
    trials = SIMULATION.design.repetitions * len(STIMULI)
    assert len(first) == 6 * trials * len(MUSCLES) * EMG.n_windows
    assert set(first["group"]) == {"placebo", "naltrexone"}


def test_the_floor_is_the_noise_and_mains_harmonics_the_filters_leave_over_the_emg_power() -> None:
    parameters = pd.DataFrame(
        {
            "participant": ["001", "002"],
            "amplitude_uv_corrugator": [4.0, 2.0],
            "mains_uv_corrugator": [6.0, 6.0],
            "amplitude_uv_zygomaticus": [2.0, 1.0],
            "mains_uv_zygomaticus": [0.0, 6.0],
        }
    )
    simulation = SIMULATION
    ratios = fastpath.floor_ratios(parameters, simulation, EMG, MUSCLES)
    nyquist = simulation.sampling_frequency / 2
    noise = simulation.emg.amplifier_noise_uv**2 * (EMG.h_freq - EMG.l_freq) / nyquist
    line = simulation.line_frequency
    left = [h for h in MAINS_HARMONICS if h > EMG.notch_harmonics and EMG.l_freq < h * line < EMG.h_freq]
    assert left == [2, 3, 5]  # the default notch removes the fundamental only
    mains = sum(MAINS_HARMONICS[h] ** 2 / 2 for h in left) * 36.0
    assert ratios.loc["001", "corrugator"] == pytest.approx((noise + mains) / 16.0)
    assert ratios.loc["002", "corrugator"] == pytest.approx(4 * ratios.loc["001", "corrugator"])  # half the EMG
    assert ratios.loc["001", "zygomaticus"] == pytest.approx(noise / 4.0)
    every_harmonic = EmgSettings(**{**EMG.__dict__, "notch_harmonics": 8})
    assert fastpath.floor_ratios(parameters, simulation, every_harmonic, MUSCLES).loc["001", "corrugator"] == (
        pytest.approx(noise / 16.0)
    )


def test_the_floor_compresses_a_response_as_the_envelope_over_it_does() -> None:
    """Without tonic drift, weights or artefacts, a window's mean is the log level of the planted gain over the
    floor, log((exp(2 g) + r) / (1 + r)) / 2, plus the carrier's bias: a weak muscle's response is compressed."""
    a, b, c = -0.3, 0.0, 0.5
    simulation = simulation_with({"trial_response_sd": 0.0, "tonic_sd": 1e-9, "artefacts": NO_ARTEFACTS})
    quiet_rules = EmgSettings(**{**EMG.__dict__, "n_sd": 1e9})
    effects = _effects(a, b, c, participants=4)
    floor = pd.DataFrame({m: [0.0, 0.0, 0.5, 0.5] for m in MUSCLES}, index=[f"{p:03d}" for p in range(1, 5)])
    table = fastpath.window_values(effects, STIMULI, simulation, quiet_rules, MUSCLES, seed=1, floor=floor)
    last = table[table["window"] == 5].groupby("participant")["log_emg"].mean() - fastpath.CARRIER_BIAS
    gain = curve(a, b, c, 4.0)
    assert last.loc[["001", "002"]].to_numpy() == pytest.approx([gain, gain], abs=0.005)
    compressed = 0.5 * np.log((np.exp(2 * gain) + 0.5) / 1.5)
    assert last.loc[["003", "004"]].to_numpy() == pytest.approx([compressed, compressed], abs=0.005)
    assert abs(compressed) < 0.75 * abs(gain)
