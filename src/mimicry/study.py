"""The study design as read from config: groups, emotions, muscles and their recording channels."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Korb et al. (2023)'s design: the study whose published figures the report sets beside this run's.
PAPERS_DESIGN = {
    "groups": ("amisulpride", "naltrexone", "placebo"),
    "emotions": ("AngryToHappy", "HappyToAngry"),
    "muscles": ("corrugator", "zygomaticus"),
}
#: Response categories of the task (feedback screen of Korb et al. 2023).
RESPONSE_CATEGORIES: tuple[str, ...] = ("correct", "miss", "wrong_button", "multiple")


@dataclass(frozen=True)
class Study:
    """What every stage needs to know about the study's design."""

    task: str
    groups: tuple[str, ...]
    reference_group: str
    emotions: tuple[str, ...]
    #: muscle name -> channel name in the recordings, e.g. ``{"corrugator": "CS"}``
    channels: Mapping[str, str]
    #: experimental trials each participant must have; ``None`` accepts any number
    trials_per_participant: int | None
    title: str = "A facial mimicry study"
    #: what the participants saw, in the study's words
    stimulus: str = "stimuli"

    @property
    def muscles(self) -> tuple[str, ...]:
        return tuple(self.channels)

    @classmethod
    def from_config(cls, study: Mapping[str, Any]) -> Study:
        """Build from the ``study`` section of the config (already schema-validated)."""
        return cls(
            task=study["task"],
            groups=tuple(study["groups"]),
            reference_group=study["reference_group"],
            emotions=tuple(study["emotions"]),
            channels=dict(study["channels"]),
            trials_per_participant=study.get("trials_per_participant"),
            title=study.get("title", cls.title),
            stimulus=study.get("stimulus", cls.stimulus),
        )

    @property
    def is_papers_design(self) -> bool:
        """Korb et al. (2023)'s groups, conditions and muscles: only then are the paper's figures a reference."""
        return (
            set(self.groups) == set(PAPERS_DESIGN["groups"])
            and set(self.emotions) == set(PAPERS_DESIGN["emotions"])
            and set(self.muscles) == set(PAPERS_DESIGN["muscles"])
        )
