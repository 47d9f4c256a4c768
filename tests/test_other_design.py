"""Another lab's design from its config alone: two groups, three conditions with a neutral one, its own stimuli,
100-Hz envelopes, an open trial count, no response times, no face or video ids, a session column in
participants.tsv as an LMM covariate and in its own Table 1; from its BIDS recordings and from its trial tables to
the HTML report in the study's own words, its formulas checked before any job."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from helpers import RT_OUTPUTS, copy_project, lay_scenario, merge, run_snakemake, scenario_config, yaml_of

pytestmark = pytest.mark.workflow


#: Another lab's design (tests/configs/other_lab.yaml): two groups, three conditions with a neutral one, its own
#: stimuli, amplifier envelopes at 100 Hz, an open trial count (simulated by the workflow's simulator, then
#: stripped to what that lab records).
OTHER_STUDY = scenario_config("other_lab", over_test_config=False)["study"]
#: Where the other lab's config lies in its project.
OWN_CONFIG = "config/other_lab+other_lab_bids.yaml"


def _other_stimuli(project: Path) -> None:
    rows = [
        {
            "video": f"p{4 * k + i + 1:02d}",
            "face": f"f{i:02d}",
            "face_sex": "female",
            "trial_type": emotion,
            "change_point_s": 1.0,
        }
        for k, emotion in enumerate(OTHER_STUDY["emotions"])
        for i in range(4)
    ]
    pd.DataFrame(rows).to_csv(project / OTHER_STUDY["stimuli"], sep="\t", index=False)


@pytest.fixture(scope="module")
def other_design(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The other lab's BIDS dataset (no response times, no face or video ids, a session column in
    participants.tsv) analysed from a config alone, to the HTML report."""
    folder = tmp_path_factory.mktemp("other_design")
    simulator = copy_project(folder / "simulator")
    _other_stimuli(simulator)
    simulate = lay_scenario(simulator, "other_lab", "other_lab_simulator", over_test_config=False)
    run_snakemake(simulator, "--cores", "2", "--configfile", simulate, "--until", "simulate_recording")
    dataset = folder / "dataset"
    shutil.copytree(simulator / "results/simulated/bids", dataset)
    for events in dataset.glob("sub-*/emg/*_events.tsv"):
        table = pd.read_csv(events, sep="\t", dtype=str, keep_default_na=False)
        table.drop(columns=["response_time", "response", "video", "face"]).to_csv(events, sep="\t", index=False)
    participants = pd.read_csv(dataset / "participants.tsv", sep="\t", dtype=str, keep_default_na=False)
    participants["session"] = ["morning", "afternoon"] * (len(participants) // 2)
    participants.to_csv(dataset / "participants.tsv", sep="\t", index=False)

    project = copy_project(folder / "project")
    overlay = lay_scenario(project, "other_lab", "other_lab_bids", dataset=dataset)
    run_snakemake(project, "--cores", "2", "--configfile", overlay)
    return project


def test_another_design_runs_from_its_config_to_a_report_in_its_own_words(other_design: Path) -> None:
    results = other_design / "results"
    html = (results / "study_report.html").read_text()
    assert "Facial mimicry after oxytocin: study report" in html
    methods = (results / "report/methods.md").read_text()
    assert "2 drug groups (oxytocin and placebo; reference: placebo)" in methods
    assert "watched photographs of emotional faces (angry, happy and neutral)" in methods
    assert "## Response times" not in methods and "not filtered further" in methods
    assert "no model had face effects" in methods and "(1 | face)" not in methods
    for output in RT_OUTPUTS:
        assert not (other_design / output).exists(), output
    info = pd.read_csv(results / "statistics/lmm/emg_zygomaticus_info.tsv", sep="\t")
    assert info["formula"].tolist() == [yaml_of(other_design / OWN_CONFIG)["statistics"]["emg"]["formula"]]
    anova = pd.read_csv(results / "statistics/lmm/emg_zygomaticus_anova.tsv", sep="\t")
    assert "session" in set(anova["term"]) and "emotion:drug:time" in set(anova["term"])
    trends = pd.read_csv(results / "statistics/lmm/emg_zygomaticus_trends.tsv", sep="\t")
    assert trends["emotion"].tolist() == ["angry", "happy", "neutral"]
    assert (results / "statistics/lmm/emg_zygomaticus_happy_anova.tsv").is_file()
    findings = pd.read_csv(results / "report/findings.tsv", sep="\t").set_index("topic")["statement"]
    assert findings["Dataset"].startswith("8 participants were analysed (4 oxytocin, 4 placebo)")
    assert "paper" not in findings["Dataset"]
    table1 = pd.read_csv(results / "statistics/table1_tests.tsv", sep="\t")
    assert table1["variable"].tolist() == ["N", "N morning", "Age"]
    contrasts = pd.read_csv(results / "bayes/contrasts.tsv", sep="\t")
    assert set(contrasts["drug"]) == {"oxytocin"} and set(contrasts["emotion"]) == {"angry", "happy", "neutral"}


def test_a_formula_naming_a_column_the_study_lacks_stops_before_any_job(other_design: Path) -> None:
    typo = merge(
        yaml_of(other_design / OWN_CONFIG),
        {"statistics": {"emg": {"formula": "log_emg ~ emotion * drug * time + sesion + (1 | participant)"}}},
    )
    overlay = "config/typo.yaml"
    (other_design / overlay).write_text(yaml.safe_dump(typo))
    result = run_snakemake(other_design, "-n", "--configfile", overlay, check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in message
    assert (
        "statistics.emg formula `log_emg ~ emotion * drug * time + sesion + (1 | participant)`: term 'sesion'"
        in message
    )
    assert "participants.tsv has [" in message and "'session'" in message


def test_the_power_analysis_of_a_study_without_a_stimulus_table_says_what_it_needs(other_design: Path) -> None:
    """Its own runs plan without one; the power analysis, which simulates the videos, asks for study.stimuli."""
    result = run_snakemake(other_design, "power", "--cores", "1", "--configfile", OWN_CONFIG, check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in message
    assert "Invalid power analysis: the power analysis simulates studies that show the study's videos" in message
    assert "study.stimuli is not set" in message and "resources/stimuli.tsv is the paper's" in message
    # a report asked to show it fails before any job, with the same reason and the key to unset
    (other_design / "config/report_power.yaml").write_text("report:\n  power: true\n", encoding="utf-8")
    overlays = ("--configfile", OWN_CONFIG, "config/report_power.yaml")
    result = run_snakemake(other_design, "-n", "--cores", "1", *overlays, check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0 and "Traceback" not in message
    assert "report.power is true" in message and "study.stimuli is not set" in message
    assert "Set report.power: false" in message


def test_another_design_from_its_trial_tables(other_design: Path, tmp_path: Path) -> None:
    """The other lab's study as the trial tables it would bring: the window table without face ids (a trial it
    could not measure left empty), participants.tsv with its session column, no RT table; from the config alone
    to the report, with the same LMM as from its recordings."""
    windows = pd.read_parquet(other_design / "results/preprocessing/emg_windows.parquet")
    table = windows.drop(columns=["face", "video", "block"]).assign(log_emg=windows["log_emg"].astype(object))
    unmeasured = table.index[(table["participant"] == "001") & (table["trial"] == 1)]
    table.loc[unmeasured, "log_emg"] = None
    table.to_csv(tmp_path / "emg.tsv", sep="\t", index=False)
    own = yaml_of(other_design / OWN_CONFIG)
    dataset = own["dataset"]["bids_root"]
    project = copy_project(tmp_path / "project")
    tables = {"emg_windows": str(tmp_path / "emg.tsv"), "participants": f"{dataset}/participants.tsv"}
    overlay = "config/tables.yaml"
    (project / overlay).write_text(yaml.safe_dump(merge(own, {"dataset": {"bids_root": None, "tables": tables}})))
    run_snakemake(project, "--cores", "2", "--configfile", overlay)
    results = project / "results"
    assert "Facial mimicry after oxytocin: study report" in (results / "study_report.html").read_text()
    for output in RT_OUTPUTS[2:]:
        assert not (project / output).exists(), output
    imported = pd.read_parquet(results / "preprocessing/emg_windows.parquet")
    lost = imported[(imported["participant"] == "001") & (imported["trial"] == 1)]
    assert lost["rejected"].all() and set(lost["reason"]) <= {"missing"} | set(windows["reason"])
    ours = pd.read_csv(results / "statistics/lmm/emg_zygomaticus_anova.tsv", sep="\t").set_index("term")["F"]
    theirs = pd.read_csv(other_design / "results/statistics/lmm/emg_zygomaticus_anova.tsv", sep="\t")
    assert set(ours.index) == set(theirs["term"]) and "session" in ours.index
    findings = pd.read_csv(results / "report/findings.tsv", sep="\t").set_index("topic")["statement"]
    assert findings["Dataset"].startswith("8 participants were analysed (4 oxytocin, 4 placebo)")
    assert findings["Response times"] == "The study has no response times: no RT cleaning, RT model or Figure S2."
