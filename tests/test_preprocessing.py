"""The preprocessing stage on the simulated test study: group tables, recovery of the planted response,
the outlier rules against the planted artefacts, determinism, and bad recordings."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import (
    TEST_CONFIG,
    assert_rules_catch_the_planted_artefacts,
    assert_window_means_track_the_planted_response,
    copy_dataset,
    copy_project,
    lay_scenario,
    rewrite_recording,
    run_snakemake,
    windows_with_truth,
)
from mimicry.table_columns import WINDOW_DTYPES

LABELS = ["001", "002", "003", "004", "005", "006"]


@pytest.fixture(scope="module")
def windows(test_run: Path) -> pd.DataFrame:
    return pd.read_parquet(test_run / "results/preprocessing/emg_windows.parquet")


@pytest.fixture(scope="module")
def with_truth(test_run: Path, windows: pd.DataFrame) -> pd.DataFrame:
    merged = windows_with_truth(test_run, LABELS)
    assert len(merged) == len(windows) == 6 * 96 * 2 * 5
    return merged


def test_group_tables_have_their_documented_schema(test_run: Path, windows: pd.DataFrame) -> None:
    assert list(windows.columns) == ["participant", "group", *list(WINDOW_DTYPES)[1:]]
    assert windows.groupby("participant").size().eq(96 * 2 * 5).all()
    assert set(windows["group"]) == {"amisulpride", "naltrexone", "placebo"}
    assert windows.loc[~windows["rejected"], "reason"].eq("").all()
    assert windows.loc[windows["rejected"], "reason"].ne("").all()
    rt = pd.read_parquet(test_run / "results/preprocessing/rt_trials.parquet")
    assert len(rt) == 6 * 96 and rt.loc[rt["response"] != "correct", "rt_included"].eq(False).all()
    assert rt.loc[rt["rt_outlier"], "rt_z"].abs().gt(2).all()
    timecourse = pd.read_parquet(test_run / "results/preprocessing/emg_timecourse.parquet")
    assert timecourse["time_s"].min() == -0.5 and len(timecourse) == 6 * 96 * 2 * 55
    rates = pd.read_csv(test_run / "results/preprocessing/rejection_rates.tsv", sep="\t")
    overall = rates[rates["group"] == "all"].set_index("measure")["percent"]
    assert 10 < overall["emg_trials_rejected_pct"] < 30  # the paper: 19.6%
    assert 0.5 < overall["rt_outliers_pct"] < 5  # the paper: 2.44%
    for label in LABELS:
        assert (test_run / f"results/preprocessing/qc/sub-{label}_emg_qc.png").stat().st_size > 10_000


def test_window_means_track_the_planted_response(with_truth: pd.DataFrame) -> None:
    """Per muscle x emotion, the kept trials' window means follow the planted curve up to the constant offset
    of averaging a log (the mean of a log lies below the log of a mean)."""
    cells = assert_window_means_track_the_planted_response(with_truth)
    offset = (cells["log_emg"] - cells["planted_log_gain"]).mean()
    assert -0.07 < offset < 0.0


def test_rules_catch_the_planted_artefacts(with_truth: pd.DataFrame) -> None:
    assert_rules_catch_the_planted_artefacts(with_truth)


def _hashes(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*")) if p.is_file()}


def test_same_input_and_config_give_byte_identical_tables(test_run: Path, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "again")
    shutil.copytree(test_run / "results", project / "results")
    before = {**_hashes(test_run / "results/preprocessing"), **_hashes(test_run / "results/preprocessing/emg")}
    run_snakemake(
        project,
        "--cores",
        "2",
        # the tables compared, not what is downstream of them
        "results/preprocessing/emg_windows.parquet",
        "results/preprocessing/rt_trials.parquet",
        "results/preprocessing/rejection_rates.tsv",
        "--configfile",
        TEST_CONFIG,
        "--forcerun",
        "preprocess_emg",
        "preprocess_rt",
        "gather_emg",
        "gather_rt",
        "rejection_rates",
    )
    after = {**_hashes(project / "results/preprocessing"), **_hashes(project / "results/preprocessing/emg")}
    assert before == after and len(before) > 20


@pytest.fixture
def bad_dataset(test_run: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the test study as an external dataset: sub-002 has a flat zygomaticus channel (electrode
    off), sub-004 was recorded at 600 Hz, too low for the 400 Hz band-pass."""
    dataset = copy_dataset(test_run, tmp_path / "dataset")

    def flat(data: np.ndarray, sfreq: float) -> tuple[np.ndarray, float]:
        data[1] = 0.0
        return data, sfreq

    rewrite_recording(dataset, "002", flat)
    rewrite_recording(dataset, "004", lambda data, sfreq: (data[:, ::2], sfreq / 2))
    return dataset, copy_project(tmp_path / "project")


def test_bad_recordings_are_excluded_and_recorded(bad_dataset: tuple[Path, Path]) -> None:
    dataset, project = bad_dataset
    overlay = lay_scenario(project, "own_bids", dataset=dataset)
    # the preprocessing stage is what excludes; the statistics after it read the same tables
    run_snakemake(project, "--cores", "2", "results/preprocessing/emg_windows.parquet", "--configfile", overlay)
    rejections = pd.read_csv(
        project / "results/preprocessing/emg_rejections.tsv",
        sep="\t",
        dtype={"participant": str},
        keep_default_na=False,
    )
    status = rejections.groupby("participant")["status"].first()
    assert status.to_dict() == {
        "001": "ok",
        "002": "excluded",
        "003": "ok",
        "004": "excluded",
        "005": "ok",
        "006": "ok",
    }
    reasons = rejections.groupby("participant")["reason"].first()
    assert "channel ZM is flat" in reasons["002"] and "sub-002" in reasons["002"]
    assert "sampled at 600 Hz, too low" in reasons["004"]
    windows = pd.read_parquet(project / "results/preprocessing/emg_windows.parquet")
    assert set(windows["participant"]) == {"001", "003", "005", "006"}
    assert (project / "results/preprocessing/qc/sub-002_emg_qc.png").is_file()  # says why, for a person


def test_bad_recordings_fail_clearly_and_spare_the_others(bad_dataset: tuple[Path, Path]) -> None:
    dataset, project = bad_dataset
    overlay = lay_scenario(project, "own_bids", "fail_bad_recordings", dataset=dataset)
    target = "results/preprocessing/emg_windows.parquet"
    result = run_snakemake(project, "--cores", "2", "--keep-going", target, "--configfile", overlay, check=False)
    assert result.returncode != 0
    log = (project / "results/logs/preprocess_emg/sub-002.log").read_text()
    assert "participant sub-002" in log and "channel ZM is flat" in log
    assert "sampled at 600 Hz, too low" in (project / "results/logs/preprocess_emg/sub-004.log").read_text()
    emg = project / "results/preprocessing/emg"
    for label in ("001", "003", "005", "006"):
        assert (emg / f"sub-{label}_windows.parquet").is_file()
    for label in ("002", "004"):  # a failed job leaves no partial output
        assert not list(emg.glob(f"sub-{label}_*"))
    assert not (project / "results/preprocessing/emg_windows.parquet").exists()
