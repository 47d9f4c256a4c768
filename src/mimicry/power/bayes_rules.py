"""The Bayesian decision rules of the power analysis, fitted to many simulated studies at an affordable cost.

Each study is fitted on the target muscle x emotion alone (the cell where the effect is planted), by the
integrated-out (marginal) asymptotic model: the full model (drug effects on the asymptote and the rate) and the
model without drug effects. In the study's own model the cells share only the residual SD, so the target cell's
drug contrast is, up to that, the one the whole model gives; with one cell the bambi and brms variants are the
same model (a 1 x 1 correlation). Each model is compiled once per batch and refitted to each study of the batch
(the studies of a grid cell have the same shape: nutpie's ``with_data``).

Two rules per study:

- ``bayes_contrast_hdi``: the full model's drug - reference contrast of the target parameter has a highest-density
  interval that excludes 0, for at least one target drug (as the study reports its contrasts);
- ``bayes_lopo_weight``: leave-one-participant-out favours the full model over the model without drug effects
  (its weight exp(elpd), normalised over the two, above 0.5), on the target cell alone: a comparison over all
  cells would add the other cells' drug parameters, with no effect planted on them, to the full model's side.

Each contrast's interval is also checked against the planted contrast (its coverage).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import xarray as xr

from mimicry.bayes.compare import ic_weights, lopo_pointwise
from mimicry.bayes.contrasts import POPULATION_PARAMETERS, drug_contrasts
from mimicry.bayes.marginal import Series, marginal_model, series_data, with_recovered_effects
from mimicry.bayes.model import Cells, model_data
from mimicry.bayes.sampling import _posterior, reproducible_compilation, tidy_posterior
from mimicry.power.planning import PowerCell, target_groups
from mimicry.power.studies import DESIGN_COLUMNS, StudyTemplate, design_columns, replicate_studies, typed
from mimicry.power.summary import clopper_pearson
from mimicry.settings import Diagnostics, PowerBayesSettings, PowerTarget, Priors
from mimicry.simulate.participants import planted_conditions

#: The two nested models the rules fit: the full one (its contrasts) and the one without drug effects.
RULE_MODELS = ("full", "no_drug")
#: The posterior parameter a contrast is taken of, per ``power.target.parameter``.
TARGET_PARAMETERS = {"a": "asymptote", "c": "rate"}
#: Columns of a Bayesian batch's table: one row per study x target drug.
STUDY_CONTRAST_COLUMNS = [
    *DESIGN_COLUMNS,
    "effect",
    "replicate",
    "seed",
    "drug",
    "planted",
    "mean",
    "hdi_low",
    "hdi_high",
    "excludes_zero",
    "covered",
    "elpd_lopo_full",
    "elpd_lopo_no_drug",
    "weight_lopo_full",
    "max_rhat",
    "min_ess_bulk",
    "divergences",
    "converged",
]
#: The population parameters whose R-hat and bulk ESS gate a power fit (the rules use nothing else).
GATED = POPULATION_PARAMETERS


@dataclass(frozen=True)
class RuleSampling:
    """How each study's models are sampled (``power.bayes``: chains, warm-up, draws, LOPO draws), with the
    study's ``statistics.bayes`` target acceptance and HDI, and the gate they must pass
    (``statistics.bayes.diagnostics``)."""

    rules: PowerBayesSettings
    target_accept: float
    hdi_prob: float
    gate: Diagnostics


def target_cells(
    groups: Sequence[str], participants: Sequence[str], target: PowerTarget, sessions: Sequence[str] = ()
) -> Cells:
    """The target muscle x emotion as the model's only cell, over every participant [x session] of the study (one
    without a kept trial there has no data and adds nothing, and every study of a grid cell has the same
    shape)."""
    return Cells(
        list(groups),
        [target.muscle],
        [target.emotion],
        sorted(participants),
        np.empty(0, dtype=int),
        np.empty(0, dtype=int),
        np.empty(0, dtype=int),
        sorted(sessions),
        np.empty(0, dtype=int) if sessions else None,
    )


def study_cells(windows: pd.DataFrame, groups: Sequence[str], target: PowerTarget) -> Cells:
    """:func:`target_cells` over a study's participants [and sessions]."""
    sessions = sorted(windows["session"].astype(str).unique()) if "session" in windows.columns else []
    return target_cells(groups, sorted(windows["participant"].astype(str).unique()), target, sessions)


def target_series(windows: pd.DataFrame, cells: Cells) -> tuple[pd.DataFrame, Series]:
    """The model data (participant [x session] means of kept trials) of the target cell and its series over
    ``cells``'s participants [and sessions] (one without data there has drug code -1 and a log density of 0)."""
    in_cell = (windows["muscle"] == cells.muscles[0]) & (windows["emotion"] == cells.emotions[0])
    data = model_data(windows[in_cell], "participant")
    coded = Cells.of(data, cells.drugs, cells.muscles, cells.emotions)
    coded = replace(
        coded,
        participants=cells.participants,
        participant=pd.Index(cells.participants).get_indexer(data["participant"]),
    )
    if cells.crossover:
        coded = replace(coded, sessions=cells.sessions, session=pd.Index(cells.sessions).get_indexer(data["session"]))
    return data, Series.of(data, coded)


def planted_contrasts(conditions: pd.DataFrame, target: PowerTarget, reference: str) -> dict[str, float]:
    """Each group's planted difference from the reference group in the target parameter of the target cell
    (``conditions``: :func:`mimicry.simulate.planted_conditions` of the study's simulation)."""
    column = target.parameter
    cell = conditions[(conditions["muscle"] == target.muscle) & (conditions["emotion"] == target.emotion)]
    values = cell.set_index("group")[column]
    return {str(group): float(values[group] - values[reference]) for group in values.index if group != reference}


def gate_verdict(posterior: xr.Dataset, divergences: int, gate: Diagnostics) -> tuple[float, float, bool]:
    """Worst R-hat and lowest bulk ESS of the population parameters, and whether the fit passes the gate."""
    import arviz as az

    gated = posterior[[name for name in GATED if name in posterior]]
    rhat = float(az.rhat(gated).to_array().max())
    ess = float(az.ess(gated, method="bulk").to_array().min())
    return rhat, ess, bool(rhat <= gate.max_rhat and ess >= gate.min_ess_bulk and divergences <= gate.max_divergences)


class RuleModels:
    """The rules' models of one grid cell, compiled once (``series``: any study of the cell, for the shapes)."""

    def __init__(self, cells: Cells, series: Series, priors: Priors, sampling: RuleSampling, parameter: str) -> None:
        import nutpie

        self.cells, self.sampling = cells, sampling
        self.parameter = TARGET_PARAMETERS[parameter]  #: the posterior variable the contrasts are taken of
        with reproducible_compilation():
            self.compiled = {
                model: nutpie.compile_pymc_model(marginal_model(series, cells, model, priors, "bambi", shared=True))
                for model in RULE_MODELS
            }

    def fit(self, model: str, series: Series, seed: int) -> tuple[xr.Dataset, int]:
        """One model's posterior (the shared tidy layout) for one study, and its divergences."""
        import nutpie

        compiled = self.compiled[model]
        used = {variable.name for variable in compiled.shared_var_keys}  # the no-drug model has no drug codes
        raw = nutpie.sample(
            compiled.with_data(**{name: values for name, values in series_data(series).items() if name in used}),
            draws=self.sampling.rules.draws,
            tune=self.sampling.rules.warmup,
            chains=self.sampling.rules.chains,
            cores=1,
            seed=seed,
            target_accept=self.sampling.target_accept,
            progress_bar=False,
        )
        posterior = with_recovered_effects(_posterior(raw), series, "bambi", seed)
        return tidy_posterior(posterior, "pymc", self.cells), int(raw["sample_stats"]["diverging"].sum())


def study_contrasts(
    models: RuleModels, windows: pd.DataFrame, reference: str, planted: Mapping[str, float], seed: int
) -> pd.DataFrame:
    """One study's rows: per target drug (the keys of ``planted``) its contrast with the HDI and whether it
    covers the planted contrast, both models' leave-one-participant-out elpd and the full model's weight, and
    the fits' diagnostics (the worse of the two)."""
    data, series = target_series(windows, models.cells)
    seeds = np.random.SeedSequence([seed, 4]).generate_state(len(RULE_MODELS))
    elpd, worst_rhat, lowest_ess, divergent, converged = {}, 0.0, np.inf, 0, True
    contrasts = pd.DataFrame()
    for model, model_seed in zip(RULE_MODELS, seeds, strict=True):
        posterior, divergences = models.fit(model, series, int(model_seed))
        rhat, ess, passed = gate_verdict(posterior, divergences, models.sampling.gate)
        worst_rhat, lowest_ess = max(worst_rhat, rhat), min(lowest_ess, ess)
        divergent, converged = divergent + divergences, converged and passed
        elpd[model] = float(lopo_pointwise(posterior, data, models.sampling.rules.lopo_draws)["elpd_lopo"].sum())
        if model == "full":
            contrasts = drug_contrasts(posterior, model, reference, models.sampling.hdi_prob, passed)
    rows = contrasts[(contrasts["parameter"] == models.parameter) & contrasts["drug"].isin(list(planted))]
    weight = float(ic_weights([-2.0 * elpd["full"], -2.0 * elpd["no_drug"]])[0])
    return pd.DataFrame(
        {
            "drug": rows["drug"].to_numpy(),
            "planted": [planted[d] for d in rows["drug"]],
            "mean": rows["mean"].to_numpy(),
            "hdi_low": rows["hdi_low"].to_numpy(),
            "hdi_high": rows["hdi_high"].to_numpy(),
            "excludes_zero": rows["excludes_zero"].to_numpy(),
            "covered": [(r.hdi_low <= planted[r.drug] <= r.hdi_high) for r in rows.itertuples()],
            "elpd_lopo_full": elpd["full"],
            "elpd_lopo_no_drug": elpd["no_drug"],
            "weight_lopo_full": weight,
            "max_rhat": worst_rhat,
            "min_ess_bulk": lowest_ess,
            "divergences": divergent,
            "converged": converged,
        }
    )


def run_batch(
    template: StudyTemplate,
    target: PowerTarget,
    seed: int,
    sampling: RuleSampling,
    priors: Priors,
    cell: PowerCell,
    replicates: Sequence[int],
) -> pd.DataFrame:
    """Simulate the replicates of one batch (the LMM rules' studies of the same numbers: the same ``seed``, the
    power seed) and apply the Bayesian rules to each, the models compiled once for the batch: one row per study x
    target drug."""
    study = template.study
    drugs = target_groups(target, study)
    models = None
    tables = []
    for replicate, replicate_seed, simulation, windows in replicate_studies(template, target, seed, cell, replicates):
        if models is None:
            cells = study_cells(windows, list(study.groups), target)
            models = RuleModels(cells, target_series(windows, cells)[1], priors, sampling, target.parameter)
        planted = planted_contrasts(planted_conditions(simulation, study), target, study.reference_group)
        table = study_contrasts(models, windows, study.reference_group, {d: planted[d] for d in drugs}, replicate_seed)
        tables.append(
            table.assign(**design_columns(cell, windows), effect=cell.effect, replicate=replicate, seed=replicate_seed)
        )
    return typed(pd.concat(tables, ignore_index=True)[STUDY_CONTRAST_COLUMNS])


def rule_decisions(contrasts: pd.DataFrame) -> pd.DataFrame:
    """Per study x Bayesian rule, whether it detected an effect (``contrasts``: the batches' rows)."""
    keys = [*DESIGN_COLUMNS, "effect", "replicate", "seed"]
    studies = contrasts.groupby(keys, dropna=False, sort=True).agg(
        hdi=("excludes_zero", "any"), weight=("weight_lopo_full", "first"), converged=("converged", "all")
    )
    decided = {"bayes_contrast_hdi": studies["hdi"], "bayes_lopo_weight": studies["weight"] > 0.5}
    return pd.concat(
        [
            pd.DataFrame({"rule": rule, "detected": detected.astype(bool), "converged": studies["converged"]})
            for rule, detected in decided.items()
        ]
    ).reset_index()


def coverage_table(contrasts: pd.DataFrame) -> pd.DataFrame:
    """Per design x size x effect: how many planted contrasts the HDIs covered, the share, its exact interval, and
    the posterior means' mean error (mean - planted: positive where the estimates fall short of a negative
    effect)."""
    grouped = contrasts.assign(error=contrasts["mean"] - contrasts["planted"]).groupby(
        [*DESIGN_COLUMNS, "effect"], dropna=False, sort=True
    )
    table = grouped.agg(contrasts=("covered", "size"), covered=("covered", "sum")).reset_index()
    table["coverage"] = table["covered"] / table["contrasts"]
    table["ci_low"], table["ci_high"] = clopper_pearson(table["covered"], table["contrasts"])
    table["mean_error"] = grouped["error"].mean().to_numpy()
    return table
