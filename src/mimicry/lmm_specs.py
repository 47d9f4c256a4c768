"""The study's linear mixed models, named and specified in one place, and their formulas checked against the data
before any job runs.

One EMG model per muscle (``emg_<muscle>``), the follow-up model of one muscle x emotion
(``emg_<muscle>_<emotion>``) and, in a study with response times, the RT model (``rt``). The workflow, the rule
script, the methods text and the report read the names, labels and formulas from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mimicry.errors import InputError
from mimicry.study import Study

#: the columns of each kind of model's data (mimicry.lmm.emg_model_data, rt_model_data)
MODEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "emg": ("participant", "drug", "face", "emotion", "time", "log_emg"),
    "rt": ("participant", "drug", "face", "emotion", "response_time"),
}
#: what a crossover's model data has besides (mimicry.lmm: each recording's session, period and sequence)
CROSSOVER_COLUMNS: tuple[str, ...] = ("session", "period", "sequence")
#: where each kind of model's formulas live in the config
CONFIG_KEYS = {"emg": "statistics.emg", "followup": "statistics.followup", "rt": "statistics.rt"}
_RANDOM_TERM = re.compile(r"\(([^()|]*)\|\|?\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)")
_NAME = re.compile(r"[A-Za-z_.][A-Za-z0-9_.]*")
#: names a formula may use that are not columns: R functions and constants
_NOT_COLUMNS = {"log", "exp", "sqrt", "scale", "poly", "I", "offset", "factor", "as.numeric", "TRUE", "FALSE"}


@dataclass(frozen=True)
class LmmSpec:
    """One LMM: what it is called, what data it takes, and the formulas to try in order."""

    name: str  #: the output name: ``emg_<muscle>``, ``emg_<muscle>_<emotion>``, ``rt``
    kind: str  #: ``emg`` or ``rt``
    label: str  #: the report's name for it
    config_key: str  #: the config section its formulas come from
    formulas: tuple[str, ...]  #: the formula, then its fallbacks, as fitted
    groups: tuple[str, ...]
    reference_group: str
    emotions: tuple[str, ...]
    trend_df: str
    contrasts: str  #: ``sum`` or ``treatment`` (statistics.contrasts)
    muscle: str | None = None
    emotion: str | None = None  #: the follow-up model's one emotion (no emotion factor)
    covariates: tuple[str, ...] = ()  #: participants.tsv columns the formulas use

    @property
    def whole_study(self) -> bool:
        """An EMG model of every emotion (a long job), not one cell's follow-up model nor the RT model."""
        return self.kind == "emg" and self.emotion is None

    def as_params(self) -> dict[str, Any]:
        """Plain data for a rule's ``params:`` (Snakemake reruns the job when it changes)."""
        return asdict(self)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> LmmSpec:
        values: dict[str, Any] = {key: tuple(v) if isinstance(v, list) else v for key, v in params.items()}
        return cls(**values)


def formula_variables(formula: str) -> list[str]:
    """The data columns an lme4 formula names (response, fixed and random terms, grouping factors), in order."""
    names = [name for name in _NAME.findall(formula) if name not in _NOT_COLUMNS]
    return list(dict.fromkeys(names))


def without_grouping(formula: str, factor: str) -> str:
    """``formula`` without its random-effect terms grouped by ``factor`` (e.g. ``+ (1 | face)``)."""
    terms = [term for term in _RANDOM_TERM.finditer(formula) if term.group(2) == factor]
    for term in terms:
        formula = re.sub(r"\s*\+\s*" + re.escape(term.group(0)), "", formula, count=1)
    return formula


def lmm_specs(
    config: Mapping[str, Any],
    study: Study,
    *,
    response_times: bool = True,
    faces: bool = True,
    participant_columns: Sequence[str] = (),
    followup_cell: tuple[str, str] | None = None,
) -> tuple[LmmSpec, ...]:
    """The study's LMMs from the (validated) config. A study without face identities (``faces`` false) fits
    every formula without its ``(... | face)`` terms; ``participant_columns`` are the participants.tsv columns a
    formula may use as covariates; ``followup_cell`` (muscle, emotion) fits the follow-up model's formula on that
    cell instead of ``statistics.followup``'s."""
    stats = config["statistics"]
    common = {
        "groups": tuple(study.groups),
        "reference_group": study.reference_group,
        "emotions": tuple(study.emotions),
        "trend_df": stats["trend_df"],
        "contrasts": stats["contrasts"],
    }

    def formulas(section: Mapping[str, Any]) -> tuple[str, ...]:
        given = [section["formula"], *section["fallbacks"]]
        return tuple(dict.fromkeys(given if faces else [without_grouping(f, "face") for f in given]))

    def covariates(kind: str, given: tuple[str, ...]) -> tuple[str, ...]:
        named = {v for f in given for v in formula_variables(f)} - set(MODEL_COLUMNS[kind])
        return tuple(sorted(named & set(participant_columns)))

    specs = []
    for muscle in study.muscles:
        given = formulas(stats["emg"])
        specs.append(
            LmmSpec(
                f"emg_{muscle}",
                "emg",
                f"{muscle.capitalize()} EMG",
                CONFIG_KEYS["emg"],
                given,
                muscle=muscle,
                covariates=covariates("emg", given),
                **common,
            )
        )
    followup = stats["followup"]
    if followup_cell is not None:
        followup = {**followup, "muscle": followup_cell[0], "emotion": followup_cell[1]}
    given = formulas(followup)
    specs.append(
        LmmSpec(
            f"emg_{followup['muscle']}_{followup['emotion']}",
            "emg",
            f"{followup['muscle'].capitalize()} EMG, {followup['emotion']} videos (follow-up)",
            CONFIG_KEYS["followup"],
            given,
            muscle=followup["muscle"],
            emotion=followup["emotion"],
            covariates=covariates("emg", given),
            **common,
        )
    )
    if response_times:
        given = formulas(stats["rt"])
        specs.append(
            LmmSpec(
                "rt", "rt", "Response times", CONFIG_KEYS["rt"], given, covariates=covariates("rt", given), **common
            )
        )
    return tuple(specs)


def check_specs(
    specs: Sequence[LmmSpec],
    study: Study,
    participant_columns: Sequence[str],
    levels: Mapping[str, int],
    n_windows: int = 2,
) -> list[InputError]:
    """Every formula against the data it will meet, before any model is fitted: each name a column of the model's
    data or of participants.tsv; each grouping factor with more than one level (``levels``: column -> number of
    levels, where known); no ``time`` with a single time window; the follow-up's muscle and emotion in the
    study."""
    problems = []
    for spec in specs:
        if spec.kind == "emg" and n_windows < 2:
            problems += [
                InputError(
                    f"{spec.config_key} formula `{formula}`: term 'time' with a single time window "
                    "(preprocessing.emg.windows.count: 1): give a formula without time"
                )
                for formula in spec.formulas
                if "time" in formula_variables(formula)
            ]
        if spec.muscle is not None and spec.muscle not in study.muscles:
            problems.append(
                InputError(f"{spec.config_key}.muscle {spec.muscle!r} is not one of study.channels {study.muscles}")
            )
        if spec.emotion is not None and spec.emotion not in study.emotions:
            problems.append(
                InputError(f"{spec.config_key}.emotion {spec.emotion!r} is not one of study.emotions {study.emotions}")
            )
        columns = [*MODEL_COLUMNS[spec.kind], *(CROSSOVER_COLUMNS if study.crossover else ())]
        known = set(columns) | set(participant_columns)
        for formula in spec.formulas:
            where = f"{spec.config_key} formula `{formula}`"
            for name in formula_variables(formula):
                if name not in known:
                    hint = (
                        f" ({name}: a crossover's, study.design.drug: within)"
                        if name in CROSSOVER_COLUMNS and not study.crossover
                        else ""
                    )
                    problems.append(
                        InputError(
                            f"{where}: term {name!r} names no column: the model's data has {columns}, "
                            f"participants.tsv has {list(participant_columns)}; add the column to participants.tsv "
                            f"or drop the term{hint}"
                        )
                    )
            for term in _RANDOM_TERM.finditer(formula):
                factor = term.group(2)
                if levels.get(factor, 2) < 2:
                    problems.append(
                        InputError(
                            f"{where}: grouping factor {factor!r} of {term.group(0)} has {levels[factor]} level(s) in "
                            "the data; lme4 needs more than one: drop the term"
                        )
                    )
    return problems
