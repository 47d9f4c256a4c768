"""The calibration's plan: the design it simulates and what keeps it from running on a study (planning only:
the DAG is built with it, without the calibration's own imports)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def calibration_design(config: Mapping[str, Any], groups: list[str], muscles: list[str], emotions: list[str]) -> dict:
    """The simulated design of the calibration (``mimicry.calibration.Design``'s fields): the study's groups with
    ``calibration.participants_per_group``'s sizes (``{}``: ``simulation.participants_per_group``'s), its muscles,
    emotions and windows."""
    sizes = config["calibration"]["participants_per_group"] or config["simulation"]["participants_per_group"]
    return {
        "participants_per_group": {group: int(sizes.get(group, 0)) for group in groups},
        "muscles": list(muscles),
        "emotions": list(emotions),
        "windows": int(config["preprocessing"]["emg"]["windows"]["count"]),
    }


def calibration_problems(design: Mapping[str, Any], crossover: bool = False) -> list[str]:
    """What keeps the calibration from running on this design (``crossover``: the study's drug varies within
    participants); said by ``snakemake calibration`` alone."""
    missing = [group for group, size in design["participants_per_group"].items() if size < 2]
    problems = []
    if crossover:
        problems.append(
            "the calibration simulates between-participant studies; a crossover (study.design.drug: within) has no "
            "calibration yet (docs/crossover.md)"
        )
    if missing:
        problems.append(
            f"no group size for {', '.join(missing)} (at least 2 each): set calibration.participants_per_group"
        )
    if design["windows"] < 3:
        problems.append("the asymptotic model needs at least 3 time windows (preprocessing.emg.windows.count)")
    return problems
