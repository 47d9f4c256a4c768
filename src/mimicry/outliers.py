"""The paper's outlier rules, on any signal's epochs: each trial's response (mean and peak as percentage of its
baseline) and baseline (mean and peak) against the participant's other trials, rejected beyond ``n_sd`` SDs; the
rules' scope (a trial lost in one muscle lost in all, or each muscle its own). The raw path applies them to the
EMG envelope's samples (:mod:`mimicry.emg`), the power analysis's fast path to window values."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

#: The outlier rules, in the order their names appear in a rejection reason.
OUTLIER_RULES = ("mean", "peak", "baseline_mean", "baseline_peak")
OUTSIDE = "outside_recording"


def trial_measures(data: np.ndarray, times: np.ndarray) -> dict[str, np.ndarray]:
    """Per trial and channel: mean and peak of the response as percentage of baseline, and the baseline's own
    mean and peak (in the signal's units), the four quantities the outlier rules look at."""
    before, after = times < 0, times >= 0
    level = data[:, :, before].mean(axis=2)
    percent = 100.0 * data[:, :, after] / level[:, :, None]
    return {
        "mean": percent.mean(axis=2),
        "peak": percent.max(axis=2),
        "baseline_mean": level,
        "baseline_peak": data[:, :, before].max(axis=2),
    }


def outlier_reasons(
    measures: Mapping[str, np.ndarray], valid: np.ndarray, rules: tuple[str, ...], n_sd: float
) -> np.ndarray:
    """Which rules reject each trial x channel: a '+'-joined string of rule names ('' = kept).

    A value is an outlier when it lies more than ``n_sd`` SDs (ddof=1, as MATLAB's ``std``) from the mean of
    the participant's valid trials for that channel.
    """
    n_trials, n_channels = next(iter(measures.values())).shape
    flags = {}
    for rule in rules:
        values = np.where(valid[:, None], measures[rule], np.nan)
        centre = np.nanmean(values, axis=0)
        spread = np.nanstd(values, axis=0, ddof=1)
        flags[rule] = np.abs(values - centre) > n_sd * spread
    reasons = np.full((n_trials, n_channels), "", dtype=object)
    for rule in rules:
        reasons = np.where(flags[rule], np.where(reasons == "", rule, reasons + "+" + rule), reasons)
    reasons[~valid] = OUTSIDE
    return reasons


def apply_scope(reasons: np.ndarray, channel_names: list[str], scope: str) -> np.ndarray:
    """With scope ``trial``, a trial rejected in one muscle is rejected in all, its reason naming the muscle."""
    if scope == "muscle":
        return reasons
    spread = reasons.copy()
    for c in range(len(channel_names)):
        for other in range(len(channel_names)):
            lost_elsewhere = (reasons[:, other] != "") & (reasons[:, c] == "") & (other != c)
            spread[lost_elsewhere, c] = f"in {channel_names[other]}: " + reasons[lost_elsewhere, other]
    return spread
