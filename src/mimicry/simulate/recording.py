"""One simulated participant's session: trial order, key presses and the EMG of every muscle.

The EMG model, per muscle: a broadband (20-450 Hz) Gaussian carrier whose standard deviation (the amplitude
envelope) is the participant's baseline amplitude times ``exp(tonic + response + artefacts)``, plus DC offset,
slow drift, 50 Hz mains with harmonics and amplifier noise. Amplifiers that record the envelope instead
(``recording="envelope"``) write what their rectifier and integrator give: the expected rectified amplitude of
the carrier and the amplifier noise, times a short-integration fluctuation, plus the magnitude of electrode pops;
the band-pass has removed offset, drift and mains. ``tonic`` is a slow Ornstein-Uhlenbeck process;
``response`` is the mimicry response of each trial: the participant's curve for that muscle and emotion,
scaled by a trial weight. The curve is parameterised so that its 1-s window means equal the paper's
asymptotic model exactly (see :func:`response_curve`), so the planted ``a``, ``b``, ``c`` are the values the
statistics should recover.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mimicry.bids.layout import RecordingFiles, recording_files
from mimicry.bids.write import write_recording
from mimicry.curve import curve
from mimicry.settings import ArtefactRates, SimulationSettings
from mimicry.simulate.participants import categorical
from mimicry.study import RESPONSE_CATEGORIES, Study
from mimicry.task import session_timeline, trial_order

WINDOWS = np.arange(1, 6)  # the five 1-s windows of the 5-s video
#: mean of a rectified Gaussian per unit SD
RECTIFIED_MEAN = float(np.sqrt(2.0 / np.pi))
#: log-SD of an envelope sample: a rectified 20-450 Hz carrier integrated over ~25 ms averages ~20 independent
#: samples of relative SD 0.76
ENVELOPE_FLUCTUATION_SD = 0.17
ARTEFACT_KINDS = ("burst", "spike", "baseline")
#: Mains interference: the amplitude of each harmonic of the line frequency relative to the fundamental (the
#: fundamental and odd harmonics dominate; the amplitude wanders slowly).
MAINS_HARMONICS = {1: 1.0, 2: 0.05, 3: 0.1, 5: 0.03}
#: How fast the response fades after the video ends (s): long before the next baseline.
DECAY_S = 0.4
TRUTH_COLUMNS = [
    "participant",
    "trial",
    "block",
    "video",
    "face",
    "emotion",
    "muscle",
    "window",
    "response_weight",
    "planted_log_gain",
    "artefact",
]


def response_curve(tau: Any, a: Any, b: Any, c: Any) -> Any:
    """Continuous log-gain ``tau`` seconds after video onset whose 1-s window means equal the model's
    :func:`~mimicry.curve.curve` at ``t = window - 1``.

    With rate ``k = exp(c)``, the mean of ``exp(-k * (tau - 0.5))`` over window ``[t-1, t]`` is
    ``exp(-k * (t - 1)) * sinh(k/2) / (k/2)``; dividing by that factor makes the window means exact.
    """
    k = np.exp(c)
    return curve(a, a - (a - b) * (k / 2) / np.sinh(k / 2), c, np.asarray(tau, dtype=float) - 0.5)


@dataclass
class SimulatedRecording:
    """One participant's simulated session."""

    data: np.ndarray  #: EMG in volts, shape (n_channels, n_samples)
    channel_names: list[str]
    sfreq: float
    events: pd.DataFrame  #: one row per video (practice trials: block 0), BIDS events columns
    truth: pd.DataFrame  #: per experimental trial x muscle x window: planted log gain, artefact, weight


def simulate_responses(
    schedule: pd.DataFrame, parameters: Mapping[str, Any], *, video_s: float, tail_s: float, rng: np.random.Generator
) -> pd.DataFrame:
    """Response category and response time (s from video onset) of every trial.

    Presses cluster around the video's change point (shifted per participant) with Gaussian jitter and an
    exponential tail of late presses; presses after the video ended count as misses.
    """
    p = {c: parameters[f"p_{c}"] for c in RESPONSE_CATEGORIES[1:]}
    categories = np.array([categorical(rng, p, "correct") for _ in range(len(schedule))], dtype=object)
    rt = (
        schedule["change_point_s"].to_numpy(float)
        + parameters["rt_shift_s"]
        + rng.normal(0.0, parameters["rt_sd_s"], len(schedule))
        + rng.exponential(tail_s, len(schedule))
    )
    rt = np.maximum(rt, 0.25)
    categories[(rt >= video_s) & (categories != "miss")] = "miss"
    rt[categories == "miss"] = np.nan
    return pd.DataFrame({"response_time": np.round(rt, 4), "response": categories}, index=schedule.index)


def _ornstein_uhlenbeck(rng: np.random.Generator, n: int, dt: float, sd: float, timescale: float) -> np.ndarray:
    from scipy import signal  # here, not at the top: the workflow imports the simulator's package to plan runs

    phi = np.exp(-dt / timescale)
    noise = rng.normal(0.0, sd * np.sqrt(1.0 - phi**2), n)
    noise[0] = rng.normal(0.0, sd)
    return signal.lfilter([1.0], [1.0, -phi], noise)


def slow_process(rng: np.random.Generator, times: np.ndarray, sd: float, timescale: float) -> np.ndarray:
    """An OU process drawn on a 20-ms grid and interpolated to ``times`` (it is far slower than 50 Hz)."""
    step = 0.02
    grid = np.arange(0.0, times[-1] + 2 * step, step)
    return np.interp(times, grid, _ornstein_uhlenbeck(rng, len(grid), step, sd, timescale))


def _hann_bump(n: int) -> np.ndarray:
    return np.hanning(max(n, 3))[:n] if n > 0 else np.zeros(0)


def _schedule(
    parameters: Mapping[str, Any], stimuli: pd.DataFrame, simulation: SimulationSettings, rng: np.random.Generator
) -> tuple[pd.DataFrame, float]:
    """The session's trials in order, with onsets and key presses, and its duration (s)."""
    design, timing = simulation.design, simulation.timing
    trials = trial_order(
        stimuli,
        repetitions=design.repetitions,
        blocks=design.blocks,
        max_run=design.max_same_emotion_in_a_row,
        rng=rng,
    )
    schedule, duration = session_timeline(trials, stimuli, timing, rng)
    presses = simulate_responses(
        schedule, parameters, video_s=timing.video_s, tail_s=simulation.responses.rt_tail_s, rng=rng
    )
    return schedule.join(presses), duration


def _mains(times: np.ndarray, line: float, sfreq: float, rng: np.random.Generator) -> np.ndarray:
    """The shape of mains interference (unit fundamental): the harmonics below Nyquist, slowly wandering."""
    phase = rng.uniform(0, 2 * np.pi, len(MAINS_HARMONICS) + 1)
    return (1.0 + 0.2 * np.sin(2 * np.pi * times / 47.0 + phase[0])) * sum(
        weight * np.sin(2 * np.pi * h * line * times + p)
        for (h, weight), p in zip(MAINS_HARMONICS.items(), phase[1:], strict=True)
        if h * line < sfreq / 2
    )


def trial_response(a: float, b: float, c: float, video_s: float, sfreq: float) -> np.ndarray:
    """A trial's mimicry response in log gain from video onset: the curve while the video runs, then fading."""
    span = np.arange(int((video_s + 6 * DECAY_S) * sfreq)) / sfreq
    return np.where(
        span <= video_s,
        response_curve(span, a, b, c),
        response_curve(video_s, a, b, c) * np.exp(-(span - video_s) / DECAY_S),
    )


def draw_artefact(
    rng: np.random.Generator,
    rates: ArtefactRates,
    start: int,
    sfreq: float,
    video_s: float,
    log_gain: np.ndarray,
    spikes: np.ndarray,
) -> str:
    """Draw whether a trial (video onset at sample ``start``) has an artefact, add it to ``log_gain`` (a
    contraction) or ``spikes`` (an electrode pop, in volts) in place, and return its kind (or ``none``)."""
    artefact = "none"
    draw = rng.random()
    cumulative = 0.0
    for kind in ARTEFACT_KINDS:
        cumulative += getattr(rates, kind)
        if draw < cumulative:
            artefact = kind
            break
    if artefact == "burst":  # e.g. a swallow, a blink or speech: a strong, short contraction
        at = start + int(rng.uniform(0.0, video_s - 0.2) * sfreq)
        length = int(rng.uniform(0.2, 0.8) * sfreq)
        log_gain[at : at + length] += np.log(rng.uniform(2.5, 6.0)) * _hann_bump(len(log_gain[at : at + length]))
    elif artefact == "baseline":  # a contraction in the 500 ms before the video
        at = start - int(rng.uniform(0.2, 0.5) * sfreq)
        length = int(rng.uniform(0.1, 0.3) * sfreq)
        log_gain[at : at + length] += np.log(rng.uniform(2.0, 5.0)) * _hann_bump(length)
    elif artefact == "spike":  # an electrode pop: a step that decays within tens of ms
        at = start + int(rng.uniform(0.0, video_s) * sfreq)
        tail = np.exp(-np.arange(int(0.25 * sfreq)) / (0.03 * sfreq))
        stop = min(len(spikes), at + len(tail))
        spikes[at:stop] += rng.choice([-1, 1]) * rng.uniform(30.0, 150.0) * 1e-6 * tail[: stop - at]
    return artefact


def _channel(
    muscle: str,
    log_gain: np.ndarray,
    spikes: np.ndarray,
    parameters: Mapping[str, Any],
    simulation: SimulationSettings,
    recording: str,
    mains: np.ndarray,
    times: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """What the amplifier writes for one muscle (volts): broadband EMG (``raw``) or its envelope."""
    from scipy import signal

    emg, sfreq, n = simulation.emg, float(simulation.sampling_frequency), len(times)
    amplitude = parameters[f"amplitude_uv_{muscle}"] * 1e-6
    if recording == "envelope":
        level = np.hypot(amplitude * np.exp(log_gain), emg.amplifier_noise_uv * 1e-6)
        fluctuation = np.exp(rng.normal(0.0, ENVELOPE_FLUCTUATION_SD, n))
        return RECTIFIED_MEAN * level * fluctuation + np.abs(spikes)
    muscle_band = signal.butter(2, [20.0, min(450.0, 0.45 * sfreq)], btype="bandpass", fs=sfreq, output="sos")
    carrier = signal.sosfilt(muscle_band, rng.standard_normal(n))
    carrier /= carrier.std()
    drift = slow_process(rng, times, emg.drift_sd_uv * 1e-6, 30.0)
    return (
        amplitude * np.exp(log_gain) * carrier
        + spikes
        + drift
        + parameters[f"dc_offset_uv_{muscle}"] * 1e-6
        + parameters[f"mains_uv_{muscle}"] * 1e-6 * mains
        + rng.normal(0.0, emg.amplifier_noise_uv * 1e-6, n)
    )


def _events(schedule: pd.DataFrame, sfreq: float) -> pd.DataFrame:
    """The BIDS events table: one row per video."""
    return pd.DataFrame(
        {
            "onset": schedule["onset"].round(4),
            "duration": schedule["duration"],
            "trial_type": schedule["trial_type"],
            "trial": schedule["trial"],
            "block": schedule["block"],
            "video": schedule["video"],
            "face": schedule["face"],
            "fixation_duration": schedule["fixation_s"].round(4),
            "response_time": schedule["response_time"],
            "response": schedule["response"],
            "sample": (schedule["onset"].round(4) * sfreq).round().astype(int),
        }
    )


def simulate_recording(
    label: str,
    parameters: Mapping[str, Any],
    effects: pd.DataFrame,
    stimuli: pd.DataFrame,
    simulation: SimulationSettings,
    study: Study,
    recording: str,
    session: str | None = None,
) -> SimulatedRecording:
    """Simulate one participant's session (``session``: its label in a crossover, whose sessions draw apart):
    trial order, responses and the EMG of every muscle, as broadband EMG (``recording="raw"``) or as the
    amplifier's amplitude envelope (``"envelope"``)."""
    keys = [int(simulation.seed), 1, int(label)] + ([] if session is None else [int(session)])
    rng = np.random.default_rng(keys)
    schedule, duration = _schedule(parameters, stimuli, simulation, rng)
    sfreq = float(simulation.sampling_frequency)
    n = int(round(duration * sfreq))
    times = np.arange(n) / sfreq
    video_s = float(simulation.timing.video_s)
    mains = _mains(times, float(simulation.line_frequency), sfreq, rng)
    curves = effects.set_index(["muscle", "emotion"])
    experimental = schedule["block"] > 0
    truth_rows = []
    data = np.empty((len(study.muscles), n))
    for m, muscle in enumerate(study.muscles):
        log_gain = slow_process(rng, times, simulation.tonic_sd, simulation.tonic_timescale_s)
        spikes = np.zeros(n)
        for i, trial in schedule.iterrows():
            start = int(round(trial["onset"] * sfreq))
            a, b, c = curves.loc[(muscle, trial["trial_type"])][["a", "b", "c"]]
            weight = rng.normal(1.0, simulation.trial_response_sd)
            response = trial_response(a, b, c, video_s, sfreq)
            stop = min(n, start + len(response))
            log_gain[start:stop] += weight * response[: stop - start]
            artefact = draw_artefact(rng, simulation.artefacts, start, sfreq, video_s, log_gain, spikes)
            if experimental[i]:
                trial_keys = (label, int(trial["trial"]), int(trial["block"]), trial["video"], trial["face"])
                truth_rows += [
                    (*trial_keys, trial["trial_type"], muscle, int(w), weight, float(weight * curve(a, b, c, w - 1.0)))
                    + (artefact,)
                    for w in WINDOWS
                ]
        data[m] = _channel(muscle, log_gain, spikes, parameters, simulation, recording, mains, times, rng)
    truth = pd.DataFrame(truth_rows, columns=TRUTH_COLUMNS)
    if session is not None:
        truth.insert(1, "session", session)
    return SimulatedRecording(
        data=data,
        channel_names=[study.channels[m] for m in study.muscles],
        sfreq=sfreq,
        events=_events(schedule, sfreq),
        truth=truth,
    )


# BIDS-EMG says how the amplifier processed the signal in HardwareFilters
_ENVELOPE_SIDECAR: dict[str, dict[str, Any]] = {
    "raw": {},
    "envelope": {
        "HardwareFilters": {"Envelope": {"Description": "band-pass 20-450 Hz, full-wave rectified, integrated ~25 ms"}}
    },
}


def write_simulated_recording(
    recording: SimulatedRecording,
    root: str | Path,
    label: str,
    study: Study,
    line_frequency: float,
    kind: str,
    session: str | None = None,
) -> RecordingFiles:
    """Write participant ``label``'s simulated recording (``kind``: ``raw`` or ``envelope``; in ``session``, if
    the study has sessions) as BIDS-EMG under ``root``; returns its paths."""
    files = recording_files(root, label, study.task, session)
    write_recording(
        files,
        recording.data,
        recording.channel_names,
        list(study.muscles),
        recording.sfreq,
        recording.events,
        task=study.task,
        line_frequency=line_frequency,
        sidecar_extra={"Manufacturer": "simulated (g.tec g.USBamp settings)", **_ENVELOPE_SIDECAR[kind]},
    )
    return files
