"""The report speaks of the study that ran: its title, groups, conditions and stimuli from the config, a style
for any group name, the paper's figures only beside a study of the paper's design, no RT words without RTs."""

from __future__ import annotations

import copy

import pandas as pd

from helpers import DEFAULT, STUDY
from mimicry import findings
from mimicry.figures import REFERENCE_STYLE, group_styles
from mimicry.gather import rejection_rates
from mimicry.methods import data_paragraph
from mimicry.study import Study

OTHER_LAB = {
    **DEFAULT["study"],
    "title": "Facial mimicry after oxytocin",
    "stimulus": "photographs of emotional faces",
    "groups": ["oxytocin", "vasopressin", "saline"],
    "reference_group": "saline",
    "emotions": ["angry", "happy", "neutral"],
    "trials_per_participant": None,
}


def test_any_groups_get_distinct_styles_around_a_neutral_reference() -> None:
    paper = group_styles(STUDY.groups, STUDY.reference_group)
    assert paper == {"amisulpride": ("tab:blue", "s"), "naltrexone": ("tab:orange", "^"), "placebo": REFERENCE_STYLE}
    many = group_styles(["a", "b", "saline", "c", "d"], "saline")
    assert many["saline"] == REFERENCE_STYLE
    others = [many[g] for g in ("a", "b", "c", "d")]
    assert len(set(others)) == 4 and REFERENCE_STYLE not in others


def test_the_methods_name_the_studys_own_groups_conditions_and_stimuli() -> None:
    config = copy.deepcopy(DEFAULT)
    config["study"] = OTHER_LAB
    config["simulation"]["participants_per_group"] = {"oxytocin": 20, "vasopressin": 20, "saline": 20}
    text = data_paragraph(config)
    assert "20 oxytocin, 20 vasopressin and 20 saline participants" in text
    assert "3 drug groups (oxytocin, vasopressin and saline; reference: saline)" in text
    assert "watched photographs of emotional faces (angry, happy and neutral)." in text
    assert "morphing" not in text and "None" not in text
    assert "watched 96 videos of faces morphing between emotions (AngryToHappy and HappyToAngry)" in data_paragraph(
        DEFAULT
    )


def test_the_papers_figures_stand_beside_the_papers_design_only() -> None:
    assert STUDY.is_papers_design and not Study.from_config(OTHER_LAB).is_papers_design
    windows = pd.DataFrame(
        {
            "participant": ["1", "1", "2", "2"],
            "group": ["saline", "saline", "oxytocin", "oxytocin"],
            "trial": [1, 2, 1, 2],
            "window": 1,
            "rejected": [True, False, False, False],
        }
    )
    emg_rejections = pd.DataFrame(
        {"participant": ["1", "2"], "group": ["saline", "oxytocin"], "status": "ok", "trials": 2, "rejected": [1, 0]}
    )
    theirs = rejection_rates(windows, None, papers_design=False)
    assert set(theirs["measure"]) == {"emg_trials_rejected_pct", "emg_trial_muscle_rejected_pct"}
    assert theirs["paper_percent"].isna().all()
    said = findings.dataset_findings(emg_rejections, theirs, ["oxytocin", "vasopressin", "saline"])[0]
    assert said == (
        "2 participants were analysed (1 oxytocin, 0 vasopressin, 1 saline). The outlier rules rejected 25.0% of EMG "
        "trials."
    )
    ours = rejection_rates(windows, None, papers_design=True)
    assert "(paper: 19.6%)" in findings.dataset_findings(emg_rejections, ours, ["oxytocin", "saline"])[0]


def test_the_methods_cite_only_the_steps_and_software_that_ran() -> None:
    """Trial tables without response times and with two windows: no EMG preprocessing, no RT or Bayesian
    method, and neither MNE nor the Bayesian packages in the software paragraph or the references."""
    from mimicry.methods import methods_text

    software = pd.DataFrame(
        {
            "environment": "stats",
            "kind": "python",
            "package": ["mne", "mne-bids", "pymer4", "pymc", "nutpie", "arviz", "lme4", "python", "R"],
            "pinned": "",
            "found": ["1.13", "0.20", "0.8.2", "6.4", "0.16", "1.3", "1.1-31", "3.12", "4.2.2"],
        }
    )
    config = copy.deepcopy(DEFAULT)
    config["simulation"]["enabled"] = False
    config["dataset"]["tables"]["emg_windows"] = "emg.tsv"
    text = methods_text(config, software, "0" * 64, response_times=False, n_windows=2)
    assert "## EMG preprocessing" not in text and "## Response times" not in text
    assert "MNE" not in text and "Gramfort" not in text and "PyMC" not in text and "ArviZ" not in text
    assert "pymer4 0.8.2" in text and "Bates, D." in text and "The asymptotic model needs at least 3" in text
    default = methods_text(DEFAULT, software, "0" * 64)
    assert "MNE-Python 1.13" in default and "Gramfort, A." in default and "Abril-Pla, O." in default
