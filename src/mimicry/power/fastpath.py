"""The study's trial x window values without simulating EMG: the fast path for analyses that need many studies
(power, calibration of the decision rules).

In the raw path a window value is the mean over the window of the log envelope as a proportion of the trial's
baseline level (``mimicry.emg``). In the simulator (``mimicry.simulate``) the envelope is the participant's
amplitude times ``exp(log gain)`` times a rectified, smoothed carrier, and the log gain is a slow
Ornstein-Uhlenbeck process (``tonic_sd``, ``tonic_timescale_s``) plus each trial's response: its weight
(``N(1, trial_response_sd)``) times the participant's curve for the muscle and emotion. So a window value is

    h(weight * curve(a, b, c, window - 1) + tonic mean over the window) - h(tonic mean over the baseline) + carrier

where ``h(g) = log((exp(2 g) + r) / (1 + r)) / 2`` is the envelope's log level over a floor that does not follow
the gain: the amplifier's noise in the pass band and the mains harmonics the notch leaves, ``r`` their power over
the participant's EMG power (:func:`floor_ratios`). The floor compresses a response the more, the weaker the
muscle's EMG; without it (``r = 0``) ``h`` is the identity.

The tonic part is Gaussian with the covariance that the process and the epoch imply (computed here from the
simulation's parameters, not fitted: :func:`ou_mean_covariance`). The carrier part, a bias (the mean of a log is
below the log of a mean) and a little independent noise per window, is calibrated against the raw path
(:data:`CARRIER_BIAS`, :data:`CARRIER_SD`). Trials are rejected by the preprocessing's own outlier rules
(``mimicry.outliers.outlier_reasons``) on what the window level holds: the response's mean and peak as percent of
the baseline (over windows instead of samples) and the baseline level. The simulator's artefacts are where it
puts them (:func:`artefacts`): a burst in the windows it overlaps, a contraction in the baseline level, a burst's
top and an electrode pop on the peak the rules see.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mimicry.crossover import sequences
from mimicry.curve import curve
from mimicry.gather import SESSION_COLUMNS
from mimicry.outliers import outlier_reasons
from mimicry.settings import EmgSettings, SimulationSettings
from mimicry.simulate.recording import MAINS_HARMONICS

#: The carrier's share of a window value, measured on the raw path (paper-size default study, 98,960 kept trial x
#: window values of both muscles, residuals about the planted log gain: mean -0.030 to -0.032): the mean of the log
#: of a fluctuating envelope lies below the log of its mean. The window's own fluctuation adds a little
#: independent noise: 0.035 brings the first window's SD to the raw path's with the floor in
#: (``tools/benchmarks/fastpath.py``; 0.02 did without it).
CARRIER_BIAS = -0.03
CARRIER_SD = 0.035
#: Points per interval of the quadrature of the process's covariance (1e-6 from a grid ten times finer).
QUADRATURE_POINTS = 400
#: The columns of the preprocessing's window table that the models use.
MODEL_WINDOW_COLUMNS = [
    "participant",
    "group",
    "trial",
    "video",
    "face",
    "emotion",
    "muscle",
    "window",
    "log_emg",
    "rejected",
]


def _midpoints(low: float, high: float) -> np.ndarray:
    """The quadrature's points on ``[low, high)``: the midpoints of :data:`QUADRATURE_POINTS` equal steps."""
    return low + (np.arange(QUADRATURE_POINTS) + 0.5) * (high - low) / QUADRATURE_POINTS


def ou_mean_covariance(intervals: Sequence[tuple[float, float]], sd: float, timescale_s: float) -> np.ndarray:
    """Covariance of the means of a stationary Ornstein-Uhlenbeck process (SD ``sd``, correlation
    ``exp(-|dt| / timescale_s)``) over each interval, by midpoint quadrature."""
    grids = [_midpoints(start, stop) for start, stop in intervals]
    out = np.empty((len(grids), len(grids)))
    for i, first in enumerate(grids):
        for j, second in enumerate(grids[: i + 1]):
            out[i, j] = out[j, i] = sd**2 * np.exp(-np.abs(first[:, None] - second[None, :]) / timescale_s).mean()
    return out


def epoch_intervals(emg: EmgSettings) -> list[tuple[float, float]]:
    """The baseline ``[tmin, 0)`` and the response windows ``[k w, (k + 1) w)``, as the preprocessing takes them."""
    return [(emg.tmin, 0.0), *((k * emg.window_s, (k + 1) * emg.window_s) for k in range(emg.n_windows))]


def _hann_share(start: np.ndarray, length: np.ndarray, intervals: Sequence[tuple[float, float]]) -> np.ndarray:
    """Mean over each interval of a unit Hann bump on ``[start, start + length)`` (one row per bump)."""
    share = np.empty((len(start), len(intervals)))
    for k, (low, high) in enumerate(intervals):
        phase = (_midpoints(low, high)[None, :] - start[:, None]) / length[:, None]
        share[:, k] = np.where((phase >= 0) & (phase < 1), 0.5 - 0.5 * np.cos(2 * np.pi * phase), 0.0).mean(axis=1)
    return share


def artefacts(
    rng: np.random.Generator, n_trials: int, simulation: SimulationSettings, emg: EmgSettings
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The simulator's artefacts (``simulation.artefacts``) at the window level, for one muscle's trials: what a
    burst adds to each window's log gain (trials x windows), what a contraction before the video adds to the
    baseline's log level, and the factor an electrode pop puts on the response's peak."""
    video_s = float(simulation.timing.video_s)
    draw = rng.random(n_trials)
    edges = np.cumsum([float(getattr(simulation.artefacts, kind)) for kind in ("burst", "spike", "baseline")])
    kind = np.searchsorted(edges, draw, side="right")  # 0 burst, 1 spike, 2 baseline, 3 none
    windows = epoch_intervals(emg)[1:]
    burst = np.zeros((n_trials, len(windows)))
    bursts = np.flatnonzero(kind == 0)
    start, length = rng.uniform(0.0, video_s - 0.2, len(bursts)), rng.uniform(0.2, 0.8, len(bursts))
    burst_height = np.log(rng.uniform(2.5, 6.0, len(bursts)))
    burst[bursts] = burst_height[:, None] * _hann_share(start, length, windows)
    contraction = np.zeros(n_trials)
    before = np.flatnonzero(kind == 2)
    start, length = -rng.uniform(0.2, 0.5, len(before)), rng.uniform(0.1, 0.3, len(before))
    height = np.log(rng.uniform(2.0, 5.0, len(before)))
    # the baseline level is a mean of the envelope, not of its log
    bump = _hann_share(start, length, [(emg.tmin, 0.0)])[:, 0]
    contraction[before] = np.log1p(bump * (np.exp(height) - 1.0))
    # the rules see a sample's peak: a burst's top (its full height), a pop's step (tens of uV on a few)
    peak_factor = np.where(kind == 1, 10.0, 1.0)
    peak_factor[bursts] = np.exp(burst_height)
    return burst, contraction, peak_factor


def trial_table(stimuli: pd.DataFrame, participants: Sequence[str], repetitions: int) -> pd.DataFrame:
    """Every participant's trials: each video ``repetitions`` times (participant, trial, video, face, emotion)."""
    videos = stimuli.loc[np.tile(np.arange(len(stimuli)), repetitions)].reset_index(drop=True)
    per_participant = videos.assign(trial=np.arange(1, len(videos) + 1))
    return pd.concat([per_participant.assign(participant=label) for label in participants], ignore_index=True).rename(
        columns={"trial_type": "emotion"}
    )[["participant", "trial", "video", "face", "emotion"]]


def floor_ratios(
    parameters: pd.DataFrame, simulation: SimulationSettings, emg: EmgSettings, muscles: Sequence[str]
) -> pd.DataFrame:
    """Per participant (rows) x muscle (columns): the power of the envelope's floor over the participant's EMG
    power at zero log gain (``parameters``: ``simulate_participants``'s, with ``amplitude_uv_<muscle>`` and
    ``mains_uv_<muscle>``). Raw EMG: the amplifier's white noise in the band-pass's share of the spectrum and each
    mains harmonic in the pass band that the notch leaves (a sine's power: half its amplitude squared); an
    envelope recording: the amplifier noise the simulator adds to its level."""
    noise = float(simulation.emg.amplifier_noise_uv) ** 2
    if emg.input == "raw":
        nyquist, line = float(simulation.sampling_frequency) / 2.0, float(simulation.line_frequency)
        noise *= (min(emg.h_freq, nyquist) - emg.l_freq) / nyquist
        mains = sum(
            weight**2 / 2.0
            for harmonic, weight in MAINS_HARMONICS.items()
            if harmonic > emg.notch_harmonics and emg.l_freq < harmonic * line < min(emg.h_freq, nyquist)
        )
    else:
        mains = 0.0
    table = parameters.set_index(parameters["participant"].astype(str))
    return pd.DataFrame(
        {m: (noise + mains * table[f"mains_uv_{m}"] ** 2) / table[f"amplitude_uv_{m}"] ** 2 for m in muscles}
    )


def _log_level(gain: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """The envelope's log level over the floor, 0 at zero gain: log((exp(2 gain) + floor) / (1 + floor)) / 2."""
    return 0.5 * (np.log(np.exp(2.0 * gain) + floor) - np.log1p(floor))


def window_values(
    effects: pd.DataFrame,
    stimuli: pd.DataFrame,
    simulation: SimulationSettings,
    emg: EmgSettings,
    muscles: Sequence[str],
    seed: Any,
    floor: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Trial x muscle x window values of the recordings in ``effects`` (the simulator's planted a, b, c per
    participant x muscle x emotion, a crossover's per participant x session), in the columns of the
    preprocessing's window table that the models use (:data:`MODEL_WINDOW_COLUMNS`; a crossover's with each
    recording's session, period and sequence after ``participant``, as its group tables have them). Each recording
    is preprocessed alone, as in the raw path: its outlier rules see its own trials. ``seed``: anything
    ``numpy.random.default_rng`` takes; ``floor``: :func:`floor_ratios`, per participant (None: no floor, the log
    gain itself)."""
    rng = np.random.default_rng(seed)
    crossover = "session" in effects.columns
    keys = ["participant", "session"] if crossover else ["participant"]
    effects = effects.assign(recording=effects[keys].astype(str).agg("/".join, axis=1))
    recordings = effects.drop_duplicates("recording").set_index("recording")
    trials = trial_table(stimuli, list(recordings.index), int(simulation.design.repetitions)).rename(
        columns={"participant": "recording"}
    )
    trials.insert(0, "participant", recordings.loc[trials["recording"], "participant"].to_numpy())
    intervals = epoch_intervals(emg)
    tonic = np.linalg.cholesky(
        ou_mean_covariance(intervals, float(simulation.tonic_sd), float(simulation.tonic_timescale_s))
    )
    times = np.arange(emg.n_windows, dtype=float)  # the curve's t is window - 1, as the simulator counts it
    n_trials, n_muscles, n_windows = len(trials), len(muscles), emg.n_windows
    planted = effects.set_index(["recording", "muscle", "emotion"])[["a", "b", "c"]]

    values = np.empty((n_trials, n_muscles, n_windows))
    baseline = np.empty((n_trials, n_muscles))
    peak_factor = np.ones((n_trials, n_muscles))
    for m, muscle in enumerate(muscles):
        index = pd.MultiIndex.from_arrays([trials["recording"], [muscle] * n_trials, trials["emotion"]])
        a, b, c = (planted.loc[index, name].to_numpy() for name in ("a", "b", "c"))
        weight = rng.normal(1.0, float(simulation.trial_response_sd), n_trials)
        response = weight[:, None] * curve(a[:, None], b[:, None], c[:, None], times[None, :])
        process = rng.standard_normal((n_trials, len(intervals))) @ tonic.T  # baseline mean, then window means
        burst, contraction, peak_factor[:, m] = artefacts(rng, n_trials, simulation, emg)
        baseline[:, m] = process[:, 0] + contraction
        ratio = (
            np.zeros((n_trials, 1)) if floor is None else floor.loc[trials["participant"], muscle].to_numpy()[:, None]
        )
        values[:, m] = (
            _log_level(response + process[:, 1:] + burst, ratio)
            - _log_level(baseline[:, m, None], ratio)
            + CARRIER_BIAS
            + rng.normal(0.0, CARRIER_SD, (n_trials, n_windows))
        )

    rejected = np.zeros((n_trials, n_muscles), dtype=bool)
    for _, rows in trials.groupby("recording", sort=False):
        at = rows.index.to_numpy()
        percent, level = 100.0 * np.exp(values[at]), np.exp(baseline[at])
        measures = {"mean": percent.mean(axis=2), "peak": percent.max(axis=2) * peak_factor[at]}
        measures |= {"baseline_mean": level, "baseline_peak": level}
        rejected[at] = outlier_reasons(measures, np.ones(len(at), dtype=bool), emg.rules, emg.n_sd) != ""
    if emg.scope == "trial":  # a trial rejected in one muscle is rejected in all
        rejected[:] = rejected.any(axis=1, keepdims=True)

    long = pd.DataFrame(
        {
            "trial_row": np.repeat(np.arange(n_trials), n_muscles * n_windows),
            "muscle": np.tile(np.repeat(np.asarray(muscles, dtype=object), n_windows), n_trials),
            "window": np.tile(np.arange(1, n_windows + 1), n_trials * n_muscles),
            "log_emg": values.reshape(-1),
            "rejected": np.repeat(rejected.reshape(-1), n_windows),
        }
    )
    table = trials.iloc[long.pop("trial_row")].reset_index(drop=True).join(long)
    table["group"] = recordings.loc[table["recording"], "group"].to_numpy()
    if not crossover:
        return table[MODEL_WINDOW_COLUMNS]
    # each recording's session, period and sequence (the participant's drugs in period order)
    sessions = recordings.reset_index()[["participant", "session", "group", "period"]]
    order = sequences(sessions)
    table["session"] = recordings.loc[table["recording"], "session"].astype(str).to_numpy()
    table["period"] = recordings.loc[table["recording"], "period"].astype("int64").to_numpy()
    table["sequence"] = order.loc[table["participant"]].to_numpy()
    columns = ["participant", *SESSION_COLUMNS, *MODEL_WINDOW_COLUMNS[2:]]
    return table[columns].astype({"session": "string", "group": "string", "sequence": "string"})


def window_moments(windows: pd.DataFrame) -> pd.DataFrame:
    """Per muscle x emotion x window, over the kept trials: the mean and SD of the values, and the SD between
    recordings (participants; a crossover's participant x session) of their means (the quantities the fast path
    must match the raw path on)."""
    kept = windows[~windows["rejected"].astype(bool)]
    cells = ["muscle", "emotion", "window"]
    recording = ["participant", "session"] if "session" in kept.columns else ["participant"]
    per_participant = kept.groupby([*recording, *cells])["log_emg"].mean().groupby(cells)
    values = kept.groupby(cells)["log_emg"]
    return pd.DataFrame({"mean": values.mean(), "sd": values.std(), "between_sd": per_participant.std()})
