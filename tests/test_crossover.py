"""Crossover designs without a workflow run: the Williams sequences, the simulated crossover's planted truth, the
sessions files' validation (one grouped error), the per-recording tables' drug, period and sequence, the
balance report, and the formulas' crossover terms."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import DEFAULT, simulation_with
from mimicry.bids.layout import recording_files, recording_name, sessions_file
from mimicry.bids.validate import validate_dataset, validate_sessions
from mimicry.bids.write import write_participants, write_sessions, write_tsv
from mimicry.config import merge
from mimicry.crossover import balance, read_sessions
from mimicry.errors import DatasetError
from mimicry.gather import add_sessions, with_session
from mimicry.lmm_specs import check_specs, lmm_specs
from mimicry.simulate.crossover import simulate_crossover, williams_sequences
from mimicry.study import Study

DRUGS = ("amisulpride", "naltrexone", "placebo")
CROSSOVER = Study.from_config(merge(DEFAULT["study"], {"design": {"drug": "within"}}))


@pytest.mark.parametrize("n", [2, 3, 4, 5])
def test_williams_sequences_balance_periods_and_first_order_carryover(n: int) -> None:
    drugs = [f"d{i}" for i in range(n)]
    sequences = williams_sequences(drugs)
    assert len(sequences) == (2 * n if n % 2 else n)
    assert all(sorted(sequence) == drugs for sequence in sequences)  # each drug once per participant
    for period in range(n):  # each drug equally often in every period
        assert len(set(Counter(s[period] for s in sequences).values())) == 1
    after = Counter(pair for s in sequences for pair in itertools.pairwise(s))
    assert set(after) == set(itertools.permutations(drugs, 2))  # every drug after every other, equally often
    assert len(set(after.values())) == 1


def _crossover(**values: object):
    simulation = simulation_with({"crossover": {"participants": 12, **values.pop("crossover", {})}, **values})
    return simulate_crossover(simulation, CROSSOVER)


def test_the_simulated_crossover_gives_every_drug_once_in_balanced_sequences() -> None:
    participants, sessions, parameters, effects = _crossover()
    assert list(participants.columns) == ["participant_id", "sex", "age", "bmi"] and len(participants) == 12
    assert len(sessions) == 36 and sessions.groupby("participant")["drug"].nunique().eq(3).all()
    assert (sessions["session_id"] == "ses-" + sessions["period"].astype(str)).all()
    assert (pd.crosstab(sessions["drug"], sessions["period"]) == 4).all().all()  # 12 participants, 6 sequences
    assert len(effects) == 12 * 3 * 4 and set(parameters["participant"]) == set(effects["participant"])
    # the same seed, the same study
    assert effects.equals(_crossover()[3])


def _cell(effects: pd.DataFrame, muscle: str = "zygomaticus", emotion: str = "AngryToHappy") -> pd.DataFrame:
    return effects[(effects["muscle"] == muscle) & (effects["emotion"] == emotion)]


def test_the_simulated_crossover_plants_drug_period_and_carryover_effects() -> None:
    quiet = {"drug_sd": {"a": 0.0, "b": 0.0, "c": 0.0}, "period_effect_a": 0.0}
    planted = [{"group": "amisulpride", "muscle": "zygomaticus", "emotion": "AngryToHappy", "asymptote": -0.2}]
    effects = _cell(_crossover(crossover=quiet, drug_effects=planted)[3]).pivot(
        index="participant", columns="group", values="a"
    )
    # with no participant x drug variability, every participant's own drug effect is the planted one
    assert np.allclose(effects["amisulpride"] - effects["placebo"], -0.2)
    assert np.allclose(effects["naltrexone"], effects["placebo"])
    # the period effect: every asymptote lower by 0.05 per later session
    by_period = _cell(_crossover(crossover={**quiet, "period_effect_a": -0.05})[3]).pivot(
        index="participant", columns="period", values="a"
    )
    assert np.allclose(by_period[3] - by_period[1], -0.1) and np.allclose(by_period[2] - by_period[1], -0.05)
    # carry-over: half of amisulpride's effect still acts in the session after it, and nowhere else
    washed = _cell(_crossover(crossover=quiet, drug_effects=planted)[3]).sort_values(["participant", "period"])
    carried = _cell(_crossover(crossover={**quiet, "carryover": 0.5}, drug_effects=planted)[3])
    carried = carried.sort_values(["participant", "period"])
    after = (carried.groupby("participant")["group"].shift() == "amisulpride").to_numpy()
    difference = carried["a"].to_numpy() - washed["a"].to_numpy()
    assert after.sum() == 8 and np.allclose(difference[after], -0.1) and np.allclose(difference[~after], 0.0)


def _write_crossover_dataset(root: Path, study: Study = CROSSOVER, participants: int = 2) -> pd.DataFrame:
    """A crossover dataset's text files (sessions, participants, each recording's sidecars, events) without EDF
    signals: what validation of the sessions reads before it looks at a recording."""
    people, sessions, _, _ = _crossover(crossover={"participants": participants})
    write_participants(people, root)
    write_sessions(sessions, root)
    return sessions


def test_the_sessions_files_validate_and_give_drug_period_and_sequence(tmp_path: Path) -> None:
    sessions = _write_crossover_dataset(tmp_path)
    table, problems = validate_sessions(tmp_path, "001", CROSSOVER)
    assert problems == []
    mine = sessions[sessions["participant"] == "001"]
    assert list(table["drug"]) == list(mine.sort_values("period")["drug"])
    assert list(table["session"]) == ["1", "2", "3"] and list(table["period"]) == [1, 2, 3]
    read = read_sessions(tmp_path, ["001", "002"], CROSSOVER)
    assert list(read.columns[:5]) == ["participant", "session", "group", "period", "sequence"]
    # the files' other columns follow, numbers as numbers
    assert list(read.columns[5:]) == ["hours_from_pill", "guess", "nausea_t1", "nausea_t2"]
    assert read["hours_from_pill"].dtype == float and read["guess"].isin(DRUGS).all()
    first = read[read["participant"] == "001"]
    assert first["sequence"].nunique() == 1 and first["sequence"].iloc[0] == "-".join(table["drug"])


def test_bad_sessions_files_get_one_grouped_error_before_any_job(tmp_path: Path) -> None:
    _write_crossover_dataset(tmp_path, participants=4)
    bad = {
        "001": pd.DataFrame({"session_id": ["ses-1", "ses-2", "ses-3"], "drug": ["placebo", "placebo", "aspirin"]}),
        "002": pd.DataFrame({"session_id": ["ses-1", "2"], "drug": ["placebo", "naltrexone"], "period": [1, 1]}),
        "003": pd.DataFrame({"session_id": ["ses-1"], "medication": ["placebo"]}),
    }
    for label, table in bad.items():
        write_tsv(table, sessions_file(tmp_path, label))
    sessions_file(tmp_path, "004").unlink()
    (tmp_path / "sub-002" / "ses-9").mkdir()
    with pytest.raises(DatasetError) as caught:
        validate_dataset(tmp_path, CROSSOVER)
    message = str(caught.value)
    for expected in (
        "participant sub-001",
        "drug 'placebo' is given in more than one session (['ses-1', 'ses-2'])",
        "unknown drug 'aspirin'",
        "session_id '2' must look like 'ses-<alphanumeric label>'",
        "column period: ['1', '1']",
        "missing column(s) ['drug']",
        "study.design.drug_column",
        "sub-004_sessions.tsv: file not found",
        "has a session folder ses-9 that the sessions file does not list",
    ):
        assert expected in message, (expected, message)
    # the recordings of the sessions that are listed are checked too (none written here): one line for them all
    assert "sub-<id>/ses-<id>/emg/sub-<id>_ses-<id>_task-mimicry_emg.edf: file not found" in message


def test_a_problem_of_every_recording_is_one_line_naming_participants_once(tmp_path: Path) -> None:
    _write_crossover_dataset(tmp_path, participants=4)
    with pytest.raises(DatasetError) as caught:
        validate_dataset(tmp_path, CROSSOVER)
    lines = str(caught.value).splitlines()[1:]
    # four problems (the recording's files) x 12 recordings, one line each problem: 4 participants named once
    assert len(lines) == 4, lines
    assert all("4 participants (sub-001, sub-002, sub-003 and 1 more)" in line for line in lines)
    assert all("sub-<id>/ses-<id>/emg/" in line for line in lines)


def test_recording_names_and_files_carry_the_session() -> None:
    assert recording_name("01") == "sub-01" and recording_name("01", "2") == "sub-01_ses-2"
    files = recording_files("root", "01", "mimicry", "2")
    assert str(files.edf) == "root/sub-01/ses-2/emg/sub-01_ses-2_task-mimicry_emg.edf"
    assert str(recording_files("root", "01", "mimicry").edf) == "root/sub-01/emg/sub-01_task-mimicry_emg.edf"


def test_per_recording_tables_get_the_sessions_drug_period_and_sequence() -> None:
    sessions = pd.DataFrame(
        {
            "participant": ["1", "1", "2", "2"],
            "session": ["a", "b", "a", "b"],
            "group": ["placebo", "drug", "drug", "placebo"],
            "period": [1, 2, 1, 2],
            "sequence": ["placebo-drug", "placebo-drug", "drug-placebo", "drug-placebo"],
        }
    )
    windows = pd.concat(
        [
            with_session(pd.DataFrame({"participant": [p], "trial": [t]}), s)
            for p, s, t in [("2", "b", 7), ("1", "a", 3)]
        ]
    )
    table = add_sessions(windows, sessions)
    assert list(table.columns) == ["participant", "session", "group", "period", "sequence", "trial"]
    assert table.to_dict("records") == [
        {"participant": "2", "session": "b", "group": "placebo", "period": 2, "sequence": "drug-placebo", "trial": 7},
        {"participant": "1", "session": "a", "group": "placebo", "period": 1, "sequence": "placebo-drug", "trial": 3},
    ]
    assert with_session(windows, None) is windows  # a design without sessions: unchanged


def test_the_balance_report_counts_sequences_periods_and_gaps() -> None:
    recordings = pd.DataFrame(
        {
            "participant": ["1", "1", "1", "2", "2", "2", "3", "3"],
            "group": ["a", "b", "c", "b", "c", "a", "a", "c"],
            "period": [1, 2, 3, 1, 2, 3, 1, 2],
        }
    )
    report = balance(recordings, ["a", "b", "c"])
    assert report["sequences"].to_dict("records") == [
        {"sequence": "a-b-c", "participants": 1},
        {"sequence": "a-c", "participants": 1},
        {"sequence": "b-c-a", "participants": 1},
    ]
    assert report["periods"].set_index("drug").loc["a"].tolist() == [2, 0, 1]
    assert report["gaps"].to_dict("records") == [{"participant": "3", "missing_drugs": "b"}]


def test_crossover_terms_are_checked_against_the_design() -> None:
    config = merge(
        DEFAULT, {"statistics": {"followup": {"formula": "log_emg ~ drug * time + period + (1 | participant)"}}}
    )
    between = Study.from_config(config["study"])
    specs = lmm_specs(config, between)
    problems = [str(p) for p in check_specs(specs, between, (), {})]
    assert any(
        "term 'period' names no column" in p and "(period: a crossover's, study.design.drug: within)" in p
        for p in problems
    )
    crossover_config = merge(config, {"study": {"design": {"drug": "within"}}})
    crossover = Study.from_config(crossover_config["study"])
    assert check_specs(lmm_specs(crossover_config, crossover), crossover, (), {}) == []


def test_a_crossovers_own_trial_tables_get_period_and_sequence_and_are_checked(tmp_path: Path) -> None:
    from mimicry.tables import import_emg_table, import_rt_table

    rows = [
        (participant, f"ses-{session}", drug, trial, "AngryToHappy", "zygomaticus", window, 0.1)
        for participant, order in (("sub-01", ("placebo", "amisulpride")), ("sub-02", ("amisulpride", "placebo")))
        for session, drug in zip(("b", "a"), order, strict=True)  # listed out of order: periods by the labels
        for trial in (1, 2)
        for window in (1, 2)
    ]
    columns = ["participant", "session", "group", "trial", "emotion", "muscle", "window", "log_emg"]
    path = tmp_path / "emg.tsv"
    pd.DataFrame(rows, columns=columns).to_csv(path, sep="\t", index=False)
    windows = import_emg_table(path, CROSSOVER)
    assert list(windows.columns[:5]) == ["participant", "session", "group", "period", "sequence"]
    first = windows[windows["participant"] == "01"].drop_duplicates("session").set_index("session")
    assert first["period"].to_dict() == {"a": 1, "b": 2}
    assert set(first["sequence"]) == {"amisulpride-placebo"}
    # a drug in two sessions, and no session column, are each named
    twice = pd.DataFrame(rows, columns=columns).assign(group="placebo")
    twice.to_csv(path, sep="\t", index=False)
    with pytest.raises(DatasetError, match="drug 'placebo' in more than one session"):
        import_emg_table(path, CROSSOVER)
    pd.DataFrame(rows, columns=columns).drop(columns="session").to_csv(path, sep="\t", index=False)
    with pytest.raises(DatasetError, match=r"missing required column\(s\) \['session'\]"):
        import_emg_table(path, CROSSOVER)
    rt = pd.DataFrame(
        [
            (p, s, d, t, "AngryToHappy", 1.0 + 0.1 * t)
            for p, s, d, *_ in {r[:3] + (0,) for r in rows}
            for t in (1, 2, 3)
        ],
        columns=["participant", "session", "group", "trial", "emotion", "response_time"],
    )
    rt.to_csv(tmp_path / "rt.tsv", sep="\t", index=False)
    trials = import_rt_table(tmp_path / "rt.tsv", CROSSOVER)
    assert list(trials.columns[:5]) == ["participant", "session", "group", "period", "sequence"]
    # z-scored within each recording: every recording's z-scores centred on 0
    assert np.allclose(trials.groupby(["participant", "session"])["rt_z"].mean(), 0.0)


def test_excluded_trials_of_a_crossover_are_compared_within_participants_and_worded_so() -> None:
    from mimicry.findings import dataset_findings, rejection_findings
    from mimicry.table1 import rejections_by_group

    rng = np.random.default_rng(0)
    rows = [
        {"participant": f"{p}", "session": f"{s}", "group": drug, "muscle": m, "status": "ok", "rejected": r}
        for p in range(1, 7)
        for s, drug in enumerate(DRUGS, start=1)
        for m, r in (("corrugator", rng.integers(5, 25)), ("zygomaticus", rng.integers(5, 25)))
    ]
    emg = pd.DataFrame(rows)
    by = rejections_by_group(emg, None, list(DRUGS))
    # the repeated-measures ANOVA's degrees of freedom: (drugs - 1), (participants - 1) x (drugs - 1)
    assert by.loc[0, ["df1", "df2"]].tolist() == [2, 10]
    assert "between drugs, within participants" in rejection_findings(by, 0.05, crossover=True)[0]
    rates = pd.DataFrame({"group": ["all"], "measure": ["emg_trials_rejected_pct"], "percent": [20.0]})
    rates["paper_percent"] = np.nan
    assert dataset_findings(emg, rates, DRUGS)[0].startswith(
        "6 participants were analysed in 18 sessions (6 under amisulpride, 6 under naltrexone, 6 under placebo)"
    )
