"""The LMMs named and specified in one place (mimicry.lmm_specs): names, labels, formulas as fitted, covariates
from participants.tsv, and every formula checked against the data's columns and levels before any fit."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from helpers import DEFAULT, STUDY
from mimicry.lmm import model_data
from mimicry.lmm_specs import LmmSpec, check_specs, formula_variables, lmm_specs, without_grouping

EMG_FORMULA = DEFAULT["statistics"]["emg"]["formula"]
RT_FORMULA = DEFAULT["statistics"]["rt"]["formula"]
LEVELS = {"participant": 130, "face": 24}


def test_the_papers_models_by_name() -> None:
    specs = lmm_specs(DEFAULT, STUDY)
    assert [s.name for s in specs] == ["emg_corrugator", "emg_zygomaticus", "emg_zygomaticus_AngryToHappy", "rt"]
    assert [s.label for s in specs] == [
        "Corrugator EMG",
        "Zygomaticus EMG",
        "Zygomaticus EMG, AngryToHappy videos (follow-up)",
        "Response times",
    ]
    assert specs[0].formulas == (EMG_FORMULA,) and specs[3].formulas == (RT_FORMULA,)
    assert all(spec.covariates == () for spec in specs)
    assert LmmSpec.from_params(specs[2].as_params()) == specs[2]
    assert [s.name for s in lmm_specs(DEFAULT, STUDY, response_times=False)][-1] == "emg_zygomaticus_AngryToHappy"


def test_formula_names_and_face_terms() -> None:
    assert formula_variables(EMG_FORMULA) == ["log_emg", "emotion", "drug", "time", "participant", "face"]
    assert without_grouping(EMG_FORMULA, "face") == (
        "log_emg ~ emotion * drug * time + (1 + emotion * time | participant)"
    )
    assert without_grouping(RT_FORMULA, "face") == "response_time ~ emotion * drug + (1 + emotion | participant)"
    assert without_grouping(EMG_FORMULA, "block") == EMG_FORMULA
    specs = lmm_specs(DEFAULT, STUDY, faces=False)
    assert not any("face" in formula for spec in specs for formula in spec.formulas)


def test_participant_columns_are_covariates() -> None:
    config = copy.deepcopy(DEFAULT)
    config["statistics"]["emg"]["formula"] = "log_emg ~ emotion * drug * time + session + (1 | participant)"
    specs = lmm_specs(config, STUDY, participant_columns=("session", "age"))
    assert specs[0].covariates == ("session",) and specs[2].covariates == ()
    assert check_specs(specs, STUDY, ("session", "age"), LEVELS) == []
    windows = pd.DataFrame(
        {
            "participant": ["001", "002"],
            "group": ["placebo", "naltrexone"],
            "trial": 1,
            "video": "v01",
            "face": "f01",
            "block": 1,
            "emotion": "AngryToHappy",
            "muscle": "corrugator",
            "window": 1,
            "log_emg": [0.1, 0.2],
            "rejected": False,
            "reason": "",
        }
    )
    participants = pd.DataFrame({"participant_id": ["sub-001", "sub-002"], "group": "x", "session": [1, 2]})
    data, factors, trend = model_data(specs[0], windows, participants)
    assert data["session"].tolist() == [1, 2] and trend == ("time", "emotion")
    assert list(factors) == ["emotion", "drug"]


@pytest.mark.parametrize(
    ("change", "levels", "message"),
    [
        (
            {"emg": "log_emg ~ emotion * drug * time + session + (1 | participant)"},
            LEVELS,
            "statistics.emg formula `log_emg ~ emotion * drug * time + session + (1 | participant)`: term 'session' "
            "names no column: the model's data has ['participant', 'drug', 'face', 'emotion', 'time', 'log_emg'], "
            "participants.tsv has ['age']; add the column to participants.tsv or drop the term",
        ),
        (
            {},
            {"participant": 130, "face": 1},
            "grouping factor 'face' of (1 | face) has 1 level(s) in the data; lme4 needs more than one",
        ),
        ({"followup_muscle": "masseter"}, LEVELS, "statistics.followup.muscle 'masseter' is not one of study.channels"),
    ],
)
def test_a_formula_that_cannot_be_fitted_is_named_before_any_fit(change: dict, levels: dict, message: str) -> None:
    config = copy.deepcopy(DEFAULT)
    if "emg" in change:
        config["statistics"]["emg"]["formula"] = change["emg"]
    if "followup_muscle" in change:
        config["statistics"]["followup"]["muscle"] = change["followup_muscle"]
    problems = check_specs(lmm_specs(config, STUDY, participant_columns=("age",)), STUDY, ("age",), levels)
    assert any(message in str(problem) for problem in problems), [str(p) for p in problems]


def test_a_single_time_window_needs_formulas_without_time() -> None:
    problems = check_specs(lmm_specs(DEFAULT, STUDY), STUDY, (), LEVELS, n_windows=1)
    assert len(problems) == 3 and all("term 'time' with a single time window" in str(p) for p in problems)
    config = copy.deepcopy(DEFAULT)
    config["statistics"]["emg"]["formula"] = "log_emg ~ emotion * drug + (1 + emotion | participant) + (1 | face)"
    config["statistics"]["followup"]["formula"] = "log_emg ~ drug + (1 | participant) + (1 | face)"
    timeless = lmm_specs(config, STUDY)
    assert check_specs(timeless, STUDY, (), LEVELS, n_windows=1) == []
    windows = pd.DataFrame(
        {
            "participant": ["001", "002"],
            "group": ["placebo", "naltrexone"],
            "face": "f01",
            "emotion": "AngryToHappy",
            "muscle": "corrugator",
            "window": 1,
            "log_emg": [0.1, 0.2],
            "rejected": False,
        }
    )
    assert model_data(timeless[0], windows)[2] is None  # no time, no time slope


def test_fewer_than_three_windows_have_no_asymptotic_model() -> None:
    from mimicry.bayes_specs import asymptotic_skipped

    assert asymptotic_skipped(3) == "" and asymptotic_skipped(5) == ""
    assert asymptotic_skipped(2).startswith("The asymptotic model needs at least 3 time windows")


def test_lme4s_messages_reported_together_are_each_a_warning() -> None:
    """lme4 returns the messages of one check together (a character vector, as on the crossover's follow-up
    model: a failed convergence and a near-unidentifiability); each is a warning of its own, so that the
    convergence verdict sees "failed to converge"."""
    from mimicry.lmm import LmmResult, as_text

    together = ("Model failed to converge with max|grad| = 0.0056", "Model is nearly unidentifiable: large eigenvalue")
    warnings = as_text(["boundary (singular) fit: see help('isSingular')", together])
    assert warnings == ["boundary (singular) fit: see help('isSingular')", *together]
    assert not LmmResult("y ~ x", 1, 1, pd.DataFrame(), pd.DataFrame(), None, warnings=warnings).converged
