"""The preprocessing choices a universe has that the main analysis does not: the envelope as a moving RMS, the
baseline removed by subtraction or as a z-score, trials rejected by their range. The main analysis's choices
(rectify and low-pass, log proportion of baseline, the 2-SD rules) are :mod:`mimicry.emg`'s and
:mod:`mimicry.outliers`'."""

from __future__ import annotations

from typing import Any

import numpy as np

from mimicry.emg import log_proportion
from mimicry.outliers import OUTSIDE

#: Volts to microvolts: baseline-subtracted values are reported in µV.
MICROVOLTS = 1e6


def rms_samples(window_s: float, sfreq: float) -> int:
    """The moving RMS's window in samples: ``window_s`` rounded to an odd count, so that it is centred."""
    return 2 * int(round(window_s * sfreq / 2.0)) + 1


def moving_rms(signal: np.ndarray, samples: int) -> np.ndarray:
    """Centred moving root mean square over ``samples`` (odd) samples; beyond the ends the signal counts as 0."""
    return np.sqrt(np.convolve(signal * signal, np.full(samples, 1.0 / samples), mode="same"))


def rms_envelope(raw: Any, window_s: float) -> Any:
    """Replace the (band-passed) EMG channels of ``raw`` by their moving RMS, in place; returns ``raw``."""
    samples = rms_samples(window_s, raw.info["sfreq"])
    raw.apply_function(moving_rms, picks="emg", samples=samples)
    return raw


def range_reasons(data: np.ndarray, valid: np.ndarray, factor: float) -> np.ndarray:
    """The range rule: a trial is rejected in a muscle (reason ``range``) when the range (maximum minus minimum)
    of its epoch exceeds ``factor`` times the median range of the participant's trials in that muscle; a robust
    rule for the bursts and drifts that inflate an SD. Trials outside the recording get :data:`OUTSIDE`."""
    reasons = np.full(data.shape[:2], "", dtype=object)
    if valid.any():
        spread = data[valid].max(axis=2) - data[valid].min(axis=2)
        flagged = spread > factor * np.median(spread, axis=0)
        reasons[valid] = np.where(flagged, "range", "")
    reasons[~valid] = OUTSIDE
    return reasons


def baseline_corrected(
    data: np.ndarray, times: np.ndarray, kept: np.ndarray, method: str, floor: float
) -> tuple[np.ndarray, np.ndarray]:
    """Each trial's epoch relative to its baseline (the mean before onset), per ``method``:

    - ``log_proportion``: the natural log of the proportion of baseline (the paper's; :func:`log_proportion`);
    - ``subtract``: the change from baseline, in µV;
    - ``zscore``: the change from baseline over the SD of the participant's kept trials' samples in that muscle
      (z-scoring within participant and muscle, then subtracting the baseline).

    ``kept``: trials x channels kept by the outlier rules. Returns the values and, per channel, the samples the
    log proportion floored (0 for the others).
    """
    if method == "log_proportion":
        return log_proportion(data, times, floor)
    change = data - data[:, :, times < 0].mean(axis=2, keepdims=True)
    floored = np.zeros(data.shape[1], dtype=int)
    if method == "subtract":
        return change * MICROVOLTS, floored
    if method == "zscore":
        sd = np.array(
            [np.std(data[kept[:, c], c, :], ddof=1) if kept[:, c].any() else np.nan for c in range(data.shape[1])]
        )
        return change / sd[None, :, None], floored
    raise ValueError(f"unknown baseline method {method!r}")
