"""The power analysis's grid and jobs, and what keeps it from running: what the workflow needs to plan the
power target (nothing here simulates or fits)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mimicry.lmm_specs import LmmSpec, formula_variables, lmm_specs
from mimicry.settings import PowerSettings, PowerTarget
from mimicry.study import Study

#: The frequentist decision rules: which LMM, and which of its terms must reach ``alpha``.
LMM_RULES = {
    "followup_drug_x_time": ("followup", "drug:time"),
    "full_emotion_x_drug_x_time": ("full", "emotion:drug:time"),
}
#: The Bayesian decision rules (:mod:`mimicry.power.bayes_rules`).
BAYES_RULES = ("bayes_contrast_hdi", "bayes_lopo_weight")
#: The rules' names in tables and figures.
RULE_LABELS = {
    "followup_drug_x_time": "follow-up LMM: drug x time",
    "full_emotion_x_drug_x_time": "full LMM: emotion x drug x time",
    "bayes_contrast_hdi": "Bayesian contrast: HDI excludes 0",
    "bayes_lopo_weight": "Bayesian LOPO: drug model favoured",
}
#: The rules in running text.
RULE_PHRASES = {
    "followup_drug_x_time": "follow-up model's drug x time test",
    "full_emotion_x_drug_x_time": "full model's emotion x drug x time test",
    "bayes_contrast_hdi": "Bayesian drug contrast's HDI",
    "bayes_lopo_weight": "Bayesian leave-one-participant-out comparison",
}


@dataclass(frozen=True)
class PowerCell:
    """One cell of the grid: the planted effect and the group size."""

    effect: float
    participants_per_group: int | None  #: None: the simulated study's own group sizes

    @property
    def design(self) -> str:
        """The group sizes as a name: ``study`` or ``n<k>``."""
        return "study" if self.participants_per_group is None else f"n{self.participants_per_group}"

    @property
    def effect_label(self) -> str:
        """The effect as a file name: signed, four decimals."""
        return f"{self.effect:+.4f}"


@dataclass(frozen=True)
class PowerBatch:
    """The replicates of one cell that one job simulates and tests."""

    cell: PowerCell
    number: int
    replicates: tuple[int, ...]
    rules: str = "lmm"  #: lmm | bayes: which decision rules the batch applies

    @property
    def path(self) -> str:
        """Where the batch's table goes, under the power results folder."""
        folder = {"lmm": "batches", "bayes": "bayes"}[self.rules]
        return f"{folder}/{self.cell.design}/{self.cell.effect_label}/batch{self.number:03d}.parquet"

    @property
    def description(self) -> str:
        """The batch in a job's log: effect, design, replicates."""
        return (
            f"effect {self.cell.effect:+.4f}, {self.cell.design}, replicates {self.replicates[0]}-{self.replicates[-1]}"
        )

    def as_params(self) -> dict[str, Any]:
        """Plain data for a rule's ``params:`` (Snakemake reruns the job when it changes)."""
        size = self.cell.participants_per_group
        return {"effect": self.cell.effect, "participants_per_group": size, "replicates": list(self.replicates)}

    @classmethod
    def from_params(cls, params: Mapping[str, Any], number: int = 0, rules: str = "lmm") -> PowerBatch:
        cell = PowerCell(params["effect"], params["participants_per_group"])
        return cls(cell, number, tuple(params["replicates"]), rules)


def grid(power: PowerSettings) -> list[PowerCell]:
    """Every effect x group size of the grid."""
    sizes: list[int | None] = list(power.participants_per_group) or [None]
    return [PowerCell(float(effect), size) for size in sizes for effect in power.effects]


def batches(power: PowerSettings, rules: str = "lmm") -> list[PowerBatch]:
    """The grid's jobs for the LMM rules (``power.replicates`` per cell in batches of ``power.batch``) or the
    Bayesian ones (``power.bayes``'s; none with 0 replicates). The Bayesian rules' replicate r is the LMM rules'
    replicate r: the same simulated study."""
    size, total = (power.batch, power.replicates) if rules == "lmm" else (power.bayes.batch, power.bayes.replicates)
    return [
        PowerBatch(cell, number, tuple(range(start, min(start + size, total))), rules)
        for cell in grid(power)
        for number, start in enumerate(range(0, total, size))
    ]


def target_groups(target: PowerTarget, study: Study) -> list[str]:
    """The groups the effect is planted on: ``power.target.groups``, or every group but the reference."""
    return list(target.groups) or [g for g in study.groups if g != study.reference_group]


def rule_specs(config: Mapping[str, Any], study: Study, target: PowerTarget) -> dict[str, LmmSpec]:
    """The follow-up LMM of the target muscle x emotion (``statistics.followup``'s formula, on the cell where the
    effect is planted) and the target muscle's full LMM, their formulas without by-face terms."""
    cell = (target.muscle, target.emotion)
    specs = {
        spec.name: spec for spec in lmm_specs(config, study, response_times=False, faces=False, followup_cell=cell)
    }
    return {"followup": specs[f"emg_{target.muscle}_{target.emotion}"], "full": specs[f"emg_{target.muscle}"]}


def check_power(config: Mapping[str, Any], study: Study, target: PowerTarget, stimuli_table: str | None) -> list[str]:
    """What keeps the power analysis from running on this study, one line each (empty: the grid can run)."""
    problems = []
    if study.crossover:
        problems.append(
            "the power analysis simulates between-participant studies; a crossover (study.design.drug: within) "
            "has no power grid yet (docs/crossover.md)"
        )
    if not stimuli_table:
        problems.append(
            "the power analysis simulates studies that show the study's videos, and study.stimuli is not set: set "
            "it to the study's stimulus table (video, face, face_sex, trial_type, change_point_s; "
            "resources/stimuli.tsv is the paper's)"
        )
    if target.muscle not in study.muscles:
        problems.append(f"power.target.muscle {target.muscle!r} is not a study muscle ({list(study.muscles)})")
    if target.emotion not in study.emotions:
        problems.append(f"power.target.emotion {target.emotion!r} is not a study emotion ({list(study.emotions)})")
    unknown = sorted(set(target.groups) - set(study.groups))
    if unknown:
        problems.append(f"power.target.groups: {unknown} are not study groups ({list(study.groups)})")
    if problems:
        return problems
    specs = rule_specs(config, study, target)
    for rule, (model, term) in LMM_RULES.items():
        formula = specs[model].formulas[0]
        missing = sorted(set(term.split(":")) - set(formula_variables(formula)))
        if missing:
            problems.append(f"power rule {rule}: the {model} formula {formula!r} has no {', '.join(missing)}")
    return problems
