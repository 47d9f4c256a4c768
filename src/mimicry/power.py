"""Power and false-positive rates of the study's decision rules, from many simulated studies with planted drug
effects (the paper's closing question: what effect could this design have detected?).

Each replicate is a whole study drawn from the simulator (``mimicry.simulate.simulate_participants``, its own
seed) with a drug effect planted on one muscle x emotion, its trial x window values drawn by the fast path
(``mimicry.fastpath``), and the paper's frequentist decision rules applied to it: the follow-up LMM's
drug x time test and the full model's emotion x drug x time test for the target muscle, each at ``alpha``. The
LMMs are fitted to participant x condition x window means (their formulas without the by-face terms, which means
cannot carry): on the paper-size study 0.4 and 1.3 s per fit instead of 2 and 29 s.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mimicry.design import load_stimuli
from mimicry.errors import InputError
from mimicry.fastpath import window_values
from mimicry.lmm import fit_lmm_here, model_data
from mimicry.lmm_specs import LmmSpec, formula_variables, lmm_specs
from mimicry.settings import EmgSettings
from mimicry.simulate import simulate_participants
from mimicry.study import Study

#: The frequentist decision rules: which LMM, and which of its terms must reach ``alpha``.
RULES = {
    "followup_drug_x_time": ("followup", "drug:time"),
    "full_emotion_x_drug_x_time": ("full", "emotion:drug:time"),
}
#: The rules' names in tables and figures.
RULE_LABELS = {
    "followup_drug_x_time": "follow-up LMM: drug x time",
    "full_emotion_x_drug_x_time": "full LMM: emotion x drug x time",
}
#: The rules in running text.
RULE_PHRASES = {
    "followup_drug_x_time": "follow-up model's drug x time",
    "full_emotion_x_drug_x_time": "full model's emotion x drug x time",
}
#: Columns of a batch's replicate table.
REPLICATE_COLUMNS = ["effect", "participants_per_group", "replicate", "seed", "rule", "p", "detected", "warnings"]


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

    @property
    def path(self) -> str:
        """Where the batch's replicate table goes, under the power results folder."""
        return f"batches/{self.cell.design}/{self.cell.effect_label}/batch{self.number:03d}.parquet"

    def as_params(self) -> dict[str, Any]:
        """Plain data for a rule's ``params:`` (Snakemake reruns the job when it changes)."""
        size = self.cell.participants_per_group
        return {"effect": self.cell.effect, "participants_per_group": size, "replicates": list(self.replicates)}

    @classmethod
    def from_params(cls, params: Mapping[str, Any], number: int = 0) -> PowerBatch:
        return cls(PowerCell(params["effect"], params["participants_per_group"]), number, tuple(params["replicates"]))


def grid(power: Mapping[str, Any]) -> list[PowerCell]:
    """Every effect x group size of ``power`` (the config's ``power`` section)."""
    sizes: list[int | None] = list(power["participants_per_group"]) or [None]
    return [PowerCell(float(effect), size) for size in sizes for effect in power["effects"]]


def batches(power: Mapping[str, Any]) -> list[PowerBatch]:
    """The grid's jobs: each cell's replicates in batches of ``power.batch``."""
    size, total = int(power["batch"]), int(power["replicates"])
    return [
        PowerBatch(cell, number, tuple(range(start, min(start + size, total))))
        for cell in grid(power)
        for number, start in enumerate(range(0, total, size))
    ]


def replicate_simulation(
    simulation: Mapping[str, Any], power: Mapping[str, Any], study: Study, cell: PowerCell, seed: int
) -> dict[str, Any]:
    """The simulation config of one replicate: the study's, with the cell's effect planted on the target muscle x
    emotion of each drug group (added to any effect the study plants already), the cell's group size and the
    replicate's seed."""
    target = power["target"]
    drugs = target["groups"] or [g for g in study.groups if g != study.reference_group]
    unknown = sorted(set(drugs) - set(study.groups))
    if unknown:
        raise InputError(f"power.target.groups: {unknown} are not study groups ({list(study.groups)})")
    out = copy.deepcopy(dict(simulation))
    out["seed"] = int(seed)
    parameter = {"a": "asymptote", "c": "rate"}[target["parameter"]]
    out["drug_effects"] = [
        *out.get("drug_effects", []),
        *(
            {"group": g, "muscle": target["muscle"], "emotion": target["emotion"], parameter: cell.effect}
            for g in drugs
        ),
    ]
    if cell.participants_per_group is not None:
        out["participants_per_group"] = {g: int(cell.participants_per_group) for g in study.groups}
    return out


def replicate_seeds(power: Mapping[str, Any], cell: PowerCell, replicates: Sequence[int]) -> list[int]:
    """One seed per replicate, from the power seed, the group size and the replicate number: the same studies at
    every planted effect (power curves then differ by the effect alone), in any batch and any order."""
    size = cell.participants_per_group or 0
    return [int(np.random.SeedSequence([int(power["seed"]), size, r]).generate_state(1)[0]) for r in replicates]


def participant_means(data: pd.DataFrame) -> pd.DataFrame:
    """An LMM's trial rows averaged per participant x drug x emotion x time (the level the power rules fit)."""
    keys = [c for c in ("participant", "drug", "emotion", "time") if c in data.columns]
    return data.groupby(keys, as_index=False, observed=True)["log_emg"].mean()


def rule_specs(config: Mapping[str, Any], study: Study, target: Mapping[str, Any]) -> dict[str, LmmSpec]:
    """The follow-up LMM of the target muscle x emotion (``statistics.followup``'s formula, on the cell where the
    effect is planted) and the target muscle's full LMM, their formulas without by-face terms."""
    followup = {**config["statistics"]["followup"], "muscle": target["muscle"], "emotion": target["emotion"]}
    statistics = {**config["statistics"], "followup": followup}
    specs = {
        s.name: s for s in lmm_specs({**config, "statistics": statistics}, study, response_times=False, faces=False)
    }
    return {
        "followup": specs[f"emg_{target['muscle']}_{target['emotion']}"],
        "full": specs[f"emg_{target['muscle']}"],
    }


def check_power(config: Mapping[str, Any], study: Study, stimuli_table: str | None) -> list[str]:
    """What keeps the power analysis from running on this study, one line each (empty: the grid can run)."""
    target = config["power"]["target"]
    problems = []
    if not stimuli_table:
        problems.append(
            "the power analysis simulates studies that show the study's videos, and study.stimuli is not set: set "
            "it to the study's stimulus table (video, face, face_sex, trial_type, change_point_s; "
            "resources/stimuli.tsv is the paper's)"
        )
    if target["muscle"] not in study.muscles:
        problems.append(f"power.target.muscle {target['muscle']!r} is not a study muscle ({list(study.muscles)})")
    if target["emotion"] not in study.emotions:
        problems.append(f"power.target.emotion {target['emotion']!r} is not a study emotion ({list(study.emotions)})")
    unknown = sorted(set(target["groups"]) - set(study.groups))
    if unknown:
        problems.append(f"power.target.groups: {unknown} are not study groups ({list(study.groups)})")
    if problems:
        return problems
    specs = rule_specs(config, study, target)
    for rule, (model, term) in RULES.items():
        formula = specs[model].formulas[0]
        missing = sorted(set(term.split(":")) - set(formula_variables(formula)))
        if missing:
            problems.append(f"power rule {rule}: the {model} formula {formula!r} has no {', '.join(missing)}")
    return problems


def decisions(windows: pd.DataFrame, specs: Mapping[str, LmmSpec]) -> dict[str, tuple[float, int]]:
    """Each rule's p-value on one study's window table and how many warnings its fit gave (lme4's convergence
    and singularity messages), in a process whose R has lme4's default ordering."""
    out = {}
    for rule, (model, term) in RULES.items():
        spec = specs[model]
        data, factors, _ = model_data(spec, windows)
        fitted = fit_lmm_here(participant_means(data), spec.formulas[0], factors, None, contrasts=spec.contrasts)
        row = fitted.anova[fitted.anova["term"] == term]
        if row.empty:
            raise InputError(f"power: the {model} model's formula {spec.formulas[0]!r} has no {term} term")
        out[rule] = (float(row["p"].iloc[0]), len(fitted.warnings))
    return out


def run_batch_here(
    config: Mapping[str, Any], stimuli_path: str, cell: PowerCell, replicates: Sequence[int]
) -> pd.DataFrame:
    """Simulate and test the replicates of one batch (in a fresh R process: ``rsession.call_in_fresh_r``)."""
    study = Study.from_config(config["study"])
    power = config["power"]
    emg = EmgSettings.from_config(config["preprocessing"]["emg"])
    stimuli = load_stimuli(stimuli_path, study.emotions)
    specs = rule_specs(config, study, power["target"])
    rows = []
    for replicate, seed in zip(replicates, replicate_seeds(power, cell, replicates), strict=True):
        simulation = replicate_simulation(config["simulation"], power, study, cell, seed)
        _, _, effects = simulate_participants(simulation, study)
        windows = window_values(effects, stimuli, simulation, emg, list(study.muscles), [seed, 3])
        for rule, (p, warnings) in decisions(windows, specs).items():
            detected = bool(p < power["alpha"])
            rows.append((cell.effect, cell.participants_per_group, replicate, seed, rule, p, detected, warnings))
    table = pd.DataFrame(rows, columns=REPLICATE_COLUMNS)
    return table.astype({"participants_per_group": "Int64"})


def clopper_pearson(detections: np.ndarray, trials: np.ndarray, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact binomial interval of a proportion (Clopper-Pearson), vectorised."""
    from scipy.stats import beta

    detections, trials = np.asarray(detections, dtype=float), np.asarray(trials, dtype=float)
    tail = (1.0 - level) / 2.0
    low = np.where(detections > 0, beta.ppf(tail, detections, trials - detections + 1), 0.0)
    high = np.where(detections < trials, beta.ppf(1.0 - tail, detections + 1, trials - detections), 1.0)
    return low, high


def power_table(replicates: pd.DataFrame) -> pd.DataFrame:
    """Per effect x group size x rule: replicates, detections, power and its 95% interval, and the Monte Carlo
    standard error."""
    keys = ["effect", "participants_per_group", "rule"]
    table = (
        replicates.groupby(keys, dropna=False, sort=True)["detected"]
        .agg(replicates="size", detections="sum")
        .reset_index()
    )
    table["power"] = table["detections"] / table["replicates"]
    table["ci_low"], table["ci_high"] = clopper_pearson(table["detections"], table["replicates"])
    table["mc_se"] = np.sqrt(table["power"] * (1 - table["power"]) / table["replicates"])
    return table


def smallest_detectable(table: pd.DataFrame, target: float = 0.8) -> pd.DataFrame:
    """Per group size and rule, the smallest planted effect (in size) whose power reaches ``target``, by linear
    interpolation between grid effects; ``low``/``high`` from the power intervals' bounds (NaN: not reached in
    the grid)."""
    rows = []
    for (size, rule), cells in table.groupby(["participants_per_group", "rule"], dropna=False, sort=True):
        cells = cells.assign(size=cells["effect"].abs()).sort_values("size")
        row = {"participants_per_group": size, "rule": rule, "target_power": target}
        for name, column in (("effect", "power"), ("effect_low", "ci_high"), ("effect_high", "ci_low")):
            row[name] = _crossing(cells["size"].to_numpy(), cells[column].to_numpy(), target)
        rows.append(row)
    return pd.DataFrame(rows)


def _crossing(sizes: np.ndarray, power: np.ndarray, target: float) -> float:
    """The first size at which ``power`` (over increasing ``sizes``) reaches ``target``, interpolated."""
    above = np.flatnonzero(power >= target)
    if len(above) == 0:
        return float("nan")
    first = above[0]
    if first == 0:
        return float(sizes[0])
    x0, x1, y0, y1 = sizes[first - 1], sizes[first], power[first - 1], power[first]
    return float(x0 + (target - y0) * (x1 - x0) / (y1 - y0))


def methods_paragraph(config: Mapping[str, Any], table: pd.DataFrame, detectable: pd.DataFrame) -> str:
    """The power analysis as a methods and results paragraph, from the config it ran with and its tables."""
    study = Study.from_config(config["study"])
    power, target = config["power"], config["power"]["target"]
    drugs = target["groups"] or [g for g in study.groups if g != study.reference_group]
    sizes = [f"{n} per group" for n in power["participants_per_group"]] or [
        "/".join(str(n) for n in config["simulation"]["participants_per_group"].values()) + " participants"
    ]
    parameter = {"a": "asymptote", "c": "log rate"}[target["parameter"]]
    effects = ", ".join(f"{e:g}" for e in power["effects"])
    specs = rule_specs(config, study, target)
    text = (
        f"Power was estimated by simulation. For each planted drug effect ({effects}, added to the {parameter} of "
        f"the {target['muscle']} {target['emotion']} curve in {' and '.join(drugs)}) and each design "
        f"({'; '.join(sizes)}), {power['replicates']} studies were simulated (the same studies at every effect) and "
        "their trial x window log EMG drawn from the simulator's generative model (planted participant curves, "
        "trial-to-trial response weights, the tonic fluctuation's window-minus-baseline covariance, artefacts and "
        "the outlier rules of the preprocessing). In each study two decision rules were applied at "
        f"alpha = {power['alpha']:g}: the drug x time test of the follow-up model ({specs['followup'].formulas[0]}) "
        f"and the emotion x drug x time test of the full model ({specs['full'].formulas[0]}), both fitted by REML "
        "(lme4, lmerTest, Satterthwaite degrees of freedom) to participant x condition x window means. Power is "
        "the share of studies with a detection, with exact (Clopper-Pearson) 95% intervals."
    )

    def share(cell: pd.Series) -> str:
        return f"{cell['power']:.1%} [{cell['ci_low']:.1%}, {cell['ci_high']:.1%}]"

    for row in detectable.itertuples():
        rows = table[
            (table["rule"] == row.rule) & _same_size(table["participants_per_group"], row.participants_per_group)
        ]
        largest = rows.loc[rows["effect"].abs().idxmax()]
        design = "" if pd.isna(row.participants_per_group) else f" with {row.participants_per_group} per group"
        text += (
            f" The {RULE_PHRASES.get(str(row.rule), str(row.rule))} test{design} detected the largest effect "
            f"({largest['effect']:g}) in {share(largest)} of the studies and "
            + (
                f"reached {row.target_power:.0%} power at an effect of {row.effect:.3f}"
                if pd.notna(row.effect)
                else f"did not reach {row.target_power:.0%} power within the effects simulated"
            )
        )
        null = rows[rows["effect"] == 0.0]
        text += f"; with no effect it detected {share(null.iloc[0])} of them." if len(null) else "."
    return text


def _same_size(sizes: pd.Series, size: Any) -> pd.Series:
    return sizes.isna() if pd.isna(size) else sizes == size
