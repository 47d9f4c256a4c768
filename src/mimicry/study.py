"""The study design as read from config: groups (the drug conditions), emotions, muscles and their recording
channels, and whether the drug varies between participants or within them (a crossover)."""

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
#: The words Korb et al. (2023)'s study is described in. The report and methods use them only for the paper's
#: data (the simulated study of the paper's design); a study of one's own states its own (``study.title``,
#: ``study.stimulus``).
PAPERS_WORDING = {
    "title": "Facial mimicry under dopamine D2/3 and opioid antagonism",
    "stimulus": "videos of faces morphing between emotions",
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
    #: the report's title, in the study's words
    title: str
    #: what the participants saw, in the study's words
    stimulus: str
    #: how the drug varies: ``between`` participants (their group) or ``within`` (a crossover: one drug per session)
    drug_design: str = "between"
    #: within: the sessions files' column naming each session's drug, and its period (``None``: listing order)
    drug_column: str = "drug"
    period_column: str | None = "period"

    @property
    def crossover(self) -> bool:
        """Every participant recorded once per drug, in sessions (the drug within participants)."""
        return self.drug_design == "within"

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
            trials_per_participant=study["trials_per_participant"],
            # unset only for the paper's data (the config's validation sees to it): then the paper's words
            title=study["title"] or PAPERS_WORDING["title"],
            stimulus=study["stimulus"] or PAPERS_WORDING["stimulus"],
            drug_design=study["design"]["drug"],
            drug_column=study["design"]["drug_column"],
            period_column=study["design"]["period_column"],
        )

    @property
    def is_papers_design(self) -> bool:
        """Korb et al. (2023)'s groups, conditions and muscles: only then are the paper's figures a reference."""
        return (
            set(self.groups) == set(PAPERS_DESIGN["groups"])
            and set(self.emotions) == set(PAPERS_DESIGN["emotions"])
            and set(self.muscles) == set(PAPERS_DESIGN["muscles"])
        )


def wording_problems(config: Mapping[str, Any]) -> list[str]:
    """The ``study`` keys that word the report which a study of one's own leaves unset or inherits from the
    paper's config (empty: the study speaks in its own words). The paper's words fit only the paper's data: the
    simulated study of the paper's design."""
    study = Study.from_config(config["study"])
    if config["simulation"]["enabled"] and study.is_papers_design:
        return []
    return [
        key for key, papers in PAPERS_WORDING.items() if config["study"][key] is None or config["study"][key] == papers
    ]
