"""Facial EMG preprocessing, as in Korb et al. (2023), with MNE.

Per participant: band-pass 20-400 Hz (zero-phase FIR; transition widths of 5 Hz match EEGLAB's
``pop_eegfiltnew``), notch at the line frequency, rectify, smooth with a 40 Hz low-pass (recordings that are
already envelopes, rectified and smoothed by the amplifier, start at the next step); epochs from -0.5 to
5 s around each video onset; each trial expressed as percentage of its baseline (mean of the 500 ms before
onset); outlier trials rejected per muscle (trial mean, trial peak, baseline mean, baseline peak more than 2 SD
from the participant's average); then proportion of baseline, natural log, and means in five 1-s windows (the
LMM input) and in finer bins (figures).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mimicry.errors import DatasetError, InputError
from mimicry.outliers import OUTLIER_RULES, OUTSIDE, apply_scope, outlier_reasons, trial_measures
from mimicry.settings import EmgSettings
from mimicry.study import Study
from mimicry.table_columns import TIMECOURSE_DTYPES, WINDOW_DTYPES

# MNE compiles its numba kernels anew in every process that first uses them; for one participant's filters that
# costs more than it saves (about 0.4 s of a job's 4 s CPU) and the results are the same to the bit. Set before
# MNE is imported (this module imports it only inside functions); a user's own MNE_USE_NUMBA wins.
os.environ.setdefault("MNE_USE_NUMBA", "false")


def _mne_numba_helpers_without_numba() -> None:
    """Load MNE's numba helpers (``mne._numba``) without importing numba when MNE_USE_NUMBA is off.

    MNE imports numba whether or not it is told to use it (0.37 s of an EMG job's CPU); with numba blocked its
    helpers fall back to the plain NumPy functions that MNE_USE_NUMBA=false selects anyway. The block lasts only
    for that one import (PyTensor, in other jobs or a test session, needs numba).
    """
    if os.environ["MNE_USE_NUMBA"].lower() == "true" or "mne._numba" in sys.modules or "numba" in sys.modules:
        return
    sys.modules["numba"] = None  # type: ignore[assignment]  # None makes its import fail
    try:
        import mne._numba  # noqa: F401  # decides has_numba once, here
    finally:
        del sys.modules["numba"]


class BadRecording(InputError):
    """A recording that cannot be preprocessed (flat or missing channel, NaNs, too low a sampling rate, ...)."""


def check_recording(
    data: np.ndarray, channel_names: list[str], sfreq: float, settings: EmgSettings, *, file: str, participant: str
) -> None:
    """Raise :class:`BadRecording` for a recording the pipeline cannot preprocess."""
    if sfreq < settings.min_sampling_frequency():
        need = (
            f"one sample per {min(settings.timecourse_bin_s, settings.window_s, -settings.tmin):g}-s bin"
            if settings.input == "envelope"
            else f"a {settings.h_freq:g} Hz band-pass edge; if the recordings are already rectified and smoothed "
            "envelopes, set preprocessing.emg.input: envelope"
        )
        raise BadRecording(
            f"sampled at {sfreq:g} Hz, too low for {need} (needs at least {settings.min_sampling_frequency():g} Hz)",
            file=file,
            participant=participant,
        )
    for name, channel in zip(channel_names, data, strict=True):
        bad = int(np.count_nonzero(~np.isfinite(channel)))
        if bad:
            raise BadRecording(
                f"channel {name} has {bad} non-finite (NaN or infinite) samples", file=file, participant=participant
            )
        if np.std(channel) < settings.flat_sd_uv * 1e-6:
            raise BadRecording(
                f"channel {name} is flat (SD {np.std(channel) * 1e6:.3g} µV)", file=file, participant=participant
            )
        # an amplitude envelope is positive; broadband EMG swings around zero (or its DC offset)
        if settings.input == "envelope" and np.median(channel) <= 0:
            raise BadRecording(
                f"channel {name} is not an envelope (median {np.median(channel) * 1e6:.3g} µV, an envelope is "
                "positive); for broadband EMG set preprocessing.emg.input: raw",
                file=file,
                participant=participant,
            )


@dataclass(frozen=True)
class Recording:
    """One participant's recording, loaded and checked: the MNE raw (the study's channels), its experimental
    trials and the line frequency its sidecar states."""

    raw: Any
    trials: pd.DataFrame
    line_frequency: float


def load_recording(
    bids_root: str | Path,
    label: str,
    study: Study,
    settings: EmgSettings,
    edf: str,
    events: str,
    session: str | None = None,
) -> Recording:
    """Validate (BIDS-EMG), read (MNE-BIDS) and check (:func:`check_recording`) one participant's recording (in
    ``session``, in a crossover) and read its trials; raises :class:`mimicry.errors.DatasetError` or
    :class:`BadRecording` for one that cannot be preprocessed (the caller excludes the recording or fails, per
    ``on_bad_recording``)."""
    from mimicry.bids.read import read_recording, read_trials
    from mimicry.bids.validate import validate_recording

    summary, problems = validate_recording(bids_root, label, study, session=session)
    if problems:
        raise DatasetError(problems)
    raw = read_recording(bids_root, label, study, session).load_data(verbose="error")
    check_recording(raw.get_data(), raw.ch_names, raw.info["sfreq"], settings, file=edf, participant=f"sub-{label}")
    return Recording(raw, read_trials(events), float(summary["line_frequency"]))


def band_pass(raw: Any, settings: EmgSettings) -> Any:
    """Band-pass the EMG channels of ``raw`` in place (zero-phase FIR); returns ``raw``."""
    _mne_numba_helpers_without_numba()
    raw.filter(
        settings.l_freq,
        settings.h_freq,
        picks="emg",
        l_trans_bandwidth=settings.l_trans_bandwidth,
        h_trans_bandwidth=settings.h_trans_bandwidth,
        fir_design="firwin",
        phase="zero",
        verbose="error",
    )
    return raw


def notch(raw: Any, settings: EmgSettings, line_frequency: float) -> Any:
    """Notch the line frequency's first ``notch_harmonics`` harmonics inside the pass band, in place."""
    nyquist = raw.info["sfreq"] / 2.0
    notches = [
        line_frequency * k
        for k in range(1, settings.notch_harmonics + 1)
        if line_frequency * k < min(nyquist, settings.h_freq + settings.h_trans_bandwidth)
    ]
    if notches:
        raw.notch_filter(notches, picks="emg", verbose="error")
    return raw


def rectify_and_smooth(raw: Any, settings: EmgSettings) -> Any:
    """Rectify and low-pass (zero-phase FIR) the EMG channels of ``raw`` in place: the amplitude envelope."""
    _mne_numba_helpers_without_numba()
    raw.apply_function(np.abs, picks="emg")
    raw.filter(
        None,
        settings.smoothing_h_freq,
        picks="emg",
        h_trans_bandwidth=settings.smoothing_trans_bandwidth,
        fir_design="firwin",
        phase="zero",
        verbose="error",
    )
    return raw


def envelope(raw: Any, settings: EmgSettings, line_frequency: float) -> Any:
    """Band-pass, notch, rectify and smooth the EMG channels of ``raw`` in place; returns ``raw``."""
    return rectify_and_smooth(notch(band_pass(raw, settings), settings, line_frequency), settings)


def epochs(raw: Any, onsets: np.ndarray, settings: EmgSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut epochs around video onsets (s). Returns data (trials, channels, times), times, and which trials fit.

    Trials whose epoch does not fit inside the recording get NaN data and ``False`` in the mask.
    """
    import mne

    sfreq = raw.info["sfreq"]
    samples = np.round(onsets * sfreq).astype(int) + raw.first_samp
    events = np.column_stack([samples, np.zeros_like(samples), np.arange(1, len(samples) + 1)])
    cut = mne.Epochs(
        raw,
        events,
        event_id=None,
        tmin=settings.tmin,
        tmax=settings.tmax,
        baseline=None,
        picks="emg",
        preload=True,
        reject_by_annotation=False,
        proj=False,
        verbose="error",
    )
    kept = np.zeros(len(samples), dtype=bool)
    kept[cut.selection] = True
    data = np.full((len(samples), len(cut.ch_names), len(cut.times)), np.nan)
    if kept.any():
        data[kept] = cut.get_data(copy=False)
    return data, cut.times, kept


def log_proportion(data: np.ndarray, times: np.ndarray, floor: float) -> tuple[np.ndarray, np.ndarray]:
    """Natural log of the envelope as proportion of baseline (1 = the baseline level).

    The FIR smoothing can ring below zero next to a sharp artefact; proportions below ``floor`` are set to
    ``floor`` before the log. Returns the log proportion and, per channel, how many samples were floored.
    """
    level = data[:, :, times < 0].mean(axis=2, keepdims=True)
    proportion = data / level
    low = proportion < floor
    return np.log(np.where(low, floor, proportion)), np.count_nonzero(low & np.isfinite(proportion), axis=(0, 2))


def bin_means(
    values: np.ndarray, times: np.ndarray, sfreq: float, start: float, width: float, count: int
) -> np.ndarray:
    """Means over consecutive bins ``[start + k*width, start + (k+1)*width)``, k = 0..count-1 (last axis)."""
    sample = np.round(times * sfreq).astype(int)
    first, step = int(round(start * sfreq)), int(round(width * sfreq))
    out = np.empty(values.shape[:-1] + (count,))
    for k in range(count):
        inside = (sample >= first + k * step) & (sample < first + (k + 1) * step)
        out[..., k] = values[..., inside].mean(axis=-1)
    return out


@dataclass
class Preprocessed:
    """One participant's preprocessed EMG."""

    windows: pd.DataFrame  #: WINDOW_DTYPES, one row per trial x muscle x window
    timecourse: pd.DataFrame  #: TIMECOURSE_DTYPES, one row per trial x muscle x bin
    summary: pd.DataFrame  #: one row per muscle: trials, rejected, per-rule counts, floored samples


def _trial_tables(
    trials: pd.DataFrame,
    muscles: list[str],
    participant: str,
    windows: np.ndarray,
    course: np.ndarray,
    rejected: np.ndarray,
    reasons: np.ndarray,
    settings: EmgSettings,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The window table and the time-course table: one row per trial x muscle x window (time bin)."""
    n_trials, n_muscles = len(trials), len(muscles)
    n_w, n_bins = settings.n_windows, course.shape[-1]

    def tile_trials(column: pd.Series, repeat: int) -> np.ndarray:
        return np.repeat(column.to_numpy(), n_muscles * repeat)

    window_table = pd.DataFrame(
        {
            "participant": participant,
            "trial": tile_trials(trials["trial"], n_w),
            "video": tile_trials(trials["video"], n_w),
            "face": tile_trials(trials["face"], n_w),
            "block": tile_trials(trials["block"], n_w),
            "emotion": tile_trials(trials["trial_type"], n_w),
            "muscle": np.tile(np.repeat(muscles, n_w), n_trials),
            "window": np.tile(np.arange(1, n_w + 1), n_trials * n_muscles),
            "log_emg": windows.reshape(-1),
            "rejected": np.repeat(rejected.reshape(-1), n_w),
            "reason": np.repeat(reasons.reshape(-1), n_w),
        }
    ).astype(WINDOW_DTYPES)
    course_table = pd.DataFrame(
        {
            "participant": participant,
            "trial": np.repeat(trials["trial"].to_numpy(int), n_muscles * n_bins),
            "emotion": tile_trials(trials["trial_type"], n_bins),
            "muscle": np.tile(np.repeat(muscles, n_bins), n_trials),
            "time_s": np.tile(
                np.round(settings.tmin + settings.timecourse_bin_s * np.arange(n_bins), 6), n_trials * n_muscles
            ),
            "log_emg": course.reshape(-1),
            "rejected": np.repeat(rejected.reshape(-1), n_bins),
        }
    ).astype(TIMECOURSE_DTYPES)
    return window_table, course_table


def _summary(
    participant: str,
    muscles: list[str],
    n_trials: int,
    valid: np.ndarray,
    rejected: np.ndarray,
    reasons: np.ndarray,
    floored: np.ndarray,
    rules: tuple[str, ...],
) -> pd.DataFrame:
    """Per muscle: trials, rejections in all and by rule, trials outside the recording, floored samples."""
    rows = []
    for m, muscle in enumerate(muscles):
        row: dict[str, Any] = {
            "participant": participant,
            "muscle": muscle,
            "status": "ok",
            "reason": "",
            "trials": n_trials,
            "rejected": int(rejected[:, m].sum()),
            OUTSIDE: int((~valid).sum()),
        }
        for rule in rules:
            row[f"rule_{rule}"] = int(sum(rule in r.split("+") for r in reasons[:, m] if not r.startswith("in ")))
        row["floored_samples"] = int(floored[m])
        rows.append(row)
    return pd.DataFrame(rows)


def preprocess(
    raw: Any,
    trials: pd.DataFrame,
    channels: Mapping[str, str],
    settings: EmgSettings,
    line_frequency: float,
    participant: str,
) -> Preprocessed:
    """The whole per-participant EMG chain on a loaded MNE ``raw`` and its experimental trials.

    ``trials`` has one row per experimental trial (onset, trial, video, face, block, trial_type);
    ``channels`` maps muscle names to channel names (the order of the outputs).
    """
    muscles = list(channels)
    raw.pick([channels[m] for m in muscles])
    if settings.input == "raw":
        envelope(raw, settings, line_frequency)
    data, times, valid = epochs(raw, trials["onset"].to_numpy(float), settings)
    if not valid.any():
        raise BadRecording(
            f"no trial's epoch ({settings.tmin:g} to {settings.tmax:g} s) fits inside the recording",
            participant=participant,
        )
    reasons = outlier_reasons(trial_measures(data, times), valid, settings.rules, settings.n_sd)
    reasons = apply_scope(reasons, muscles, settings.scope)
    rejected = reasons != ""
    if rejected.all(axis=0).any():
        lost = [m for m, all_lost in zip(muscles, rejected.all(axis=0), strict=True) if all_lost]
        raise BadRecording(f"every trial is rejected in {lost}", participant=participant)
    log_emg, floored = log_proportion(data, times, settings.log_floor)
    sfreq = raw.info["sfreq"]
    windows = bin_means(log_emg, times, sfreq, 0.0, settings.window_s, settings.n_windows)
    n_bins = int(round((settings.tmax - settings.tmin) / settings.timecourse_bin_s))
    course = bin_means(log_emg, times, sfreq, settings.tmin, settings.timecourse_bin_s, n_bins)
    window_table, course_table = _trial_tables(
        trials, muscles, participant, windows, course, rejected, reasons, settings
    )
    summary = _summary(participant, muscles, len(trials), valid, rejected, reasons, floored, settings.rules)
    return Preprocessed(window_table, course_table, summary)


def excluded_outputs(
    participant: str, muscles: list[str], reason: str, rules: tuple[str, ...] = OUTLIER_RULES
) -> Preprocessed:
    """The outputs of a participant excluded from the analysis: empty tables and a summary saying why."""
    summary = pd.DataFrame(
        [
            {
                "participant": participant,
                "muscle": muscle,
                "status": "excluded",
                "reason": reason,
                "trials": 0,
                "rejected": 0,
                OUTSIDE: 0,
                **{f"rule_{rule}": 0 for rule in rules},
                "floored_samples": 0,
            }
            for muscle in muscles
        ]
    )
    return Preprocessed(
        pd.DataFrame(columns=list(WINDOW_DTYPES)).astype(WINDOW_DTYPES),
        pd.DataFrame(columns=list(TIMECOURSE_DTYPES)).astype(TIMECOURSE_DTYPES),
        summary,
    )
