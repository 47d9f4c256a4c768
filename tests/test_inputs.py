"""Where the analysis starts (mimicry.inputs): the input mode, the participants and the optional parts, decided
once from the config, with one clear error before any job runs."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import DEFAULT, ROOT
from mimicry.errors import InputError
from mimicry.inputs import SIMULATED_ROOT, resolve_inputs

RULES = yaml.safe_load((ROOT / "workflow/schemas/participants.schema.yaml").read_text())


def _config(**sections: dict) -> dict:
    config = copy.deepcopy(DEFAULT)
    for section, values in sections.items():
        config[section] = {**config[section], **values}
    return config


def test_the_default_is_the_simulated_study_with_response_times(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    inputs = resolve_inputs(_config(dataset={"exclude_participants": ["sub-003"]}), RULES)
    assert inputs.mode == "simulated" and inputs.bids_root == SIMULATED_ROOT and inputs.response_times
    assert len(inputs.simulated_participants) == 130 and len(inputs.participants) == 129
    assert "003" in inputs.simulated_participants and "003" not in inputs.participants
    assert inputs.participants_table == f"{SIMULATED_ROOT}/participants.tsv" and inputs.stimuli is not None


def _emg_table(folder: Path) -> str:
    rows = [
        dict(participant=f"sub-{p}", group=g, trial=t, face="f", emotion=e, muscle=m, window=w, log_emg=0.1)
        for p, g in (("01", "placebo"), ("02", "naltrexone"))
        for t, e in ((1, "AngryToHappy"), (2, "HappyToAngry"))
        for m in ("corrugator", "zygomaticus")
        for w in range(1, 6)
    ]
    pd.DataFrame(rows).to_csv(folder / "emg.tsv", sep="\t", index=False)
    return str(folder / "emg.tsv")


def test_trial_tables_without_an_rt_table_are_a_study_without_response_times(tmp_path: Path) -> None:
    config = _config(
        simulation={"enabled": False},
        dataset={"tables": {"emg_windows": _emg_table(tmp_path), "rt_trials": None, "participants": None}},
        study={"stimuli": None},
    )
    inputs = resolve_inputs(config, RULES)
    assert inputs.mode == "tables" and not inputs.response_times and inputs.participants == ()
    assert inputs.participants_table is None and inputs.stimuli is None


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"study": {"reference_group": "saline"}}, "study.reference_group 'saline' is not one of study.groups"),
        ({"study": {"stimuli": None}}, "the simulator shows the videos of a stimulus table: set study.stimuli"),
        (
            {"dataset": {"exclude_participants": [f"{i:03d}" for i in range(1, 131)]}},
            "no participants to analyse: dataset.exclude_participants leaves out everyone",
        ),
        ({"simulation": {"enabled": False}}, "dataset.bids_root must name a BIDS-EMG dataset"),
        ({"simulation": {"enabled": False}, "dataset": {"bids_root": "/nowhere"}}, "no participants.tsv"),
    ],
)
def test_an_input_that_cannot_be_analysed_is_named(
    sections: dict, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        resolve_inputs(_config(**sections), RULES)


def test_empty_cells_in_participants_tsv_are_named_once_per_column_with_the_fix(tmp_path: Path) -> None:
    """BIDS writes a missing value as n/a; a table with empty cells instead gets one grouped line per column
    naming the fix, and the numbers in that column are still checked as numbers (not one "'19.0' is not of type
    'number'" per row)."""
    from mimicry.bids.validate import validate_participants
    from mimicry.errors import grouped_lines
    from mimicry.study import Study

    study = Study.from_config(DEFAULT["study"])
    table = pd.DataFrame(
        {
            "participant_id": ["sub-001", "sub-002", "sub-003", "sub-004"],
            "group": list(study.groups) + [study.groups[0]] * (4 - len(study.groups)),
            "age": ["23", "", "-5", ""],
            "panas_pos_t2": ["19", "28", "", "30"],
        }
    )
    path = tmp_path / "participants.tsv"
    table.to_csv(path, sep="\t", index=False)
    lines = grouped_lines(validate_participants(path, study, RULES)[1])
    assert lines == [
        f"2 participants (sub-002, sub-004): {path}: column age: an empty cell; BIDS writes a missing value as n/a",
        f"participant sub-003: {path}: column panas_pos_t2: an empty cell; BIDS writes a missing value as n/a",
        f"participant sub-003: {path}: column age: -5.0 is less than the minimum of 0",
    ]
