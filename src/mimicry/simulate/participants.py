"""The simulated participants: who they are (participants.tsv), the hidden parameters of their recordings, and
their own mimicry curves (population value + drug effect + participant deviation: the ground truth)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from mimicry.settings import SimulationSettings
from mimicry.simulate.paper import PANAS_MISSING, POOLED, TABLE1
from mimicry.study import RESPONSE_CATEGORIES, Study


def planted_conditions(simulation: SimulationSettings, study: Study) -> pd.DataFrame:
    """Population values of ``a``, ``b``, ``c`` per group x muscle x emotion, drug effects included."""
    rows = [
        dict(
            group=group,
            muscle=muscle,
            emotion=emotion,
            a=float(simulation.response[muscle][emotion].a),
            b=0.0,
            c=float(simulation.response[muscle][emotion].c),
            drug_effect_a=0.0,
            drug_effect_c=0.0,
        )
        for group in study.groups
        for muscle in study.muscles
        for emotion in study.emotions
    ]
    conditions = pd.DataFrame(rows)
    for effect in simulation.drug_effects:
        hit = (
            (conditions["group"] == effect.group)
            & (conditions["muscle"] == effect.muscle)
            & (conditions["emotion"] == effect.emotion)
        )
        if not hit.any():
            raise ValueError(f"drug effect {effect} names no group x muscle x emotion of the study")
        conditions.loc[hit, "drug_effect_a"] += float(effect.asymptote)
        conditions.loc[hit, "drug_effect_c"] += float(effect.rate)
    conditions["a"] += conditions["drug_effect_a"]
    conditions["c"] += conditions["drug_effect_c"]
    return conditions


def categorical(rng: np.random.Generator, probabilities: Mapping[Any, float], default: Any) -> Any:
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


def _person(rng: np.random.Generator, label: str, group: str, study: Study) -> dict[str, Any]:
    """One participants.tsv row, drawn from the group's Table 1 figures."""
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
    return dict(
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
        nausea_t1=categorical(rng, table["nausea_t1"], 1),
        nausea_t2=categorical(rng, table["nausea_t2"], 1),
    )


def _recording_parameters(
    rng: np.random.Generator, label: str, group: str, simulation: SimulationSettings, study: Study
) -> dict[str, Any]:
    """A participant's hidden nuisance parameters: per muscle amplitude, DC offset and mains; response times."""
    emg, responses = simulation.emg, simulation.responses
    mains = emg.mains_amplitude_uv * rng.lognormal(0.0, 0.5)
    row: dict[str, Any] = dict(participant=label, group=group)
    for muscle in study.muscles:
        row[f"amplitude_uv_{muscle}"] = emg.baseline_amplitude_uv[muscle] * rng.lognormal(0.0, emg.amplitude_sd_log)
        row[f"dc_offset_uv_{muscle}"] = rng.normal(0.0, emg.dc_offset_sd_uv)
        row[f"mains_uv_{muscle}"] = mains * rng.lognormal(0.0, 0.3)
    row["rt_shift_s"] = rng.normal(0.0, responses.change_point_sd_s)
    row["rt_sd_s"] = responses.rt_sd_s * rng.lognormal(0.0, 0.25)
    for category in RESPONSE_CATEGORIES[1:]:
        rate = getattr(responses, category)
        row[f"p_{category}"] = rng.beta(2.0, 2.0 / rate - 2.0)  # mean = configured rate
    return row


def simulate_participants(
    simulation: SimulationSettings, study: Study
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Draw the participants: BIDS ``participants.tsv`` rows, hidden per-participant parameters, and effects.

    Returns ``(participants, parameters, effects)``:

    - ``participants``: participant_id, group, sex, age, bmi, hours_from_pill, PANAS t1/t2, guess, nausea t1/t2;
    - ``parameters``: per participant and muscle, the nuisance parameters of the recording (amplitude, DC
      offset, mains amplitude) and the response-time parameters;
    - ``effects``: per participant x muscle x emotion, the participant's own ``a``, ``b``, ``c`` (population
      value + drug effect + participant deviation): the ground truth of the mimicry response.
    """
    rng = np.random.default_rng([int(simulation.seed), 0])
    labels = simulation.participant_labels()
    groups = np.concatenate([[g] * int(n) for g, n in simulation.participants_per_group.items()])
    groups = groups[rng.permutation(len(groups))]  # randomised allocation
    people = list(zip(labels, groups, strict=True))

    participants = pd.DataFrame([_person(rng, label, group, study) for label, group in people])
    for column in ("panas_pos_t2", "panas_neg_t2"):
        participants[column] = participants[column].astype("Int64")
    parameters = pd.DataFrame([_recording_parameters(rng, label, group, simulation, study) for label, group in people])

    conditions = planted_conditions(simulation, study).set_index(["group", "muscle", "emotion"])
    sd = simulation.participant_sd
    effects = []
    for label, group in people:
        for muscle in study.muscles:
            for emotion in study.emotions:
                population = conditions.loc[(group, muscle, emotion)]
                effects.append(
                    dict(
                        participant=label,
                        group=group,
                        muscle=muscle,
                        emotion=emotion,
                        a=population["a"] + rng.normal(0.0, sd.a),
                        b=population["b"] + rng.normal(0.0, sd.b),
                        c=population["c"] + rng.normal(0.0, sd.c),
                    )
                )
    return participants, parameters, pd.DataFrame(effects)
