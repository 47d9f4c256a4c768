"""The joint test's false-positive rate over simulated null studies, from raw recordings.

Every fork of the multiverse acts before the window values (the band-pass, notch and envelope on the signal; the
baseline, the outlier rule and the window length on the epochs), so no fork can be drawn by the power analysis's
fast path: each null study is simulated as broadband EMG with no drug effect, written and read as BIDS-EMG, and
preprocessed in every universe by the participant job's own functions, then tested as the workflow tests.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from mimicry.bids.write import write_dataset_description, write_participants
from mimicry.emg import load_recording
from mimicry.multiverse.estimands import study_summaries
from mimicry.multiverse.forks import plan, universes
from mimicry.multiverse.joint import joint_tests
from mimicry.multiverse.participant import universe_means
from mimicry.multiverse.tables import gathered_means, universe_table
from mimicry.settings import EmgSettings, SimulationSettings
from mimicry.simulate.participants import simulate_participants
from mimicry.simulate.recording import simulate_recording, write_simulated_recording
from mimicry.study import Study
from mimicry.task import load_stimuli

#: Columns of the rejection-rate table: per estimand and joint statistic, over the null studies.
RATE_COLUMNS = ("estimand", "statistic", "studies", "rejected", "rate", "ci_low", "ci_high")


def study_seed(seed: int, number: int) -> int:
    """The simulator's and the permutations' seed of null study ``number`` (1-based), from the run's seed."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def null_simulation(config: Mapping[str, Any], seed: int, participants_per_group: int) -> SimulationSettings:
    """The config's simulator with ``participants_per_group`` in every group, ``seed``, and no drug effect."""
    simulation = dict(config["simulation"])
    groups = config["study"]["groups"]
    simulation.update(seed=seed, drug_effects=[], participants_per_group=dict.fromkeys(groups, participants_per_group))
    return SimulationSettings.from_config(simulation)


def null_study(
    config: Mapping[str, Any], number: int, seed: int, participants_per_group: int, workdir: Path
) -> pd.DataFrame:
    """Null study ``number``: simulated, preprocessed in every universe of ``config``'s multiverse (its recordings
    written under ``workdir`` and removed after) and tested; its joint tests (``joint_test.tsv``'s columns) with
    the study's number and seed first."""
    study = Study.from_config(config["study"])
    simulation = null_simulation(config, study_seed(seed, number), participants_per_group)
    settings = EmgSettings.from_config(config["preprocessing"]["emg"])
    found = universes(plan(config["preprocessing"]["emg"], config["multiverse"]))
    stimuli = load_stimuli(config["study"]["stimuli"], study.emotions)
    participants, parameters, effects = simulate_participants(simulation, study)
    parameters = parameters.set_index("participant")
    root = workdir / f"null-study-{number}"
    root.mkdir(parents=True, exist_ok=True)
    try:
        write_participants(participants, root)
        write_dataset_description(root, f"Null study {number}", "mimicry multiverse null studies")
        means, kept = [], []
        for label in parameters.index:
            recording = simulate_recording(
                label,
                parameters.loc[label],
                effects[effects["participant"] == label],
                stimuli,
                simulation,
                study,
                "raw",
            )
            files = write_simulated_recording(recording, root, label, study, simulation.line_frequency, "raw")
            loaded = load_recording(root, label, study, settings, str(files.edf), str(files.events))
            universe, summary = universe_means(
                loaded.raw, loaded.trials, study.channels, found, loaded.line_frequency, label
            )
            means.append(universe)
            kept.append(summary)
    finally:
        shutil.rmtree(root)
    participants = participants.assign(participant=participants["participant_id"].str.removeprefix("sub-"))
    table = universe_table(found, kept)
    found_summaries, questions = study_summaries(
        gathered_means(means, participants), table, found, study, config["statistics"]["followup"]
    )
    multiverse, alpha = config["multiverse"], config["report"]["alpha"]
    joint = joint_tests(
        found_summaries, questions, study.reference_group, multiverse["permutations"], simulation.seed, alpha
    )
    joint.insert(0, "seed", simulation.seed)
    joint.insert(0, "study", number)
    return joint


def rejection_rates(joint: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """Per estimand and joint statistic, the share of the null studies whose permutation p is at most ``alpha``,
    with its exact (Clopper-Pearson) 95% interval: the false-positive rate for the drug effects and the omnibus
    tests (no drug effect is planted), the power for the positive control (the mimicry effect is)."""
    rows = []
    for (estimand, statistic), tests in joint.groupby(["estimand", "statistic"], sort=False):
        rejected = int((tests["p"] <= alpha).sum())
        interval = stats.binomtest(rejected, len(tests)).proportion_ci(0.95, method="exact")
        rows.append((estimand, statistic, len(tests), rejected, rejected / len(tests), interval.low, interval.high))
    return pd.DataFrame(rows, columns=list(RATE_COLUMNS))
