"""The simulated crossover: every participant receives every drug, one per session, in the balanced sequences of
a Williams design; a period effect, each participant's own drug effects and an optional carry-over act beside the
planted drug effects (the ground truth, per participant x session)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mimicry.bids.layout import CROSSOVER_PARTICIPANTS_COLUMNS, SESSIONS_COLUMNS
from mimicry.settings import SimulationSettings
from mimicry.simulate.paper import POOLED, TABLE1
from mimicry.simulate.participants import (
    _recording_parameters,
    _skewed,
    _truncated_normal,
    categorical,
    planted_conditions,
)
from mimicry.study import Study


def williams_sequences(drugs: tuple[str, ...] | list[str]) -> list[tuple[str, ...]]:
    """The sequences of a Williams design for ``drugs``: each drug once in every period and, over the sequences,
    after every other drug equally often (first-order carry-over balanced). ``n`` sequences for an even number of
    drugs, ``2n`` (each with its mirror) for an odd one."""
    n = len(drugs)
    # the first sequence 0, 1, n-1, 2, n-2, ...; the others shift it by one
    first, low, high = [0], 1, n - 1
    while len(first) < n:
        first.append(low)
        low += 1
        if len(first) < n:
            first.append(high)
            high -= 1
    rows = [[(drug + shift) % n for drug in first] for shift in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return [tuple(drugs[i] for i in row) for row in rows]


def _participant(rng: np.random.Generator, label: str) -> dict[str, Any]:
    """One participants.tsv row of a crossover: who the participant is (the sessions say what they received)."""
    return dict(
        participant_id=f"sub-{label}",
        sex="F" if rng.random() < POOLED["female"] else "M",
        age=int(min(35, round(18 + _skewed(rng, POOLED["age"][0] - 18, POOLED["age"][1])))),
        bmi=round(min(29.3, 17.7 + _skewed(rng, POOLED["bmi"][0] - 17.7, POOLED["bmi"][1])), 2),
    )


def _session(rng: np.random.Generator, label: str, drug: str, period: int, study: Study) -> dict[str, Any]:
    """One session of a participant: the drug, its period, and the drug's Table 1 figures (time from pill,
    blinding guess, nausea)."""
    table = TABLE1.get(drug, POOLED)
    guess_p = table["guess"]
    if guess_p is None or not set(guess_p) <= set(study.groups):
        guess_p = {g: 1 / len(study.groups) for g in study.groups}
    return dict(
        participant=label,
        session_id=f"ses-{period}",
        drug=drug,
        period=period,
        hours_from_pill=round(_truncated_normal(rng, table["hours"][0], table["hours"][1], 3.5, 5.0), 2),
        guess=str(rng.choice(list(guess_p), p=list(guess_p.values()))),
        nausea_t1=categorical(rng, table["nausea_t1"], 1),
        nausea_t2=categorical(rng, table["nausea_t2"], 1),
    )


def simulate_crossover(
    simulation: SimulationSettings, study: Study
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Draw a crossover's participants, their sessions and the truth of each recording.

    Returns ``(participants, sessions, parameters, effects)``:

    - ``participants``: participants.tsv rows (participant_id, sex, age, bmi);
    - ``sessions``: one row per participant x session (participant, then each sessions file's columns:
      session_id ``ses-<period>``, drug, period, hours_from_pill, guess, nausea t1/t2); participants are given the
      Williams sequences in turn, in a random order;
    - ``parameters``: the recordings' nuisance parameters, per participant (as in a between design);
    - ``effects``: per participant x session x muscle x emotion, the participant's own ``a``, ``b``, ``c`` in that
      session: population value + drug effect + the participant's deviation (shared by their sessions) + their own
      drug effect (participant x drug, ``crossover.drug_sd``) + the period effect (asymptote, per period after
      the first) + the carry-over of the previous session's drug effect (``crossover.carryover``).
    """
    crossover = simulation.crossover
    rng = np.random.default_rng([int(simulation.seed), 2])
    labels = simulation.participant_labels(crossover=True)
    sequences = williams_sequences(study.groups)
    order = rng.permutation(len(labels))
    given = {label: sequences[int(rank) % len(sequences)] for label, rank in zip(labels, order, strict=True)}

    participants = pd.DataFrame([_participant(rng, label) for label in labels])[list(CROSSOVER_PARTICIPANTS_COLUMNS)]
    sessions = pd.DataFrame(
        [
            _session(rng, label, drug, period, study)
            for label in labels
            for period, drug in enumerate(given[label], start=1)
        ]
    )[["participant", *SESSIONS_COLUMNS]]
    parameters = pd.DataFrame([_recording_parameters(rng, label, "n/a", simulation, study) for label in labels]).drop(
        columns="group"
    )

    conditions = planted_conditions(simulation, study).set_index(["group", "muscle", "emotion"])
    sd, drug_sd = simulation.participant_sd, crossover.drug_sd
    effects = []
    for label in labels:
        for muscle in study.muscles:
            for emotion in study.emotions:
                own = {key: rng.normal(0.0, getattr(sd, key)) for key in "abc"}
                own_drug = {
                    drug: {key: rng.normal(0.0, getattr(drug_sd, key)) for key in "abc"} for drug in study.groups
                }
                previous = None
                for period, drug in enumerate(given[label], start=1):
                    population = conditions.loc[(drug, muscle, emotion)]
                    carried = {"a": 0.0, "c": 0.0}
                    if previous is not None:
                        before = conditions.loc[(previous, muscle, emotion)]
                        carried = {
                            "a": crossover.carryover * before["drug_effect_a"],
                            "c": crossover.carryover * before["drug_effect_c"],
                        }
                    effects.append(
                        dict(
                            participant=label,
                            session=str(period),
                            group=drug,
                            period=period,
                            muscle=muscle,
                            emotion=emotion,
                            a=population["a"]
                            + own["a"]
                            + own_drug[drug]["a"]
                            + crossover.period_effect_a * (period - 1)
                            + carried["a"],
                            b=population["b"] + own["b"] + own_drug[drug]["b"],
                            c=population["c"] + own["c"] + own_drug[drug]["c"] + carried["c"],
                        )
                    )
                    previous = drug
    return participants, sessions, parameters, pd.DataFrame(effects)
