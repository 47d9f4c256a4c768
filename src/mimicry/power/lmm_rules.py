"""The power analysis's frequentist decision rules: the follow-up LMM's drug x time test and the full LMM's
emotion x drug x time test of the target muscle, each at ``alpha``, fitted to participant x condition x window
means (their formulas without by-face terms, which means cannot carry): on the paper-size study 0.4 and 1.3 s
per fit instead of 2 and 29 s."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from mimicry.errors import InputError
from mimicry.lmm import fit_lmm_here, model_data
from mimicry.lmm_specs import LmmSpec
from mimicry.power.planning import LMM_RULES, PowerCell
from mimicry.power.studies import DESIGN_COLUMNS, StudyTemplate, design_columns, replicate_studies, typed
from mimicry.settings import PowerTarget

#: Columns of a batch's replicate table (the LMM rules).
REPLICATE_COLUMNS = [*DESIGN_COLUMNS, "effect", "replicate", "seed", "rule", "p", "detected", "warnings"]
#: The columns of a study's model data its participant means keep (a crossover's: per session, with its period
#: and sequence).
MEAN_KEYS = ("participant", "session", "period", "sequence", "drug", "emotion", "time")


def participant_means(data: pd.DataFrame) -> pd.DataFrame:
    """An LMM's trial rows averaged per participant [x session] x drug x emotion x time (the level the power rules
    fit)."""
    keys = [c for c in MEAN_KEYS if c in data.columns]
    return data.groupby(keys, as_index=False, observed=True)["log_emg"].mean()


def decisions(windows: pd.DataFrame, specs: Mapping[str, LmmSpec]) -> dict[str, tuple[float, int]]:
    """Each rule's p-value on one study's window table and how many warnings its fit gave (lme4's convergence
    and singularity messages), in a process whose R has lme4's default ordering (``specs``:
    :func:`mimicry.power.planning.rule_specs`)."""
    out = {}
    for rule, (model, term) in LMM_RULES.items():
        spec = specs[model]
        data, factors, _ = model_data(spec, windows)
        fitted = fit_lmm_here(participant_means(data), spec.formulas[0], factors, None, contrasts=spec.contrasts)
        row = fitted.anova[fitted.anova["term"] == term]
        if row.empty:
            raise InputError(f"power: the {model} model's formula {spec.formulas[0]!r} has no {term} term")
        out[rule] = (float(row["p"].iloc[0]), len(fitted.warnings))
    return out


def rule_p_values(specs: Mapping[str, LmmSpec], tables: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """Each LMM rule's p-value on each of several trial x window tables of one study (``table``: their position;
    one row per table x rule), e.g. its raw path's and fast-path draws of its participants (in a fresh R
    process: ``rsession.call_in_fresh_r``)."""
    rows = [
        (k, rule, p, warnings)
        for k, windows in enumerate(tables)
        for rule, (p, warnings) in decisions(windows, specs).items()
    ]
    return pd.DataFrame(rows, columns=["table", "rule", "p", "warnings"])


def run_batch_here(
    template: StudyTemplate,
    target: PowerTarget,
    seed: int,
    alpha: float,
    specs: Mapping[str, LmmSpec],
    cell: PowerCell,
    replicates: Sequence[int],
) -> pd.DataFrame:
    """Simulate the replicates of one batch (the grid's ``seed``; the effect planted as ``target`` says) and test
    each at ``alpha`` (in a fresh R process: ``rsession.call_in_fresh_r``)."""
    rows = []
    for replicate, study_seed, _, windows in replicate_studies(template, target, seed, cell, replicates):
        design = design_columns(cell, windows)
        for rule, (p, warnings) in decisions(windows, specs).items():
            rows.append(
                {**design, "effect": cell.effect, "replicate": replicate, "seed": study_seed, "rule": rule, "p": p}
                | {"detected": p < alpha, "warnings": warnings}
            )
    return typed(pd.DataFrame(rows, columns=REPLICATE_COLUMNS)).astype({"detected": bool})
