"""Power and false-positive rates of the study's decision rules, from many simulated studies with planted drug
effects (the paper's closing question: what effect could this design have detected?).

Each replicate is a whole study drawn from the simulator (``mimicry.simulate.simulate_participants``, its own
seed) with a drug effect planted on one muscle x emotion, its trial x window values drawn by the fast path
(``mimicry.fastpath``), and the paper's frequentist decision rules applied to it: the follow-up LMM's
drug x time test and the full model's emotion x drug x time test for the target muscle, each at ``alpha``. The
LMMs are fitted to participant x condition x window means (their formulas without the by-face terms, which means
cannot carry): on the paper-size study 0.4 and 1.3 s per fit instead of 2 and 29 s. The Bayesian rules
(``mimicry.bayes.power``) are applied to the first of the same studies; the tables here hold every rule.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mimicry.design import load_stimuli
from mimicry.errors import InputError
from mimicry.fastpath import floor_ratios, window_values
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
#: Columns of a batch's replicate table (the LMM rules).
REPLICATE_COLUMNS = ["effect", "participants_per_group", "replicate", "seed", "rule", "p", "detected", "warnings"]
#: Columns of the replicates of every rule: ``p`` and ``warnings`` for the LMM rules, ``converged`` (both models
#: passed the convergence gate) for the Bayesian ones.
ALL_REPLICATE_COLUMNS = [*REPLICATE_COLUMNS, "converged"]


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


def grid(power: Mapping[str, Any]) -> list[PowerCell]:
    """Every effect x group size of ``power`` (the config's ``power`` section)."""
    sizes: list[int | None] = list(power["participants_per_group"]) or [None]
    return [PowerCell(float(effect), size) for size in sizes for effect in power["effects"]]


def batches(power: Mapping[str, Any], rules: str = "lmm") -> list[PowerBatch]:
    """The grid's jobs for the LMM rules (``power.replicates`` per cell in batches of ``power.batch``) or the
    Bayesian ones (``power.bayes``'s; none with 0 replicates). The Bayesian rules' replicate r is the LMM rules'
    replicate r: the same simulated study."""
    settings = power if rules == "lmm" else power["bayes"]
    size, total = int(settings["batch"]), int(settings["replicates"])
    return [
        PowerBatch(cell, number, tuple(range(start, min(start + size, total))), rules)
        for cell in grid(power)
        for number, start in enumerate(range(0, total, size))
    ]


def target_groups(target: Mapping[str, Any], study: Study) -> list[str]:
    """The groups the effect is planted on: ``power.target.groups``, or every group but the reference."""
    return list(target["groups"]) or [g for g in study.groups if g != study.reference_group]


def replicate_simulation(
    simulation: Mapping[str, Any], power: Mapping[str, Any], study: Study, cell: PowerCell, seed: int
) -> dict[str, Any]:
    """The simulation config of one replicate: the study's, with the cell's effect planted on the target muscle x
    emotion of each drug group (added to any effect the study plants already), the cell's group size and the
    replicate's seed."""
    target = power["target"]
    drugs = target_groups(target, study)
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


def rule_p_values(config: Mapping[str, Any], tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Each LMM rule's p-value on each of several trial x window tables of one study (``table``: their position;
    one row per table x rule), e.g. its raw path's and fast-path draws of its participants (in a fresh R
    process: ``rsession.call_in_fresh_r``)."""
    study = Study.from_config(config["study"])
    specs = rule_specs(config, study, config["power"]["target"])
    rows = [
        (k, rule, p, warnings)
        for k, windows in enumerate(tables)
        for rule, (p, warnings) in decisions(windows, specs).items()
    ]
    return pd.DataFrame(rows, columns=["table", "rule", "p", "warnings"])


def replicate_studies(
    config: Mapping[str, Any], stimuli_path: str, cell: PowerCell, replicates: Sequence[int]
) -> Iterator[tuple[int, int, dict[str, Any], pd.DataFrame]]:
    """Each replicate's number, seed, simulation config and trial x window table (the fast path's): the same
    study for a replicate number whichever rules are applied to it."""
    study = Study.from_config(config["study"])
    emg = EmgSettings.from_config(config["preprocessing"]["emg"])
    stimuli = load_stimuli(stimuli_path, study.emotions)
    for replicate, seed in zip(replicates, replicate_seeds(config["power"], cell, replicates), strict=True):
        simulation = replicate_simulation(config["simulation"], config["power"], study, cell, seed)
        _, parameters, effects = simulate_participants(simulation, study)
        floor = floor_ratios(parameters, simulation, emg, list(study.muscles))
        yield (
            replicate,
            seed,
            simulation,
            window_values(effects, stimuli, simulation, emg, list(study.muscles), [seed, 3], floor),
        )


def run_batch_here(
    config: Mapping[str, Any], stimuli_path: str, cell: PowerCell, replicates: Sequence[int]
) -> pd.DataFrame:
    """Simulate and test the replicates of one batch (in a fresh R process: ``rsession.call_in_fresh_r``)."""
    study = Study.from_config(config["study"])
    power = config["power"]
    specs = rule_specs(config, study, power["target"])
    rows = []
    for replicate, seed, _, windows in replicate_studies(config, stimuli_path, cell, replicates):
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


def all_replicates(lmm: pd.DataFrame, bayes: pd.DataFrame) -> pd.DataFrame:
    """One row per study x rule (``ALL_REPLICATE_COLUMNS``): the LMM batches' rows and the Bayesian rules'
    decisions (``mimicry.bayes.power.rule_decisions``; empty: they did not run)."""
    tables = [lmm.assign(converged=pd.NA)]
    if len(bayes):
        tables.append(bayes.assign(p=np.nan, warnings=pd.NA))
    table = pd.concat(tables, ignore_index=True)[ALL_REPLICATE_COLUMNS]
    return table.astype({"participants_per_group": "Int64", "warnings": "Int64", "converged": "boolean"})


def power_table(replicates: pd.DataFrame) -> pd.DataFrame:
    """Per effect x group size x rule: replicates, detections, power and its 95% interval, the Monte Carlo
    standard error, and (Bayesian rules) how many studies' fits missed the convergence gate."""
    keys = ["effect", "participants_per_group", "rule"]
    grouped = replicates.groupby(keys, dropna=False, sort=True)
    table = grouped["detected"].agg(replicates="size", detections="sum").reset_index()
    table["power"] = table["detections"] / table["replicates"]
    table["ci_low"], table["ci_high"] = clopper_pearson(table["detections"], table["replicates"])
    table["mc_se"] = np.sqrt(table["power"] * (1 - table["power"]) / table["replicates"])
    if "converged" in replicates:
        failed = grouped["converged"].agg(lambda c: int((~c.dropna().astype(bool)).sum()) if c.notna().any() else -1)
        table["failed_gate"] = pd.array(failed.to_numpy(), dtype="Int64")
        table.loc[table["failed_gate"] == -1, "failed_gate"] = pd.NA  # the LMM rules have no gate
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


def methods_paragraph(
    config: Mapping[str, Any], table: pd.DataFrame, detectable: pd.DataFrame, coverage: pd.DataFrame | None = None
) -> str:
    """The power analysis as a methods and results paragraph, from the config it ran with and its tables
    (``coverage``: :func:`mimicry.bayes.power.coverage_table`, when the Bayesian rules ran)."""
    study = Study.from_config(config["study"])
    power, target = config["power"], config["power"]["target"]
    drugs = target_groups(target, study)
    sizes = [f"{n} per group" for n in power["participants_per_group"]] or [
        "/".join(str(n) for n in config["simulation"]["participants_per_group"].values()) + " participants"
    ]
    parameter = {"a": "asymptote", "c": "log rate"}[target["parameter"]]
    effects = ", ".join(f"{e:g}" for e in power["effects"])
    specs = rule_specs(config, study, target)
    bayes = power["bayes"] if coverage is not None and len(coverage) else None
    text = (
        f"Power was estimated by simulation. For each planted drug effect ({effects}, added to the {parameter} of "
        f"the {target['muscle']} {target['emotion']} curve in {' and '.join(drugs)}) and each design "
        f"({'; '.join(sizes)}), {power['replicates']} studies were simulated (the same studies at every effect) and "
        "their trial x window log EMG drawn from the simulator's generative model (planted participant curves, "
        "trial-to-trial response weights, the tonic fluctuation's window-minus-baseline covariance, artefacts and "
        "the outlier rules of the preprocessing). In each study two frequentist decision rules were applied at "
        f"alpha = {power['alpha']:g}: the drug x time test of the follow-up model ({specs['followup'].formulas[0]}) "
        f"and the emotion x drug x time test of the full model ({specs['full'].formulas[0]}), both fitted by REML "
        "(lme4, lmerTest, Satterthwaite degrees of freedom) to participant x condition x window means."
    )
    if bayes is not None:
        text += (
            f" In the first {bayes['replicates']} studies of each effect and design, the Bayesian asymptotic model "
            f"(participant effects of a and b integrated out) was fitted to the {target['muscle']} "
            f"{target['emotion']} window means with and without drug effects ({bayes['chains']} chains x "
            f"{bayes['draws']} draws after {bayes['warmup']} warm-up, nutpie), and two Bayesian rules applied: the "
            f"full model's {parameter} contrast of a drug with {study.reference_group} has a "
            f"{config['statistics']['bayes']['hdi_prob']:.0%} HDI excluding 0 (for either drug), and "
            "leave-one-participant-out favours the model with drug effects (weight above 0.5)."
        )
    text += " Power is the share of studies with a detection, with exact (Clopper-Pearson) 95% intervals."

    def share(cell: pd.Series) -> str:
        return f"{cell['power']:.1%} [{cell['ci_low']:.1%}, {cell['ci_high']:.1%}]"

    order = {rule: k for k, rule in enumerate(RULE_LABELS)}  # the LMM rules first, as the text introduces them
    for row in detectable.sort_values("rule", key=lambda rules: rules.map(order)).itertuples():
        rows = table[
            (table["rule"] == row.rule) & _same_size(table["participants_per_group"], row.participants_per_group)
        ]
        largest = rows.loc[rows["effect"].abs().idxmax()]
        design = "" if pd.isna(row.participants_per_group) else f" with {row.participants_per_group} per group"
        reached = math.copysign(row.effect, largest["effect"])  # a size, given the sign of the grid's effects
        text += (
            f" The {RULE_PHRASES.get(str(row.rule), str(row.rule))}{design} detected the largest effect "
            f"({largest['effect']:g}) in {share(largest)} of the studies and "
            + (
                f"reached {row.target_power:.0%} power at an effect of {reached:.3f}"
                if pd.notna(row.effect)
                else f"did not reach {row.target_power:.0%} power within the effects simulated"
            )
        )
        null = rows[rows["effect"] == 0.0]
        text += f"; with no effect it detected {share(null.iloc[0])} of them." if len(null) else "."
    if bayes is not None and coverage is not None:
        covered, total = int(coverage["covered"].sum()), int(coverage["contrasts"].sum())
        low, high = clopper_pearson(np.array([covered]), np.array([total]))
        largest = coverage.loc[coverage["effect"].abs().idxmax()]
        text += (
            f" The {config['statistics']['bayes']['hdi_prob']:.0%} HDI covered the planted contrast in "
            f"{covered / total:.1%} [{low[0]:.1%}, {high[0]:.1%}] of {total} contrasts "
            f"({coverage['coverage'].min():.0%} to {coverage['coverage'].max():.0%} across effects and designs); "
            f"at the largest effect ({largest['effect']:g}) the posterior means erred by {largest['mean_error']:+.3f} "
            "on average."
        )
        studies = table[table["rule"] == "bayes_contrast_hdi"]  # both Bayesian rules decide on the same fits
        if len(studies):
            failed, fitted = int(studies["failed_gate"].sum()), int(studies["replicates"].sum())
            diagnostics = config["statistics"]["bayes"]["diagnostics"]
            text += (
                (
                    f" In {failed} of {fitted} studies a Bayesian fit"
                    if failed
                    else f" No Bayesian fit of the {fitted} studies"
                )
                + " missed the convergence gate (R-hat, bulk ESS of the population parameters, divergences: "
                f"{diagnostics['max_rhat']:g}, {diagnostics['min_ess_bulk']:g}, {diagnostics['max_divergences']})."
            )
    return text


def _same_size(sizes: pd.Series, size: Any) -> pd.Series:
    return sizes.isna() if pd.isna(size) else sizes == size
