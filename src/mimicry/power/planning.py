"""The power analysis's grid and jobs, and what keeps it from running: what the workflow needs to plan the
power target (nothing here simulates or fits)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mimicry.lmm_specs import CROSSOVER_COLUMNS, MODEL_COLUMNS, LmmSpec, formula_variables, lmm_specs
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


#: The designs the grid compares: the drug between participants (one recording each, in groups) or within them
#: (a crossover: each participant recorded once per drug).
DESIGNS = ("between", "within")


@dataclass(frozen=True)
class PowerCell:
    """One cell of the grid: the planted effect, the design and its size."""

    effect: float
    participants_per_group: int | None = None  #: between: per group; None: the simulated study's own group sizes
    design: str = "between"
    participants: int | None = None  #: within: participants; None: ``simulation.crossover.participants``

    @property
    def size(self) -> int | None:
        """The design's size: participants per group (between) or participants (within); None: the study's."""
        return self.participants_per_group if self.design == "between" else self.participants

    @property
    def folder(self) -> str:
        """The design and size as a folder name: ``study`` or ``n<k>`` (between), ``within_study`` or
        ``within_n<k>`` (within)."""
        name = "study" if self.size is None else f"n{self.size}"
        return name if self.design == "between" else f"{self.design}_{name}"

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
        return f"{folder}/{self.cell.folder}/{self.cell.effect_label}/batch{self.number:03d}.parquet"

    @property
    def description(self) -> str:
        """The batch in a job's log: effect, design, replicates."""
        return (
            f"effect {self.cell.effect:+.4f}, {self.cell.folder}, replicates {self.replicates[0]}-{self.replicates[-1]}"
        )

    def as_params(self) -> dict[str, Any]:
        """Plain data for a rule's ``params:`` (Snakemake reruns the job when it changes; a between cell's are
        what they were before the grid had designs)."""
        cell, replicates = self.cell, list(self.replicates)
        if cell.design == "between":
            return {
                "effect": cell.effect,
                "participants_per_group": cell.participants_per_group,
                "replicates": replicates,
            }
        return {
            "design": cell.design,
            "effect": cell.effect,
            "participants": cell.participants,
            "replicates": replicates,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any], number: int = 0, rules: str = "lmm") -> PowerBatch:
        cell = PowerCell(
            params["effect"],
            params.get("participants_per_group"),
            params.get("design", "between"),
            params.get("participants"),
        )
        return cls(cell, number, tuple(params["replicates"]), rules)


def design_phrase(design: str, participants_per_group: Any, participants: int, sessions: int) -> str:
    """A grid cell's design and size in words (``participants_per_group`` empty: the study's own groups)."""
    if design == "within":
        return f"a crossover of {int(participants)} participants ({int(sessions)} sessions)"
    given = "the study's group sizes" if pd.isna(participants_per_group) else f"{int(participants_per_group)} per group"
    return f"{given} ({int(participants)} participants)"


def designs(power: PowerSettings, study: Study) -> tuple[str, ...]:
    """The designs of the grid: ``power.designs``, or the study's own."""
    return power.designs or (("within",) if study.crossover else ("between",))


def grid(power: PowerSettings, study: Study) -> list[PowerCell]:
    """Every design x size x effect of the grid."""
    cells = []
    for design in designs(power, study):
        if design == "between":
            cells += [PowerCell(float(e), n) for n in (power.participants_per_group or (None,)) for e in power.effects]
        else:
            sizes: tuple[int | None, ...] = power.within.participants or (None,)
            cells += [PowerCell(float(e), None, design, n) for n in sizes for e in power.effects]
    return cells


def batches(power: PowerSettings, study: Study, rules: str = "lmm") -> list[PowerBatch]:
    """The grid's jobs for the LMM rules (``power.replicates`` per cell in batches of ``power.batch``) or the
    Bayesian ones (``power.bayes``'s; none with 0 replicates). The Bayesian rules' replicate r is the LMM rules'
    replicate r: the same simulated study."""
    size, total = (power.batch, power.replicates) if rules == "lmm" else (power.bayes.batch, power.bayes.replicates)
    return [
        PowerBatch(cell, number, tuple(range(start, min(start + size, total))), rules)
        for cell in grid(power, study)
        for number, start in enumerate(range(0, total, size))
    ]


def design_config(config: Mapping[str, Any], study: Study, design: str) -> dict[str, Any]:
    """The config a design's studies are simulated and tested with: the study's own, or, for the within design of
    a between-participant study, the same study with the drug within participants (each participant recorded once
    per drug, ``simulation.crossover``) and the LMM rules' formulas of ``power.within.formulas``."""
    if design == "between" or study.crossover:
        return dict(config)
    formulas = config["power"]["within"]["formulas"]
    statistics = dict(config["statistics"])
    for key in ("emg", "followup"):
        statistics[key] = {**statistics[key], "formula": formulas[key], "fallbacks": []}
    within = {**config["study"], "design": {**config["study"]["design"], "drug": "within"}}
    return {**config, "study": within, "statistics": statistics}


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


def design_specs(
    config: Mapping[str, Any], study: Study, designs: Sequence[str], target: PowerTarget
) -> dict[str, dict[str, LmmSpec]]:
    """Each design's rule models (:func:`rule_specs` of its :func:`design_config`)."""
    specs = {}
    for design in designs:
        given = design_config(config, study, design)
        specs[design] = rule_specs(given, Study.from_config(given["study"]), target)
    return specs


#: The ``statistics`` keys the LMM rules read, and the ``statistics.bayes`` keys the Bayesian ones read.
LMM_KEYS = ("emg", "followup", "trend_df", "contrasts")
BAYES_KEYS = ("priors", "b_intercept", "target_accept", "hdi_prob", "diagnostics")


def batch_config(config: Mapping[str, Any], study: Study, design: str, rules: str) -> dict[str, Any]:
    """What a batch job of ``design`` applying the ``rules`` (lmm | bayes) reads from the config, as its
    ``params:`` (a change elsewhere does not rerun it; a between design's are what they were before the grid
    had designs); ``rules`` ``summary``: what the summary reads, every design's."""
    given = design_config(config, study, design)
    common = {
        "study": given["study"],
        "simulation": given["simulation"],
        "preprocessing": {"emg": given["preprocessing"]["emg"]},
    }
    lmm = {key: given["statistics"][key] for key in LMM_KEYS}
    bayes = {"bayes": {key: given["statistics"]["bayes"][key] for key in BAYES_KEYS}}
    if rules == "lmm":
        ignored = ("bayes", "designs", "within")
        return {**common, "statistics": lmm, "power": {k: v for k, v in given["power"].items() if k not in ignored}}
    if rules == "bayes":
        return {
            **common,
            "statistics": bayes,
            "power": {key: given["power"][key] for key in ("target", "seed", "bayes")},
        }
    return {**common, "statistics": {**lmm, **bayes}, "power": given["power"]}


def check_power(config: Mapping[str, Any], study: Study, power: PowerSettings, stimuli_table: str | None) -> list[str]:
    """What keeps the power analysis from running on this study, one line each (empty: the grid can run)."""
    problems = []
    target = power.target
    if study.crossover and "between" in power.designs:
        problems.append(
            "power.designs: between needs a between-participant study's formulas, and this study is a crossover "
            "(study.design.drug: within): compare the designs from a between-participant study's config "
            "(config/power_designs.yaml), or set power.designs: [within]"
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
    for design, specs in design_specs(config, study, designs(power, study), target).items():
        derived = design == "within" and not study.crossover
        if derived:  # power.within.formulas: the crossover's model data is all they may name
            known = {*MODEL_COLUMNS["emg"], *CROSSOVER_COLUMNS}
            for key, formula in config["power"]["within"]["formulas"].items():
                unknown_terms = sorted(set(formula_variables(formula)) - known)
                if unknown_terms:
                    problems.append(
                        f"power.within.formulas.{key} {formula!r}: {unknown_terms} name no column of a crossover's "
                        f"model data ({sorted(known)})"
                    )
        for rule, (model, term) in LMM_RULES.items():
            formula = specs[model].formulas[0]
            missing = sorted(set(term.split(":")) - set(formula_variables(formula)))
            if missing:
                where = f"power.within.formulas.{'emg' if model == 'full' else model}" if derived else "the"
                problems.append(
                    f"power rule {rule} ({design}): {where} {model} formula {formula!r} has no {', '.join(missing)}"
                )
    return problems
