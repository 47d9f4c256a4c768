"""The test study's recordings in other designs, from a config alone: without a response task (events without
response_time/response), run as a lab would, from its own folder with this workflow as a Snakemake module, to the
HTML report with no RT part anywhere; in two long windows, without the asymptotic models. (Another lab's whole
design: test_other_design.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers import (
    ROOT,
    RT_OUTPUTS,
    copy_dataset,
    copy_project,
    lab_repository,
    lay_scenario,
    merge,
    run_snakemake,
    scenario_config,
    yaml_of,
)


def _without_responses(root: Path) -> None:
    for events in root.glob("sub-*/emg/*_events.tsv"):
        table = pd.read_csv(events, sep="\t", dtype=str, keep_default_na=False)
        table.drop(columns=["response_time", "response"]).to_csv(events, sep="\t", index=False)


@pytest.fixture(scope="module")
def without_rt(test_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A lab's study without response times, analysed from the lab's own folder: its Snakefile declares a checked-out
    version of this workflow as a module, its config/config.yaml is the whole config (the paper's design keys, the
    test study's sizes, its own words and dataset), its stimulus table its own copy."""
    folder = tmp_path_factory.mktemp("without_rt")
    dataset = copy_dataset(test_run, folder / "dataset")
    _without_responses(dataset)
    workflow = copy_project(folder / "workflow")
    config = merge(yaml_of(ROOT / "config/config.yaml"), scenario_config("own_bids", dataset=dataset))
    lab = lab_repository(folder / "lab", workflow, merge(config, {"study": {"stimuli": "resources/videos.tsv"}}))
    (lab / "resources").mkdir()
    shutil.copy(ROOT / "resources/stimuli.tsv", lab / "resources/videos.tsv")
    run_snakemake(lab, "--cores", "2")
    assert not (workflow / "results").exists()  # everything the module makes lies in the lab's folder
    return lab


def test_a_study_without_response_times_runs_to_the_report_with_no_rt_part(without_rt: Path, test_run: Path) -> None:
    html = (without_rt / "results/study_report.html").read_text()
    assert len(html) > 100_000 and "Facial mimicry in our replication: study report" in html
    assert "Workflow version" in html
    for output in RT_OUTPUTS:
        assert not (without_rt / output).exists(), output
    rates = pd.read_csv(without_rt / "results/preprocessing/rejection_rates.tsv", sep="\t")
    assert set(rates["measure"]) == {"emg_trials_rejected_pct", "emg_trial_muscle_rejected_pct"}
    by_group = pd.read_csv(without_rt / "results/statistics/rejections_by_group.tsv", sep="\t")
    assert by_group["measure"].tolist() == ["emg_rejected_trials"]
    findings = pd.read_csv(without_rt / "results/report/findings.tsv", sep="\t")
    said = findings.loc[findings["topic"] == "Response times", "statement"].tolist()
    assert said == ["The study has no response times: no RT cleaning, RT model or Figure S2."]
    assert not findings["statement"].str.contains("response times \\(paper").any()
    methods = (without_rt / "results/report/methods.md").read_text()
    assert "## Response times" not in methods and "response times were modelled" not in methods
    # the EMG side is the same analysis of the same recordings
    for table in ("emg_windows.parquet",):
        pd.testing.assert_frame_equal(
            pd.read_parquet(without_rt / "results/preprocessing" / table),
            pd.read_parquet(test_run / "results/preprocessing" / table),
        )
    anova = pd.read_csv(without_rt / "results/statistics/lmm/emg_zygomaticus_anova.tsv", sep="\t")
    reference = pd.read_csv(test_run / "results/statistics/lmm/emg_zygomaticus_anova.tsv", sep="\t")
    pd.testing.assert_frame_equal(anova[["term", "F"]], reference[["term", "F"]], rtol=1e-3)


def test_two_long_windows_run_without_the_asymptotic_models(test_run: Path, tmp_path: Path) -> None:
    """The test study in two 2.5-s windows: the LMMs and the report as usual, no Bayesian model (three parameters
    per curve need three windows), said in the report and the methods text."""
    dataset = copy_dataset(test_run, tmp_path / "dataset")
    project = copy_project(tmp_path / "project")
    overlay = lay_scenario(project, "own_bids", "two_windows", dataset=dataset)
    run_snakemake(project, "--cores", "2", "--configfile", overlay)
    results = project / "results"
    assert (results / "study_report.html").is_file() and not (results / "bayes").exists()
    windows = pd.read_parquet(results / "preprocessing/emg_windows.parquet")
    assert sorted(windows["window"].unique()) == [1, 2]
    trends = pd.read_csv(results / "statistics/lmm/emg_zygomaticus_trends.tsv", sep="\t")
    assert len(trends) == 2
    said = "The asymptotic model needs at least 3 time windows (three parameters per curve); this study has 2"
    findings = pd.read_csv(results / "report/findings.tsv", sep="\t").set_index("topic")["statement"]
    assert findings["Bayesian asymptotic regression"].startswith(said)
    assert said in (results / "report/methods.md").read_text()
