"""Already-preprocessed tables as input: validated with errors naming column and rows, and the statistics
from them equal the statistics from the recordings."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from helpers import STUDY, copy_project, lay_scenario, run_snakemake
from mimicry.errors import DatasetError
from mimicry.tables import EMG_REQUIRED, RT_REQUIRED, import_emg_table, import_rt_table


@pytest.fixture(scope="module")
def exported(test_run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The test study's group tables as a user would bring them: TSV for EMG (kept trials only, the required
    columns and face), CSV for RT (with face and its response categories), and participants.tsv."""
    folder = tmp_path_factory.mktemp("tables")
    windows = pd.read_parquet(test_run / "results/preprocessing/emg_windows.parquet")
    windows = windows[~windows["rejected"]]
    windows["participant"] = "sub-" + windows["participant"].astype(str)
    windows[[*EMG_REQUIRED, "face"]].to_csv(folder / "emg.tsv", sep="\t", index=False)
    rt = pd.read_parquet(test_run / "results/preprocessing/rt_trials.parquet")
    rt[[*RT_REQUIRED, "face", "response"]].to_csv(folder / "rt.csv", index=False)
    (folder / "participants.tsv").write_bytes((test_run / "results/simulated/bids/participants.tsv").read_bytes())
    return {
        "emg_windows": folder / "emg.tsv",
        "rt_trials": folder / "rt.csv",
        "participants": folder / "participants.tsv",
    }


def test_statistics_from_tables_equal_those_from_recordings(test_run: Path, exported, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    overlay = lay_scenario(project, "own_tables", **exported)
    run_snakemake(project, "--cores", "2", "--configfile", overlay)
    assert not (project / "results/simulated").exists() and not (project / "results/preprocessing/emg").exists()
    for model in ("emg_zygomaticus", "rt"):
        ours = pd.read_csv(project / f"results/statistics/lmm/{model}_anova.tsv", sep="\t")
        reference = pd.read_csv(test_run / f"results/statistics/lmm/{model}_anova.tsv", sep="\t")
        # same data, same model: equal up to the optimiser's tolerance on near-singular fits
        pd.testing.assert_frame_equal(ours[["term", "F", "num_df"]], reference[["term", "F", "num_df"]], rtol=1e-3)
    assert (project / "results/statistics/table1.md").is_file()
    # the report's Dataset and QC sections from the tables' own rejected column and RT counts
    counts = pd.read_csv(project / "results/preprocessing/emg_rejections.tsv", sep="\t", dtype={"participant": str})
    assert len(counts) == 6 * 2 and counts["rejected"].eq(0).all()  # the exported tables hold kept trials only
    rt_summary = pd.read_csv(project / "results/preprocessing/rt_summary.tsv", sep="\t", dtype={"participant": str})
    reference = pd.read_csv(test_run / "results/preprocessing/rt_summary.tsv", sep="\t", dtype={"participant": str})
    assert rt_summary["rt_outliers"].tolist() == reference["rt_outliers"].tolist()
    findings = pd.read_csv(project / "results/report/findings.tsv", sep="\t").set_index("topic")["statement"]
    assert findings["Dataset"].startswith("6 participants were analysed (2 amisulpride, 2 naltrexone, 2 placebo)")


def _write(table: pd.DataFrame, folder: Path) -> Path:
    path = folder / "emg.tsv"
    table.to_csv(path, sep="\t", index=False)
    return path


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda t: t.drop(columns="log_emg"), "missing required column(s) ['log_emg']"),
        (
            lambda t: t.assign(log_emg=t["log_emg"].astype(str).mask(t.index.isin([2, 7]), "high")),
            "column log_emg: not a number in rows 3, 8",
        ),
        (
            lambda t: t.assign(emotion=t["emotion"].mask(t.index == 0, "Surprise")),
            "column emotion: ['Surprise'] not among ['AngryToHappy', 'HappyToAngry'] in row 1",
        ),
        (
            lambda t: pd.concat([t, t.iloc[[4]]], ignore_index=True),
            "participant/trial/muscle/window repeated in rows 5, ",
        ),
        (lambda t: t.assign(group=t["group"].mask(t.index == 3, "caffeine")), "column group: ['caffeine']"),
    ],
)
def test_bad_emg_tables_name_the_column_and_rows(exported, tmp_path: Path, breakage, message: str) -> None:
    table = pd.read_csv(exported["emg_windows"], sep="\t").head(40)
    path = _write(breakage(table), tmp_path)
    with pytest.raises(DatasetError) as caught:
        import_emg_table(path, STUDY)
    assert message in str(caught.value) and str(path) in str(caught.value)


def test_rt_table_gets_the_papers_outlier_rule(exported) -> None:
    rt = import_rt_table(exported["rt_trials"], STUDY)
    assert rt.loc[rt["rt_outlier"], "rt_z"].abs().gt(2).all()
    assert not rt.loc[rt["response"] != "correct", "rt_included"].any()


def test_a_bad_table_stops_the_workflow_before_any_job(exported, tmp_path: Path) -> None:
    table = pd.read_csv(exported["emg_windows"], sep="\t")
    table.loc[10, "window"] = 2.5
    broken = _write(table, tmp_path)
    project = copy_project(tmp_path / "project")
    overlay = lay_scenario(project, "own_tables", **{**exported, "emg_windows": broken})
    result = run_snakemake(project, "--cores", "1", "--configfile", overlay, check=False)
    assert result.returncode != 0
    assert "column window: not a whole number in row 11" in result.stdout + result.stderr
    assert not (project / "results").exists()


def test_an_emg_table_without_a_value_is_read_as_a_rejected_trial(exported, tmp_path: Path) -> None:
    """An empty or n/a log_emg is a trial the lab could not measure: kept in the table, rejected, reason
    ``missing`` (a reason the table gives is kept); the other rows are read as they are."""
    table = pd.read_csv(exported["emg_windows"], sep="\t").head(40).astype({"log_emg": object})
    table.loc[[2, 7], "log_emg"] = ["", "n/a"]
    table["reason"] = ""
    table.loc[7, "reason"] = "electrode off"
    imported = import_emg_table(_write(table, tmp_path), STUDY)
    assert imported.loc[[2, 7], "rejected"].all() and imported.loc[[2, 7], "log_emg"].isna().all()
    assert imported.loc[[2, 7], "reason"].tolist() == ["missing", "electrode off"]
    kept = imported.drop(index=[2, 7])
    assert not kept["rejected"].any() and kept["reason"].eq("").all()
    assert kept["log_emg"].tolist() == pytest.approx(table.drop(index=[2, 7])["log_emg"].astype(float).tolist())
