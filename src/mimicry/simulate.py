"""A facial-mimicry pharmacology study simulator with known ground truth.

The simulated study follows Korb et al. (2023): participants in drug groups (Table 1 demographics) watch
morphing faces (96 trials) while the EMG of corrugator supercilii and zygomaticus major is recorded at
1200 Hz, and press a key when the expression changes.

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

Everything is drawn from ``numpy.random.Generator`` streams derived from one seed: the study-level stream for
participants and their parameters, and one stream per participant (``[seed, 1, number]``) for the recording,
so each participant's recording is reproducible on its own, in any job order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mimicry.bayes.model import curve
from mimicry.design import session_timeline, trial_order
from mimicry.study import RESPONSE_CATEGORIES, Study

WINDOWS = np.arange(1, 6)  # the five 1-s windows of the 5-s video
#: mean of a rectified Gaussian per unit SD
RECTIFIED_MEAN = float(np.sqrt(2.0 / np.pi))
#: log-SD of an envelope sample: a rectified 20-450 Hz carrier integrated over ~25 ms averages ~20 independent
#: samples of relative SD 0.76
ENVELOPE_FLUCTUATION_SD = 0.17
ARTEFACT_KINDS = ("burst", "spike", "baseline")

# Table 1 of Korb et al. (2023): per group, share of females, mean (SD) of age, BMI, hours from pill,
# PANAS change (t1 - t2), guess probabilities and nausea scores (1-5) at t1/t2.
TABLE1: dict[str, dict[str, Any]] = {
    "amisulpride": dict(
        female=28 / 42,
        age=(23.7, 4.2),
        bmi=(22.67, 2.56),
        hours=(4.2, 0.2),
        panas_pos_change=(3.5, 4.8),
        panas_neg_change=(1.2, 1.5),
        guess={"placebo": 24 / 42, "amisulpride": 7 / 42, "naltrexone": 11 / 42},
        nausea_t1={2: 0.05},
        nausea_t2={},
    ),
    "naltrexone": dict(
        female=30 / 44,
        age=(22.9, 2.8),
        bmi=(23.01, 2.31),
        hours=(4.2, 0.3),
        panas_pos_change=(5.1, 4.9),
        panas_neg_change=(2.3, 5.5),
        guess={"placebo": 18 / 44, "amisulpride": 13 / 44, "naltrexone": 13 / 44},
        nausea_t1={2: 0.02},
        nausea_t2={2: 0.08, 3: 0.06},
    ),
    "placebo": dict(
        female=29 / 44,
        age=(22.9, 3.6),
        bmi=(22.15, 2.60),
        hours=(4.1, 0.2),
        panas_pos_change=(2.7, 3.7),
        panas_neg_change=(1.0, 1.8),
        guess={"placebo": 22 / 44, "amisulpride": 11 / 44, "naltrexone": 11 / 44},
        nausea_t1={},
        nausea_t2={},
    ),
}
# Groups a user names that the paper does not have get the paper's pooled figures and uniform guesses.
POOLED: dict[str, Any] = dict(
    female=87 / 130,
    age=(23.2, 3.55),
    bmi=(22.6, 2.49),
    hours=(4.2, 0.25),
    panas_pos_change=(3.7, 4.6),
    panas_neg_change=(1.44, 3.5),
    guess=None,
    nausea_t1={},
    nausea_t2={},
)
PANAS_MISSING = 0.035  # the paper's PANAS tests have 4-5 fewer df than participants


def response_curve(tau: Any, a: Any, b: Any, c: Any) -> Any:
    """Continuous log-gain ``tau`` seconds after video onset whose 1-s window means equal the model's
    :func:`~mimicry.bayes.model.curve` at ``t = window - 1``.

    With rate ``k = exp(c)``, the mean of ``exp(-k * (tau - 0.5))`` over window ``[t-1, t]`` is
    ``exp(-k * (t - 1)) * sinh(k/2) / (k/2)``; dividing by that factor makes the window means exact.
    """
    k = np.exp(c)
    return curve(a, a - (a - b) * (k / 2) / np.sinh(k / 2), c, np.asarray(tau, dtype=float) - 0.5)


#: Mains interference: the amplitude of each harmonic of the line frequency relative to the fundamental (the
#: fundamental and odd harmonics dominate; the amplitude wanders slowly).
MAINS_HARMONICS = {1: 1.0, 2: 0.05, 3: 0.1, 5: 0.03}


def planted_conditions(simulation: Mapping[str, Any], study: Study) -> pd.DataFrame:
    """Population values of ``a``, ``b``, ``c`` per group x muscle x emotion, drug effects included."""
    rows = []
    for group in study.groups:
        for muscle in study.muscles:
            for emotion in study.emotions:
                base = simulation["response"][muscle][emotion]
                rows.append(
                    dict(
                        group=group,
                        muscle=muscle,
                        emotion=emotion,
                        a=float(base["a"]),
                        b=0.0,
                        c=float(base["c"]),
                        drug_effect_a=0.0,
                        drug_effect_c=0.0,
                    )
                )
    conditions = pd.DataFrame(rows)
    for effect in simulation.get("drug_effects", []):
        hit = (
            (conditions["group"] == effect["group"])
            & (conditions["muscle"] == effect["muscle"])
            & (conditions["emotion"] == effect["emotion"])
        )
        if not hit.any():
            raise ValueError(f"drug effect {dict(effect)} names no group x muscle x emotion of the study")
        conditions.loc[hit, "drug_effect_a"] += float(effect.get("asymptote", 0.0))
        conditions.loc[hit, "drug_effect_c"] += float(effect.get("rate", 0.0))
    conditions["a"] += conditions["drug_effect_a"]
    conditions["c"] += conditions["drug_effect_c"]
    return conditions


def participant_labels(simulation: Mapping[str, Any]) -> list[str]:
    """BIDS labels of the simulated participants: ``001``, ``002``, ... (zero-padded to 3 digits at least)."""
    n = sum(simulation["participants_per_group"].values())
    width = max(3, len(str(n)))
    return [f"{i:0{width}d}" for i in range(1, n + 1)]


def _categorical(rng: np.random.Generator, probabilities: Mapping[Any, float], default: Any) -> Any:
    """One draw from ``{value: probability}``; the remaining mass goes to ``default``."""
    values = [*probabilities, default]
    p = [*probabilities.values(), 1.0 - sum(probabilities.values())]
    return values[int(rng.choice(len(values), p=p))]


def _skewed(rng: np.random.Generator, mean: float, sd: float) -> float:
    """A gamma draw with this mean and SD: right-skewed and positive, like age above 18 or PANAS- above its floor."""
    return float(rng.gamma((mean / sd) ** 2, sd**2 / mean))


def _truncated_normal(rng: np.random.Generator, mean: float, sd: float, low: float, high: float) -> float:
    while True:
        x = rng.normal(mean, sd)
        if low <= x <= high:
            return float(x)


def simulate_participants(
    simulation: Mapping[str, Any], study: Study
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Draw the participants: BIDS ``participants.tsv`` rows, hidden per-participant parameters, and effects.

    Returns ``(participants, parameters, effects)``:

    - ``participants``: participant_id, group, sex, age, bmi, hours_from_pill, PANAS t1/t2, guess, nausea t1/t2;
    - ``parameters``: per participant and muscle, the nuisance parameters of the recording (amplitude, DC
      offset, mains amplitude) and the response-time parameters;
    - ``effects``: per participant x muscle x emotion, the participant's own ``a``, ``b``, ``c`` (population
      value + drug effect + participant deviation): the ground truth of the mimicry response.
    """
    rng = np.random.default_rng([int(simulation["seed"]), 0])
    labels = participant_labels(simulation)
    groups = np.concatenate([[g] * int(n) for g, n in simulation["participants_per_group"].items()])
    groups = groups[rng.permutation(len(groups))]  # randomised allocation

    people = []
    for label, group in zip(labels, groups, strict=True):
        table = TABLE1.get(group, POOLED)
        guess_p = table["guess"]
        if guess_p is None or not set(guess_p) <= set(study.groups):
            guess_p = {g: 1 / len(study.groups) for g in study.groups}
        panas_pos_t1 = int(np.clip(round(rng.normal(31.0, 6.0)), 10, 50))
        panas_neg_t1 = int(np.clip(round(10 + _skewed(rng, 4.5, 3.5)), 10, 50))  # floored at 10, right-skewed
        panas_pos_t2 = int(np.clip(panas_pos_t1 - round(rng.normal(*table["panas_pos_change"])), 10, 50))
        neg_change = round(rng.normal(*table["panas_neg_change"]))
        panas_neg_t1 = max(panas_neg_t1, 10 + neg_change)  # a large drop needs a high start: the scale ends at 10
        panas_neg_t2 = int(np.clip(panas_neg_t1 - neg_change, 10, 50))
        people.append(
            dict(
                participant_id=f"sub-{label}",
                group=group,
                sex="F" if rng.random() < table["female"] else "M",
                age=int(min(35, round(18 + _skewed(rng, table["age"][0] - 18, table["age"][1])))),
                bmi=round(min(29.3, 17.7 + _skewed(rng, table["bmi"][0] - 17.7, table["bmi"][1])), 2),
                hours_from_pill=round(_truncated_normal(rng, table["hours"][0], table["hours"][1], 3.5, 5.0), 2),
                panas_pos_t1=panas_pos_t1,
                panas_pos_t2=pd.NA if rng.random() < PANAS_MISSING else panas_pos_t2,
                panas_neg_t1=panas_neg_t1,
                panas_neg_t2=pd.NA if rng.random() < PANAS_MISSING else panas_neg_t2,
                guess=str(rng.choice(list(guess_p), p=list(guess_p.values()))),
                nausea_t1=_categorical(rng, table["nausea_t1"], 1),
                nausea_t2=_categorical(rng, table["nausea_t2"], 1),
            )
        )
    participants = pd.DataFrame(people)
    for column in ("panas_pos_t2", "panas_neg_t2"):
        participants[column] = participants[column].astype("Int64")

    emg = simulation["emg"]
    responses = simulation["responses"]
    parameters = []
    for label, group in zip(labels, groups, strict=True):
        mains = emg["mains_amplitude_uv"] * rng.lognormal(0.0, 0.5)
        row: dict[str, Any] = dict(participant=label, group=group)
        for muscle in study.muscles:
            row[f"amplitude_uv_{muscle}"] = emg["baseline_amplitude_uv"][muscle] * rng.lognormal(
                0.0, emg["amplitude_sd_log"]
            )
            row[f"dc_offset_uv_{muscle}"] = rng.normal(0.0, emg["dc_offset_sd_uv"])
            row[f"mains_uv_{muscle}"] = mains * rng.lognormal(0.0, 0.3)
        row["rt_shift_s"] = rng.normal(0.0, responses["change_point_sd_s"])
        row["rt_sd_s"] = responses["rt_sd_s"] * rng.lognormal(0.0, 0.25)
        for category in RESPONSE_CATEGORIES[1:]:
            row[f"p_{category}"] = rng.beta(2.0, 2.0 / responses[category] - 2.0)  # mean = configured rate
        parameters.append(row)

    conditions = planted_conditions(simulation, study).set_index(["group", "muscle", "emotion"])
    sd = simulation["participant_sd"]
    effects = []
    for label, group in zip(labels, groups, strict=True):
        for muscle in study.muscles:
            for emotion in study.emotions:
                population = conditions.loc[(group, muscle, emotion)]
                effects.append(
                    dict(
                        participant=label,
                        group=group,
                        muscle=muscle,
                        emotion=emotion,
                        a=population["a"] + rng.normal(0.0, sd["a"]),
                        b=population["b"] + rng.normal(0.0, sd["b"]),
                        c=population["c"] + rng.normal(0.0, sd["c"]),
                    )
                )
    return participants, pd.DataFrame(parameters), pd.DataFrame(effects)


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
    categories = np.array([_categorical(rng, p, "correct") for _ in range(len(schedule))], dtype=object)
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
    phi = np.exp(-dt / timescale)
    noise = rng.normal(0.0, sd * np.sqrt(1.0 - phi**2), n)
    noise[0] = rng.normal(0.0, sd)
    from scipy import signal  # here, not at the top: the workflow imports this module to plan every run

    return signal.lfilter([1.0], [1.0, -phi], noise)


def _slow_process(rng: np.random.Generator, times: np.ndarray, sd: float, timescale: float) -> np.ndarray:
    """An OU process drawn on a 20-ms grid and interpolated to ``times`` (it is far slower than 50 Hz)."""
    step = 0.02
    grid = np.arange(0.0, times[-1] + 2 * step, step)
    return np.interp(times, grid, _ornstein_uhlenbeck(rng, len(grid), step, sd, timescale))


def _hann_bump(n: int) -> np.ndarray:
    return np.hanning(max(n, 3))[:n] if n > 0 else np.zeros(0)


def simulate_recording(
    label: str,
    parameters: Mapping[str, Any],
    effects: pd.DataFrame,
    stimuli: pd.DataFrame,
    simulation: Mapping[str, Any],
    study: Study,
    recording: str = "raw",
) -> SimulatedRecording:
    """Simulate one participant's session: trial order, responses and the EMG of every muscle, as broadband
    EMG (``recording="raw"``) or as the amplifier's amplitude envelope (``"envelope"``)."""
    from scipy import signal

    rng = np.random.default_rng([int(simulation["seed"]), 1, int(label)])
    design, timing = simulation["design"], simulation["timing"]
    trials = trial_order(
        stimuli,
        repetitions=design["repetitions"],
        blocks=design["blocks"],
        max_run=design["max_same_emotion_in_a_row"],
        rng=rng,
    )
    schedule, duration = session_timeline(trials, stimuli, timing, rng)
    schedule = schedule.join(
        simulate_responses(
            schedule, parameters, video_s=timing["video_s"], tail_s=simulation["responses"]["rt_tail_s"], rng=rng
        )
    )

    sfreq = float(simulation["sampling_frequency"])
    n = int(round(duration * sfreq))
    times = np.arange(n) / sfreq
    video_s = float(timing["video_s"])
    line = float(simulation["line_frequency"])
    mains_phase = rng.uniform(0, 2 * np.pi, len(MAINS_HARMONICS) + 1)
    mains_shape = (1.0 + 0.2 * np.sin(2 * np.pi * times / 47.0 + mains_phase[0])) * sum(
        weight * np.sin(2 * np.pi * h * line * times + phase)
        for (h, weight), phase in zip(MAINS_HARMONICS.items(), mains_phase[1:], strict=True)
        if h * line < sfreq / 2
    )
    emg = simulation["emg"]
    artefact_rates = simulation["artefacts"]
    effects = effects.set_index(["muscle", "emotion"])
    experimental = schedule["block"] > 0
    truth_rows = []
    data = np.empty((len(study.muscles), n))
    decay_s = 0.4  # the response fades after the video ends, long before the next baseline
    response_span = np.arange(int((video_s + 6 * decay_s) * sfreq)) / sfreq

    for m, muscle in enumerate(study.muscles):
        log_gain = _slow_process(rng, times, simulation["tonic_sd"], simulation["tonic_timescale_s"])
        spikes = np.zeros(n)
        for i, trial in schedule.iterrows():
            start = int(round(trial["onset"] * sfreq))
            a, b, c = effects.loc[(muscle, trial["trial_type"])][["a", "b", "c"]]
            weight = rng.normal(1.0, simulation["trial_response_sd"])
            response = np.where(
                response_span <= video_s,
                response_curve(response_span, a, b, c),
                response_curve(video_s, a, b, c) * np.exp(-(response_span - video_s) / decay_s),
            )
            stop = min(n, start + len(response))
            log_gain[start:stop] += weight * response[: stop - start]

            artefact = "none"
            draw = rng.random()
            cumulative = 0.0
            for kind in ARTEFACT_KINDS:
                cumulative += artefact_rates[kind]
                if draw < cumulative:
                    artefact = kind
                    break
            if artefact == "burst":  # e.g. a swallow, a blink or speech: a strong, short contraction
                at = start + int(rng.uniform(0.0, video_s - 0.2) * sfreq)
                length = int(rng.uniform(0.2, 0.8) * sfreq)
                log_gain[at : at + length] += np.log(rng.uniform(2.5, 6.0)) * _hann_bump(
                    len(log_gain[at : at + length])
                )
            elif artefact == "baseline":  # a contraction in the 500 ms before the video
                at = start - int(rng.uniform(0.2, 0.5) * sfreq)
                length = int(rng.uniform(0.1, 0.3) * sfreq)
                log_gain[at : at + length] += np.log(rng.uniform(2.0, 5.0)) * _hann_bump(length)
            elif artefact == "spike":  # an electrode pop: a step that decays within tens of ms
                at = start + int(rng.uniform(0.0, video_s) * sfreq)
                tail = np.exp(-np.arange(int(0.25 * sfreq)) / (0.03 * sfreq))
                stop_spike = min(n, at + len(tail))
                spikes[at:stop_spike] += rng.choice([-1, 1]) * rng.uniform(30.0, 150.0) * 1e-6 * tail[: stop_spike - at]

            if experimental[i]:
                for window in WINDOWS:
                    truth_rows.append(
                        (
                            label,
                            int(trial["trial"]),
                            int(trial["block"]),
                            trial["video"],
                            trial["face"],
                            trial["trial_type"],
                            muscle,
                            int(window),
                            weight,
                            float(weight * curve(a, b, c, window - 1.0)),
                            artefact,
                        )
                    )

        amplitude = parameters[f"amplitude_uv_{muscle}"] * 1e-6
        if recording == "envelope":
            level = np.hypot(amplitude * np.exp(log_gain), emg["amplifier_noise_uv"] * 1e-6)
            fluctuation = np.exp(rng.normal(0.0, ENVELOPE_FLUCTUATION_SD, n))
            data[m] = RECTIFIED_MEAN * level * fluctuation + np.abs(spikes)
            continue
        muscle_band = signal.butter(2, [20.0, min(450.0, 0.45 * sfreq)], btype="bandpass", fs=sfreq, output="sos")
        carrier = signal.sosfilt(muscle_band, rng.standard_normal(n))
        carrier /= carrier.std()
        drift = _slow_process(rng, times, emg["drift_sd_uv"] * 1e-6, 30.0)
        data[m] = (
            amplitude * np.exp(log_gain) * carrier
            + spikes
            + drift
            + parameters[f"dc_offset_uv_{muscle}"] * 1e-6
            + parameters[f"mains_uv_{muscle}"] * 1e-6 * mains_shape
            + rng.normal(0.0, emg["amplifier_noise_uv"] * 1e-6, n)
        )

    events = pd.DataFrame(
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
    truth = pd.DataFrame(
        truth_rows,
        columns=[
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
        ],
    )
    return SimulatedRecording(
        data=data, channel_names=[study.channels[m] for m in study.muscles], sfreq=sfreq, events=events, truth=truth
    )


def window_trials(
    effects: pd.DataFrame,
    stimuli: pd.DataFrame,
    *,
    repetitions: int,
    trial_response_sd: float,
    noise_sd: float,
    seed: int,
) -> pd.DataFrame:
    """Trial x window log-EMG values straight from the participants' planted curves, without simulating EMG.

    Each trial of each participant x muscle x emotion is the participant's curve scaled by a trial weight
    (``N(1, trial_response_sd)``) plus Gaussian noise (``noise_sd``) per window; every video is shown
    ``repetitions`` times. For checking the statistics against planted effects quickly; the columns are those
    of ``emg_windows`` that the models use.
    """
    rng = np.random.default_rng([seed, 2])
    rows = []
    for (participant, group, muscle, emotion), cell in effects.groupby(["participant", "group", "muscle", "emotion"]):
        a, b, c = cell[["a", "b", "c"]].iloc[0]
        means = curve(a, b, c, WINDOWS - 1.0)
        videos = stimuli[stimuli["trial_type"] == emotion]
        for r in range(repetitions):
            for _, video in videos.iterrows():
                values = rng.normal(1.0, trial_response_sd) * means + rng.normal(0.0, noise_sd, len(WINDOWS))
                rows += [
                    (participant, group, f"{video['video']}-{r}", video["face"], emotion, muscle, int(w), v)
                    for w, v in zip(WINDOWS, values, strict=True)
                ]
    table = pd.DataFrame(
        rows, columns=["participant", "group", "trial", "face", "emotion", "muscle", "window", "log_emg"]
    )
    return table.assign(rejected=False)
