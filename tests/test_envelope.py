"""Envelope recordings (preprocessing.emg.input: envelope): a study whose amplifier wrote rectified, smoothed EMG
at 100 Hz, simulated and preprocessed from a config alone; the planted response and artefacts recovered as from
broadband EMG, and the methods text says which chain ran."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from helpers import (
    assert_rules_catch_the_planted_artefacts,
    assert_window_means_track_the_planted_response,
    copy_project,
    lay_scenario,
    run_snakemake,
    windows_with_truth,
)

pytestmark = pytest.mark.workflow
LABELS = ["001", "002", "003", "004", "005", "006"]


@pytest.fixture(scope="module")
def envelope_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(tmp_path_factory.mktemp("envelope") / "project")
    overlay = lay_scenario(project, "envelope")
    run_snakemake(
        project,
        "--cores",
        "2",
        "results/preprocessing/emg_windows.parquet",
        "results/report/methods.md",
        "--configfile",
        overlay,
    )
    return project


@pytest.fixture(scope="module")
def with_truth(envelope_run: Path) -> pd.DataFrame:
    return windows_with_truth(envelope_run, LABELS)


def test_the_recordings_are_100_hz_envelopes(envelope_run: Path) -> None:
    sidecar = envelope_run / "results/simulated/bids/sub-001/emg/sub-001_task-mimicry_emg.json"
    content = json.loads(sidecar.read_text())
    assert content["SamplingFrequency"] == 100 and "Envelope" in content["HardwareFilters"]


def test_window_means_track_the_planted_response(with_truth: pd.DataFrame) -> None:
    assert len(with_truth) == 6 * 96 * 2 * 5
    assert_window_means_track_the_planted_response(with_truth)


def test_rules_catch_the_planted_artefacts(with_truth: pd.DataFrame) -> None:
    assert_rules_catch_the_planted_artefacts(with_truth)


def test_the_methods_text_describes_the_envelope_chain(envelope_run: Path) -> None:
    methods = (envelope_run / "results/report/methods.md").read_text()
    assert "EMG amplitude envelopes" in methods and "sampled at 100 Hz" in methods
    assert "rectified and smoothed by the amplifier, and were not filtered further" in methods
    assert "band-pass" not in methods and "line noise" not in methods
