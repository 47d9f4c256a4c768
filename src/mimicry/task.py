"""Stimuli, trial order and session timeline of the morphing-faces task (Korb et al. 2023)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mimicry.errors import InputError
from mimicry.settings import Timing

STIMULI_COLUMNS = ("video", "face", "face_sex", "trial_type", "change_point_s")


def load_stimuli(path: str | Path, emotions: Sequence[str]) -> pd.DataFrame:
    """Read the stimulus table (``resources/stimuli.tsv``) and check it against the study's emotions."""
    stimuli = pd.read_csv(path, sep="\t", dtype={"video": str, "face": str})
    missing = [column for column in STIMULI_COLUMNS if column not in stimuli.columns]
    if missing:
        raise InputError(f"missing column(s) {missing}", file=path)
    unknown = sorted(set(stimuli["trial_type"]) - set(emotions))
    if unknown:
        raise InputError(f"trial_type {unknown} not among the study's emotions {list(emotions)}", file=path)
    if stimuli["video"].duplicated().any():
        raise InputError(
            f"duplicated video id(s) {sorted(stimuli.loc[stimuli['video'].duplicated(), 'video'])}", file=path
        )
    return stimuli


def longest_run(labels: Sequence[Any]) -> int:
    """Length of the longest run of equal consecutive labels (0 for an empty sequence)."""
    longest = run = 0
    previous = object()
    for label in labels:
        run = run + 1 if label == previous else 1
        longest = max(longest, run)
        previous = label
    return longest


def trial_order(
    stimuli: pd.DataFrame, *, repetitions: int, blocks: int, max_run: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Semi-random trial order: every video ``repetitions`` times, split evenly over ``blocks``.

    Each block holds every video ``repetitions / blocks`` times; no more than ``max_run`` trials of the same
    emotion follow each other, across block boundaries too (the paper: "a maximum of three successive stimuli
    with the same emotion, in two blocks of 48 trials"). Orders are drawn by rejection, so every admissible
    order is equally likely.
    """
    if repetitions % blocks:
        raise ValueError(f"repetitions ({repetitions}) must be a multiple of blocks ({blocks})")
    per_block = stimuli.loc[stimuli.index.repeat(repetitions // blocks)].reset_index(drop=True)
    ordered: list[pd.DataFrame] = []
    previous: list[str] = []
    for block in range(1, blocks + 1):
        for _ in range(100_000):
            candidate = per_block.iloc[rng.permutation(len(per_block))]
            if longest_run(previous[-max_run:] + list(candidate["trial_type"])) <= max_run:
                break
        else:  # pragma: no cover - only reachable with an unsatisfiable constraint
            raise ValueError(f"no trial order with at most {max_run} same-emotion trials in a row")
        ordered.append(candidate.assign(block=block))
        previous += list(candidate["trial_type"])
    trials = pd.concat(ordered, ignore_index=True)
    trials.insert(0, "trial", np.arange(1, len(trials) + 1))
    return trials


def session_timeline(
    trials: pd.DataFrame, stimuli: pd.DataFrame, timing: Timing, rng: np.random.Generator
) -> tuple[pd.DataFrame, float]:
    """Video onsets of the practice and experimental trials, and the recording's duration (whole seconds).

    Each trial is a fixation cross (uniform in ``timing.fixation_s``), the video and a feedback screen.
    Practice trials (block 0, no trial number) come first, one per stimulus drawn at random, alternating
    emotions; then a pause, the blocks separated by a break.
    """
    n_practice = int(timing.practice_trials)
    emotions = list(dict.fromkeys(stimuli["trial_type"]))
    practice_rows = []
    for i in range(n_practice):
        pool = stimuli[stimuli["trial_type"] == emotions[i % len(emotions)]]
        practice_rows.append(pool.iloc[int(rng.integers(len(pool)))])
    practice = pd.DataFrame(practice_rows).reset_index(drop=True).assign(block=0, trial=pd.NA)
    schedule = pd.concat([practice, trials], ignore_index=True)
    schedule["trial"] = schedule["trial"].astype("Int64")

    low, high = timing.fixation_s
    fixation = rng.uniform(low, high, size=len(schedule))
    onsets = np.empty(len(schedule))
    clock = float(timing.lead_in_s)
    previous_block = 0
    for i, block in enumerate(schedule["block"]):
        if block != previous_block:
            clock += timing.practice_pause_s if previous_block == 0 else timing.block_break_s
            previous_block = block
        onsets[i] = clock + fixation[i]
        clock = onsets[i] + timing.video_s + timing.feedback_s
    schedule["fixation_s"] = fixation
    schedule["onset"] = onsets
    schedule["duration"] = float(timing.video_s)
    return schedule, float(math.ceil(clock + timing.lead_out_s))
