"""The power analysis's simulated studies: each replicate a whole study from the simulator with the grid cell's
effect planted, its trial x window values drawn by the fast path."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mimicry.power.fastpath import floor_ratios, window_values
from mimicry.power.planning import DESIGNS, PowerCell, target_groups
from mimicry.settings import DrugEffect, EmgSettings, PowerTarget, SimulationSettings
from mimicry.simulate.crossover import simulate_crossover
from mimicry.simulate.participants import simulate_participants
from mimicry.study import Study
from mimicry.task import load_stimuli

#: What identifies a grid cell's studies in every table of the power analysis: the design, its size as configured
#: (participants per group: between only; empty: the study's own) and as simulated (participants, recordings).
DESIGN_COLUMNS = ["design", "participants_per_group", "participants", "sessions"]


@dataclass(frozen=True)
class StudyTemplate:
    """What every simulated study of the grid is drawn from: the study's design, its simulator, its EMG
    preprocessing (whose outlier rules the fast path applies) and its videos."""

    study: Study
    simulation: SimulationSettings
    emg: EmgSettings
    stimuli: pd.DataFrame

    @classmethod
    def from_sections(
        cls, study: Mapping[str, Any], simulation: Mapping[str, Any], emg: Mapping[str, Any], stimuli: str | Path
    ) -> StudyTemplate:
        """From the config's ``study``, ``simulation`` and ``preprocessing.emg`` sections and the stimulus table."""
        design = Study.from_config(study)
        return cls(
            design,
            SimulationSettings.from_config(simulation),
            EmgSettings.from_config(emg),
            load_stimuli(stimuli, design.emotions),
        )


def replicate_simulation(
    simulation: SimulationSettings, study: Study, target: PowerTarget, cell: PowerCell, seed: int
) -> SimulationSettings:
    """The simulation of one replicate: the study's, with the cell's effect planted on the target muscle x emotion
    of each drug group (added to any effect the study plants already), the cell's size (group sizes, or a
    crossover's participants) and the replicate's seed."""
    planted = tuple(
        DrugEffect(group, target.muscle, target.emotion, **{target.parameter_name: cell.effect})
        for group in target_groups(target, study)
    )
    sizes = (
        simulation.participants_per_group
        if cell.participants_per_group is None
        else {g: int(cell.participants_per_group) for g in study.groups}
    )
    crossover = (
        simulation.crossover
        if cell.participants is None
        else dataclasses.replace(simulation.crossover, participants=int(cell.participants))
    )
    return dataclasses.replace(
        simulation,
        seed=int(seed),
        drug_effects=simulation.drug_effects + planted,
        participants_per_group=sizes,
        crossover=crossover,
    )


def replicate_seeds(seed: int, cell: PowerCell, replicates: Sequence[int]) -> list[int]:
    """One seed per replicate, from the power seed, the design and its size and the replicate number: the same
    studies at every planted effect (power curves then differ by the effect alone), in any batch and any order."""
    stream = [] if cell.design == "between" else [DESIGNS.index(cell.design)]
    return [
        int(np.random.SeedSequence([int(seed), cell.size or 0, r, *stream]).generate_state(1)[0]) for r in replicates
    ]


def replicate_studies(
    template: StudyTemplate, target: PowerTarget, seed: int, cell: PowerCell, replicates: Sequence[int]
) -> Iterator[tuple[int, int, SimulationSettings, pd.DataFrame]]:
    """Each replicate's number, seed, simulation and trial x window table (the fast path's; a crossover's per
    participant x session): the same study for a replicate number whichever rules are applied to it."""
    study, muscles = template.study, list(template.study.muscles)
    for replicate, replicate_seed in zip(replicates, replicate_seeds(seed, cell, replicates), strict=True):
        simulation = replicate_simulation(template.simulation, study, target, cell, replicate_seed)
        if study.crossover:  # effects per participant x session
            _, _, parameters, effects = simulate_crossover(simulation, study)
        else:
            _, parameters, effects = simulate_participants(simulation, study)
        floor = floor_ratios(parameters, simulation, template.emg, muscles)
        windows = window_values(
            effects, template.stimuli, simulation, template.emg, muscles, [replicate_seed, 3], floor
        )
        yield replicate, replicate_seed, simulation, windows


def design_columns(cell: PowerCell, windows: pd.DataFrame) -> dict[str, object]:
    """A study's :data:`DESIGN_COLUMNS`: the cell's design and size, and the study's participants and
    recordings."""
    recordings = windows[["participant", "session"]] if "session" in windows.columns else windows[["participant"]]
    return {
        "design": cell.design,
        "participants_per_group": cell.participants_per_group,
        "participants": int(windows["participant"].nunique()),
        "sessions": len(recordings.drop_duplicates()),
    }


def typed(table: pd.DataFrame) -> pd.DataFrame:
    """The design columns' types (a size may be empty)."""
    return table.astype({"participants_per_group": "Int64", "participants": "int64", "sessions": "int64"})
