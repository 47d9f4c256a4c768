"""The power analysis's Bayesian rules: a compiled model takes another study of the same shape and gives the
density a model built on it gives; the target cell's series over every participant; the planted contrast; the
rules' decisions and the intervals' coverage."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pymc as pm
import pytest
from test_bayes_marginal import DRUGS, EMOTIONS, MUSCLES, _trials

from helpers import DEFAULT, POWER, SIMULATION, STUDY
from mimicry.bayes.marginal import Series, marginal_model, series_data
from mimicry.bayes.model import Cells
from mimicry.power import bayes_rules as bayes_power
from mimicry.power import lmm_rules, planning, studies, summary
from mimicry.settings import Diagnostics, PowerTarget, Priors
from mimicry.simulate.participants import planted_conditions

PRIORS = Priors.from_config(DEFAULT["statistics"]["bayes"])
GATE = Diagnostics.from_config(DEFAULT["statistics"]["bayes"]["diagnostics"])
SPECS = planning.rule_specs(DEFAULT, STUDY, POWER.target)


@pytest.mark.parametrize("model", ["full", "no_drug"])
def test_a_shared_model_given_another_study_has_that_studys_density(model: str) -> None:
    """The power analysis compiles a model once and swaps the study (nutpie's with_data): the log density with
    the second study's data set equals that of a model built on the second study, at several points."""
    first, second = _trials(0), _trials(1)
    cells = Cells.of(first, DRUGS, MUSCLES, EMOTIONS)
    series = {
        name: Series.of(data, Cells.of(data, DRUGS, MUSCLES, EMOTIONS)) for name, data in (("a", first), ("b", second))
    }
    assert series["a"].count.shape == series["b"].count.shape and not np.array_equal(series["a"].mean, series["b"].mean)
    shared = marginal_model(series["a"], cells, model, PRIORS, "bambi", shared=True)
    fresh = marginal_model(series["b"], cells, model, PRIORS, "bambi")
    with shared:
        pm.set_data({k: v for k, v in series_data(series["b"]).items() if k in shared.named_vars})
    shared_logp, fresh_logp = shared.compile_logp(), fresh.compile_logp()
    rng = np.random.default_rng(3)
    point = shared.initial_point()
    for _ in range(3):
        moved = {name: value + rng.normal(0.0, 0.3, np.shape(value)) for name, value in point.items()}
        assert shared_logp(moved) == pytest.approx(fresh_logp(moved), rel=1e-12)


def test_the_target_series_has_every_participant_of_the_study() -> None:
    """A participant without a kept trial in the target cell is a series without data (count 0, drug -1), so that
    every study of a grid cell has the same shape; the others keep their group."""
    trials = _trials(0).assign(rejected=False).rename(columns={"drug": "group"})
    trials.loc[trials["participant"] == "p2", "rejected"] = True
    cells = bayes_power.target_cells(DRUGS, ["p1", "p2", "p3"], PowerTarget("zygomaticus", "angry", "a", ()))
    data, series = bayes_power.target_series(trials, cells)
    assert set(data["participant"]) == {"p1", "p3"} and series.count.shape == (3, 1, 5)
    assert series.count[1].sum() == 0 and series.drug.tolist() == [0, -1, 0]
    assert series.count[0].sum() == len(data[data["participant"] == "p1"])  # participant means: 1 per window


def test_the_planted_contrast_is_the_drug_groups_shift_from_the_reference() -> None:
    simulation = studies.replicate_simulation(SIMULATION, STUDY, POWER.target, planning.PowerCell(-0.06, None), seed=5)
    planted = bayes_power.planted_contrasts(planted_conditions(simulation, STUDY), POWER.target, STUDY.reference_group)
    assert planted == pytest.approx({"amisulpride": -0.06, "naltrexone": -0.06})
    on_rate = bayes_power.planted_contrasts(
        planted_conditions(simulation, STUDY), dataclasses.replace(POWER.target, parameter="c"), "placebo"
    )
    assert on_rate == pytest.approx({"amisulpride": 0.0, "naltrexone": 0.0})


#: The design columns of the studies below: the study's own group sizes, 130 participants.
BETWEEN = ("between", None, 130, 130)


def _contrast_rows() -> pd.DataFrame:
    """Two studies x two drugs: the first's amisulpride HDI excludes 0 and LOPO favours drug effects; the second
    has no detection and its fits missed the gate."""
    first = (10.0, 8.0, 0.88, 1.0, 900, 0, True)
    second = (5.0, 6.0, 0.27, 1.02, 300, 2, False)
    rows = [
        (-0.09, 0, 11, "amisulpride", -0.09, -0.1, -0.15, -0.05, True, True, *first),
        (-0.09, 0, 11, "naltrexone", -0.09, -0.03, -0.09, 0.02, False, True, *first),
        (-0.09, 1, 12, "amisulpride", -0.09, 0.01, -0.05, 0.06, False, False, *second),
        (-0.09, 1, 12, "naltrexone", -0.09, -0.02, -0.08, 0.04, False, True, *second),
    ]
    return studies.typed(pd.DataFrame([(*BETWEEN, *row) for row in rows], columns=bayes_power.STUDY_CONTRAST_COLUMNS))


def _lmm_rows() -> pd.DataFrame:
    """The same two studies' follow-up rule: both detected."""
    rows = [(*BETWEEN, -0.09, r, 11 + r, "followup_drug_x_time", 0.01, True, 0) for r in range(2)]
    return studies.typed(pd.DataFrame(rows, columns=lmm_rules.REPLICATE_COLUMNS))


def test_the_rules_decide_per_study_and_the_table_counts_fits_that_missed_the_gate() -> None:
    decisions = bayes_power.rule_decisions(_contrast_rows())
    decided = decisions.set_index(["rule", "replicate"])["detected"]
    assert decided[("bayes_contrast_hdi", 0)] and not decided[("bayes_contrast_hdi", 1)]  # either drug's HDI
    assert decided[("bayes_lopo_weight", 0)] and not decided[("bayes_lopo_weight", 1)]
    lmm = _lmm_rows()
    replicates = summary.all_replicates(lmm, decisions)
    assert list(replicates.columns) == summary.ALL_REPLICATE_COLUMNS and len(replicates) == 6
    table = summary.power_table(replicates).set_index("rule")
    assert table.loc["bayes_contrast_hdi", "power"] == 0.5 and table.loc["bayes_lopo_weight", "failed_gate"] == 1
    assert pd.isna(table.loc["followup_drug_x_time", "failed_gate"])  # the LMM rules have no gate


def test_coverage_counts_the_planted_contrasts_inside_their_intervals() -> None:
    coverage = bayes_power.coverage_table(_contrast_rows()).iloc[0]
    assert (coverage["contrasts"], coverage["covered"], coverage["coverage"]) == (4, 3, 0.75)
    assert coverage["ci_low"] < 0.75 < coverage["ci_high"]
    assert coverage["mean_error"] == pytest.approx(np.mean([-0.1, -0.03, 0.01, -0.02]) + 0.09)  # mean - planted


def test_the_methods_paragraph_reports_coverage_mean_error_and_the_gate() -> None:
    contrasts = _contrast_rows()
    lmm = _lmm_rows()

    def paragraph(rows: pd.DataFrame) -> str:
        table = summary.power_table(summary.all_replicates(lmm, bayes_power.rule_decisions(rows)))
        detectable = summary.smallest_detectable(table, 0.8)
        return summary.methods_paragraph(
            STUDY,
            SIMULATION,
            POWER,
            {"between": SPECS},
            0.95,
            GATE,
            table,
            detectable,
            bayes_power.coverage_table(rows),
        )

    text = paragraph(contrasts)
    assert "covered the planted contrast in 75.0% [" in text and "of 4 contrasts" in text
    assert "at the largest effect (-0.09) the posterior means erred by +0.055 on average" in text
    assert "In 1 of 2 studies a Bayesian fit missed the convergence gate" in text
    assert "reached 80% power at an effect of -0.090" in text  # the follow-up rule: a size, given the grid's sign
    assert "No Bayesian fit of the 2 studies missed the convergence gate" in paragraph(contrasts.assign(converged=True))
