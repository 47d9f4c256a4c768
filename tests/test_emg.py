"""The EMG chain's pieces: filters against an independent scipy design, the paper's rules, bad recordings,
and the envelope of real EMG recordings."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import mne
import numpy as np
import pandas as pd
import pytest
from scipy import signal

from helpers import DEFAULT, ROOT
from mimicry import emg, outliers
from mimicry.emg import BadRecording
from mimicry.settings import EmgSettings

SFREQ = 1200.0
SETTINGS = EmgSettings.from_config(DEFAULT["preprocessing"]["emg"])
REAL_EMG = ROOT / ".venv" / "test-data" / "biosignalsnotebooks" / "emg_bursts.h5"


def _raw(data: np.ndarray, sfreq: float = SFREQ) -> mne.io.RawArray:
    names = [f"EMG{i}" for i in range(len(data))]
    # RawArray keeps a view of ``data``: copy, so filtering in place leaves the caller's array alone
    return mne.io.RawArray(data.copy(), mne.create_info(names, sfreq, ch_types="emg"), verbose="error")


def _zero_phase_fir(x: np.ndarray, taps: np.ndarray) -> np.ndarray:
    return signal.fftconvolve(x, taps, mode="same")


def test_bandpass_and_smoothing_match_an_independent_scipy_design() -> None:
    """MNE's band-pass (793 taps, -6 dB at 17.5/402.5 Hz, as EEGLAB's pop_eegfiltnew) and 40 Hz low-pass
    (397 taps, -6 dB at 45 Hz) equal scipy's own Hamming-windowed designs applied once, zero-phase, within
    1e-3 of the signal's SD away from the edges (MNE builds the band-pass as the difference of two normalised
    low-passes, scipy as one band-pass: the taps differ by < 1e-4)."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(int(60 * SFREQ)) * 5e-6
    raw = _raw(x[None, :])
    raw.filter(20, 400, picks="emg", l_trans_bandwidth=5, h_trans_bandwidth=5, fir_design="firwin", verbose="error")
    band = signal.firwin(793, [17.5, 402.5], fs=SFREQ, pass_zero=False, window="hamming", scale=False)
    expected = _zero_phase_fir(x, band)
    middle = slice(2000, -2000)
    assert np.max(np.abs(raw.get_data()[0][middle] - expected[middle])) < 1e-3 * x.std()
    response = np.abs(signal.freqz(band, worN=[10.0, 17.5, 20.0, 400.0, 402.5, 410.0], fs=SFREQ)[1])
    np.testing.assert_allclose(20 * np.log10(response[[1, 4]]), -6.0, atol=0.1)  # the -6 dB points
    assert (response[[2, 3]] > 0.99).all() and (response[[0, 5]] < 0.01).all()

    rectified = np.abs(expected)
    smooth = _raw(rectified[None, :])
    smooth.filter(None, 40, picks="emg", h_trans_bandwidth=10, fir_design="firwin", verbose="error")
    taps = signal.firwin(397, 45.0, fs=SFREQ, window="hamming")
    assert np.max(np.abs(smooth.get_data()[0][middle] - _zero_phase_fir(rectified, taps)[middle])) < 1e-3 * x.std()


def test_filter_chain_removes_mains_and_drift_and_keeps_muscle_band() -> None:
    t = np.arange(int(30 * SFREQ)) / SFREQ
    muscle = np.sin(2 * np.pi * 120 * t)
    x = muscle + 3 * np.sin(2 * np.pi * 50 * t) + 50 * np.sin(2 * np.pi * 0.2 * t) + 100.0
    raw = _raw(x[None, :] * 1e-6)
    raw.filter(20, 400, picks="emg", l_trans_bandwidth=5, h_trans_bandwidth=5, verbose="error")
    raw.notch_filter([50], picks="emg", verbose="error")
    y = raw.get_data()[0][6000:-6000] * 1e6
    np.testing.assert_allclose(y, muscle[6000:-6000], atol=0.02)


def test_envelope_tracks_the_amplitude_of_a_modulated_carrier() -> None:
    """Rectify + 40 Hz smoothing turn a 20-400 Hz Gaussian carrier into its amplitude envelope (up to the mean
    of a rectified Gaussian, sqrt(2/pi))."""
    rng = np.random.default_rng(2)
    n = int(60 * SFREQ)
    carrier = signal.sosfiltfilt(
        signal.butter(4, [30, 300], "bandpass", fs=SFREQ, output="sos"), rng.standard_normal(n)
    )
    carrier /= carrier.std()
    amplitude = np.where((np.arange(n) // int(5 * SFREQ)) % 2 == 0, 2e-6, 6e-6)
    raw = emg.envelope(_raw((amplitude * carrier)[None, :]), SETTINGS, 50.0)
    env = raw.get_data()[0]
    for level in (2e-6, 6e-6):
        inside = (amplitude == level) & (np.arange(n) > 2400) & (np.arange(n) < n - 2400)
        # stay clear of the steps: the 40 Hz smoothing spreads them by ~20 ms
        steady = inside & (np.abs(np.arange(n) % int(5 * SFREQ) - 3000) < 2000)
        assert env[steady].mean() == pytest.approx(level * np.sqrt(2 / np.pi), rel=0.05)


def test_outlier_rules_follow_the_paper() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(0, 1, (96, 2))
    values[5, 0] = 10.0  # one clear outlier in channel 0
    measures = {rule: values.copy() for rule in outliers.OUTLIER_RULES}
    measures["peak"][7, 1] = -10.0
    valid = np.ones(96, dtype=bool)
    valid[9] = False
    reasons = outliers.outlier_reasons(measures, valid, outliers.OUTLIER_RULES, 2.0)
    assert reasons[5, 0] == "mean+peak+baseline_mean+baseline_peak"
    assert reasons[7, 1] == "peak"
    assert reasons[9, 0] == reasons[9, 1] == outliers.OUTSIDE
    # the rule itself: beyond 2 SD (ddof=1) of the valid trials' mean
    v = np.where(valid, values[:, 1], np.nan)
    beyond = np.abs(v - np.nanmean(v)) > 2 * np.nanstd(v, ddof=1)
    assert np.array_equal(beyond, np.char.find(reasons[:, 1].astype(str), "mean") >= 0)

    spread = outliers.apply_scope(reasons, ["corrugator", "zygomaticus"], "trial")
    assert spread[5, 1] == "in corrugator: mean+peak+baseline_mean+baseline_peak"
    assert spread[7, 0] == "in zygomaticus: peak"
    assert (outliers.apply_scope(reasons, ["corrugator", "zygomaticus"], "muscle") == reasons).all()


def test_log_proportion_and_windows() -> None:
    times = np.arange(-600, 6001) / SFREQ
    data = np.ones((1, 1, len(times)))
    data[..., times >= 0] = np.exp(0.1)  # 10.5% above baseline after onset
    log_emg, floored = emg.log_proportion(data, times, 0.01)
    windows = emg.bin_means(log_emg, times, SFREQ, 0.0, 1.0, 5)
    np.testing.assert_allclose(windows, 0.1)
    assert floored.tolist() == [0]
    data[..., 700] = -1.0  # ringing below zero is floored, and counted
    log_emg, floored = emg.log_proportion(data, times, 0.01)
    assert floored.tolist() == [1] and log_emg[0, 0, 700] == pytest.approx(np.log(0.01))


@pytest.mark.parametrize(
    ("data", "sfreq", "problem"),
    [
        (np.zeros((2, 12000)), SFREQ, "channel CS is flat"),
        (
            np.where(np.arange(12000) == 99, np.nan, 1e-6 * np.random.default_rng(0).standard_normal(12000))[
                None, :
            ].repeat(2, axis=0),
            SFREQ,
            "1 non-finite",
        ),
        (1e-6 * np.random.default_rng(0).standard_normal((2, 6000)), 600.0, "sampled at 600 Hz, too low"),
    ],
)
def test_bad_recordings_are_named(data: np.ndarray, sfreq: float, problem: str) -> None:
    with pytest.raises(BadRecording, match=problem) as caught:
        emg.check_recording(
            data, ["CS", "ZM"], sfreq, SETTINGS, file="sub-042_task-mimicry_emg.edf", participant="sub-042"
        )
    assert str(caught.value).startswith("participant sub-042: sub-042_task-mimicry_emg.edf:")


def _trials(onsets: list[float]) -> pd.DataFrame:
    n = len(onsets)
    return pd.DataFrame(
        {
            "onset": onsets,
            "trial": np.arange(1, n + 1),
            "video": "v01",
            "face": "f01",
            "block": 1,
            "trial_type": ["AngryToHappy", "HappyToAngry"] * (n // 2),
        }
    )


def test_trials_outside_the_recording_are_recorded_and_all_lost_excludes() -> None:
    rng = np.random.default_rng(4)
    data = 3e-6 * rng.standard_normal((2, int(120 * SFREQ)))
    onsets = [0.2] + [3.0 + 7.0 * i for i in range(15)]
    result = emg.preprocess(
        _raw(data), _trials(onsets), {"corrugator": "EMG0", "zygomaticus": "EMG1"}, SETTINGS, 50.0, "042"
    )
    first = result.windows[result.windows["trial"] == 1]
    assert first["rejected"].all() and (first["reason"] == outliers.OUTSIDE).all()
    assert (result.summary[outliers.OUTSIDE] == 1).all()
    with pytest.raises(BadRecording, match="no trial's epoch"):
        emg.preprocess(
            _raw(data), _trials([0.1, 0.2]), {"corrugator": "EMG0", "zygomaticus": "EMG1"}, SETTINGS, 50.0, "042"
        )


def _plux_emg_mv(path: Path) -> tuple[np.ndarray, float]:
    """PLUX raw ADC counts -> mV: (ADC / 2^16 - 0.5) * 3 V / 1009 (the sensor's gain), at 1000 Hz."""
    import h5py

    with h5py.File(path) as file:
        device = next(iter(file.values()))
        counts = device["raw"]["channel_3"][:, 0].astype(float)
    return (counts / 2**16 - 0.5) * 3.0 / 1009 * 1e3, 1000.0


def test_real_recording_gives_a_sane_envelope() -> None:
    """Cyclic biceps contractions (biosignalsnotebooks' emg_bursts.h5): the envelope is finite, essentially
    non-negative, and separates the contractions from rest by far more than the noise."""
    assert REAL_EMG.is_file(), "run tools/setup/fetch-test-data.py first (make test does)"
    millivolts, sfreq = _plux_emg_mv(REAL_EMG)
    raw = emg.envelope(_raw(millivolts[None, :] * 1e-3, sfreq), SETTINGS, 50.0)
    env = raw.get_data()[0]
    assert np.isfinite(env).all()
    assert (env < 0).mean() < 0.01
    active = env > 0.5 * (np.percentile(env, 99) + np.percentile(env, 10)) / 2
    onsets = np.flatnonzero(np.diff(active.astype(int)) == 1)
    bursts = onsets[np.insert(np.diff(onsets) > sfreq, 0, True)]  # merge flickers within 1 s
    assert 4 <= len(bursts) <= 30
    assert np.median(env[active]) > 5 * np.median(env[~active])


ENVELOPE_SETTINGS = dataclasses.replace(SETTINGS, input="envelope")
MUSCLES = {"corrugator": "EMG0", "zygomaticus": "EMG1"}


def test_envelope_recordings_skip_the_filters_and_match_the_raw_chain() -> None:
    """The same session as broadband EMG at 1200 Hz (mode raw) and as its envelope decimated to 100 Hz (mode
    envelope, as an amplifier's envelope output would be): the same window means to within the decimation's
    error, and about as many trials rejected (a peak sampled at 100 Hz is not the peak at 1200 Hz, so a trial near
    the 2-SD line may fall either side); an envelope read as raw EMG loses its response to the band-pass."""
    rng = np.random.default_rng(11)
    onsets = [3.0 + 8.0 * i for i in range(24)]
    n = int((onsets[-1] + 8.0) * SFREQ)
    times = np.arange(n) / SFREQ
    gain = np.zeros((2, n))
    for i, onset in enumerate(onsets):
        during = (times >= onset) & (times < onset + 5.0)
        gain[:, during] += np.array([[0.4], [-0.3]]) * (1.0 if i % 2 else 0.3) * (1 - np.exp(-(times[during] - onset)))
    carrier = signal.sosfilt(signal.butter(2, [20, 450], "bandpass", fs=SFREQ, output="sos"), rng.standard_normal(n))
    broadband = 3e-6 * np.exp(gain) * carrier / carrier.std()
    trials = _trials(onsets)

    from_raw = emg.preprocess(_raw(broadband), trials, MUSCLES, SETTINGS, 50.0, "042")
    amplifier = emg.envelope(_raw(broadband), SETTINGS, 50.0).get_data()[:, ::12]
    from_envelope = emg.preprocess(_raw(amplifier, 100.0), trials, MUSCLES, ENVELOPE_SETTINGS, 50.0, "042")

    rejected = [result.summary.set_index("muscle")["rejected"] for result in (from_raw, from_envelope)]
    assert (rejected[0] - rejected[1]).abs().max() <= 2, rejected
    difference = from_envelope.windows["log_emg"] - from_raw.windows["log_emg"]
    assert difference.abs().max() < 0.02, difference.abs().max()
    assert np.corrcoef(from_envelope.windows["log_emg"], from_raw.windows["log_emg"])[0, 1] > 0.999
    upsampled = np.repeat(amplifier, 12, axis=1)
    misread = emg.preprocess(_raw(upsampled), trials, MUSCLES, SETTINGS, 50.0, "042")
    assert np.corrcoef(misread.windows["log_emg"], from_raw.windows["log_emg"])[0, 1] < 0.9


@pytest.mark.parametrize(
    ("data", "sfreq", "settings", "problem"),
    [
        (np.ones((2, 50)), 5.0, ENVELOPE_SETTINGS, r"sampled at 5 Hz, too low for one sample per 0.1-s bin"),
        (np.ones((2, 6000)), 100.0, SETTINGS, r"too low for a 400 Hz band-pass edge; .* preprocessing.emg.input"),
        (
            1e-6 * np.random.default_rng(0).standard_normal((2, 6000)),
            100.0,
            ENVELOPE_SETTINGS,
            r"channel CS is not an envelope .* set preprocessing.emg.input: raw",
        ),
    ],
)
def test_the_input_mode_that_does_not_fit_the_recording_is_named(
    data: np.ndarray, sfreq: float, settings: EmgSettings, problem: str
) -> None:
    with pytest.raises(BadRecording, match=problem):
        emg.check_recording(data, ["CS", "ZM"], sfreq, settings, file="sub-042_task-mimicry_emg.edf", participant="x")


_CHAIN_DIGEST = """
import hashlib, sys
import numpy as np
from mimicry import emg
from mimicry.config import load_config
from mimicry.settings import EmgSettings
import mne
settings = EmgSettings.from_config(load_config()["preprocessing"]["emg"])
data = np.random.default_rng(7).standard_normal((2, 120 * 1200)) * 5e-6
raw = mne.io.RawArray(data, mne.create_info(["CS", "ZM"], 1200.0, ch_types="emg"), verbose="error")
emg.envelope(raw, settings, 50.0)
epochs, _, _ = emg.epochs(raw, np.arange(5.0, 110.0, 10.0), settings)
import mne._numba
print(mne._numba.has_numba, "numba" in sys.modules, hashlib.sha256(epochs.tobytes()).hexdigest())
import numba  # the block was for MNE's helpers only: PyTensor needs numba
print(numba.__name__)
"""


def test_the_filter_chain_runs_without_numba_and_gives_the_same_bits() -> None:
    """mimicry.emg turns MNE's numba kernels off (compiling them cost every job more than they saved); in a fresh
    interpreter they are off unless the user says otherwise, numba is then not even imported, and the filtered
    epochs are the same to the bit."""

    def run(numba: str | None) -> list[str]:
        env = {key: value for key, value in os.environ.items() if key != "MNE_USE_NUMBA"}
        env |= {"PYTHONPATH": str(ROOT / "src")} | ({"MNE_USE_NUMBA": numba} if numba else {})
        done = subprocess.run([sys.executable, "-c", _CHAIN_DIGEST], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    default, with_numba = run(None), run("true")
    assert default[:2] == ["False", "False"] and with_numba[:2] == ["True", "True"]
    assert default[2] == with_numba[2]
    assert default[3] == with_numba[3] == "numba"
