"""The simulated study on disk: BIDS-EMG that MNE-BIDS reads back, and a planted envelope the raw signal carries."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import signal

from benchlib import read_benchmarks, summarize
from helpers import ROOT, STUDY, TEST_CONFIG, run_snakemake
from mimicry.bids.layout import REQUIRED_SIDECAR_FIELDS, recording_files
from mimicry.bids.read import read_recording
from mimicry.bids.validate import validate_dataset
from mimicry.task import load_stimuli

LABELS = ["001", "002", "003", "004", "005", "006"]


def test_workflow_is_complete_and_lint_clean(test_run) -> None:
    dry = run_snakemake(test_run, "-n", "--configfile", TEST_CONFIG)
    assert "Nothing to be done" in dry.stdout + dry.stderr
    lint = run_snakemake(test_run, "--lint", "--configfile", TEST_CONFIG)
    assert "Congratulations" in lint.stdout + lint.stderr
    summary = pd.read_csv(test_run / "results/dataset/validation.tsv", sep="\t", dtype={"participant": str})
    assert list(summary["participant"]) == LABELS
    assert (summary["n_trials"] == 96).all() and (summary["sfreq"] == 1200).all()
    for label in LABELS:  # every per-participant job left a log
        assert "sub-" + label in (test_run / f"results/logs/simulate_recording/sub-{label}.log").read_text()
    figures = summarize(read_benchmarks(test_run / "results/benchmarks"))
    assert figures.loc["simulate_recording", "jobs"] == 6 and figures.loc["validate_dataset", "jobs"] == 1
    assert (figures["wall_mean_s"] > 0).all() and (figures["rss_max_mb"] > 0).all()


def test_recordings_read_back_through_mne_bids(test_run) -> None:
    root = test_run / "results/simulated/bids"
    participants = pd.read_csv(root / "participants.tsv", sep="\t", na_values="n/a")
    assert participants["group"].value_counts().to_dict() == {"amisulpride": 2, "naltrexone": 2, "placebo": 2}
    description = json.loads((root / "dataset_description.json").read_text())
    assert description["BIDSVersion"] == "1.11.0"
    for label in LABELS:
        raw = read_recording(root, label, STUDY)
        assert raw.ch_names == ["CS", "ZM"] and raw.get_channel_types() == ["emg", "emg"]
        assert raw.info["sfreq"] == 1200.0
        events = pd.read_csv(recording_files(root, label, "mimicry").events, sep="\t", na_values="n/a")
        assert len(raw.annotations) == len(events) == 100  # 4 practice + 96 trials
        assert set(raw.annotations.description) == {"AngryToHappy", "HappyToAngry"}
        np.testing.assert_allclose(raw.annotations.onset, events["onset"], atol=1e-3)
        sidecar = json.loads(recording_files(root, label, "mimicry").sidecar.read_text())
        assert set(REQUIRED_SIDECAR_FIELDS) <= set(sidecar) and sidecar["PowerLineFrequency"] == 50
        trials = events[events["block"] > 0]
        assert len(trials) == 96 and set(trials["response"]) <= {"correct", "miss", "wrong_button", "multiple"}
        assert trials.loc[trials["response"] == "miss", "response_time"].isna().all()
        assert trials.loc[trials["response"] != "miss", "response_time"].between(0, 5).all()
    # the validator accepts what the simulator writes, stimulus ids included
    validate_dataset(root, STUDY, stimuli=load_stimuli(ROOT / "resources/stimuli.tsv", STUDY.emotions))


def _envelope_epochs(data: np.ndarray, onsets: np.ndarray, sfreq: float) -> np.ndarray:
    """Independent scipy chain: FIR band-pass 20-400 Hz, notch at 50 Hz, rectify, 40 Hz low-pass, epochs -0.5..5 s."""
    band = signal.firwin(793, [17.5, 402.5], fs=sfreq, pass_zero=False)
    notch_b, notch_a = signal.iirnotch(50.0, 30.0, fs=sfreq)
    smooth = signal.firwin(397, 45.0, fs=sfreq)
    x = signal.filtfilt(notch_b, notch_a, signal.fftconvolve(data, band, mode="same"))  # zero-phase FIR
    envelope = signal.fftconvolve(np.abs(x), smooth, mode="same")
    first = int(0.5 * sfreq)
    return envelope[onsets[:, None] + np.arange(-first, int(5 * sfreq))[None, :]]


@pytest.fixture(scope="module")
def recovered(test_run) -> pd.DataFrame:
    """Per trial x muscle: planted and recovered window means, artefact kind and the paper's outlier flags."""
    root = test_run / "results/simulated/bids"
    rows = []
    for label in LABELS:
        raw = read_recording(root, label, STUDY)
        events = pd.read_csv(recording_files(root, label, "mimicry").events, sep="\t", na_values="n/a")
        trials = events[events["block"] > 0].sort_values("trial")
        onsets = np.round(trials["onset"].to_numpy() * raw.info["sfreq"]).astype(int)
        truth = pd.read_parquet(test_run / f"results/simulated/ground_truth/trials/sub-{label}_trials.parquet")
        for m, muscle in enumerate(STUDY.muscles):
            epochs = _envelope_epochs(raw.get_data()[m], onsets, raw.info["sfreq"])
            baseline, response = epochs[:, :600], epochs[:, 600:]
            level = baseline.mean(axis=1, keepdims=True)
            percent = (response - level) / level * 100

            def outlier(values: np.ndarray) -> np.ndarray:
                return np.abs(values - values.mean()) > 2 * values.std()

            rejected = (
                outlier(percent.mean(1))
                | outlier(percent.max(1))
                | outlier(baseline.mean(1))
                | outlier(baseline.max(1))
            )
            # FIR smoothing can ring below zero next to an artefact's edge: floor the ratio before the log
            windows = np.log(np.clip(response / level, 1e-3, None)).reshape(len(trials), 5, -1).mean(axis=2)
            planted = truth[truth["muscle"] == muscle].sort_values(["trial", "window"])
            rows.append(
                pd.DataFrame(
                    {
                        "participant": label,
                        "muscle": muscle,
                        "trial": np.repeat(trials["trial"].to_numpy(), 5),
                        "emotion": np.repeat(trials["trial_type"].to_numpy(), 5),
                        "window": np.tile(np.arange(1, 6), len(trials)),
                        "recovered": windows.ravel(),
                        "planted": planted["planted_log_gain"].to_numpy(),
                        "artefact": planted["artefact"].to_numpy(),
                        "rejected": np.repeat(rejected, 5),
                    }
                )
            )
    return pd.concat(rows, ignore_index=True)


def test_planted_envelope_is_recoverable_from_the_raw_signal(recovered) -> None:
    clean = recovered[~recovered["rejected"]]
    means = clean.groupby(["muscle", "emotion", "window"])[["recovered", "planted"]].mean()
    correlation = np.corrcoef(means["recovered"], means["planted"])[0, 1]
    slope = np.polyfit(means["planted"], means["recovered"], 1)[0]
    offset = (means["recovered"] - means["planted"]).mean()
    assert correlation > 0.9
    assert 0.7 < slope < 1.3
    # the mean of the log envelope sits below the log of its mean (Jensen): a small constant offset
    assert -0.07 < offset < 0.0


def test_papers_outlier_rules_reject_about_its_share(recovered) -> None:
    trials = recovered[recovered["window"] == 1]
    per_trial = trials.groupby(["participant", "trial"])["rejected"].any()  # a trial lost in either muscle
    assert per_trial.mean() == pytest.approx(0.196, abs=0.06)
    with_artefact = trials["artefact"] != "none"
    assert trials.loc[with_artefact, "rejected"].mean() > 0.5  # the rules catch most planted artefacts
    assert trials.loc[~with_artefact, "rejected"].mean() < 0.08


def test_a_problem_repeated_across_participants_is_one_line() -> None:
    """The same problem with the same file of each recording is one line naming the first participants and the
    count; a problem of one participant, or of a file shared by all, keeps its own line."""
    from mimicry.errors import DatasetError, InputError

    def missing(label: str) -> InputError:
        return InputError(
            "channel 'CS' is not in the recording",
            file=f"/data/sub-{label}/emg/sub-{label}_emg.edf",
            participant=f"sub-{label}",
        )

    problems = [missing(f"{i:03d}") for i in range(1, 37)]
    problems.insert(
        5, InputError("has 95 experimental trials", file="/data/sub-006/emg/sub-006_events.tsv", participant="sub-006")
    )
    problems += [
        InputError("unknown group 'caffeine'", file="/data/participants.tsv", participant=p)
        for p in ("sub-007", "sub-009")
    ]
    message = str(DatasetError(problems))
    assert message.splitlines() == [
        "the dataset has 39 problem(s), 3 distinct:",
        "  - 36 participants (sub-001, sub-002, sub-003 and 33 more): /data/sub-<id>/emg/sub-<id>_emg.edf: channel "
        "'CS' is not in the recording",
        "  - participant sub-006: /data/sub-006/emg/sub-006_events.tsv: has 95 experimental trials",
        "  - 2 participants (sub-007, sub-009): /data/participants.tsv: unknown group 'caffeine'",
    ]
    assert len(DatasetError(problems).problems) == 39
    assert str(DatasetError(problems[:1])).splitlines()[1] == (
        "  - participant sub-001: /data/sub-001/emg/sub-001_emg.edf: channel 'CS' is not in the recording"
    )


def test_video_and_face_ids_are_checked_against_the_stimulus_table() -> None:
    from mimicry.bids.validate import _stimulus_problems

    stimuli = load_stimuli(ROOT / "resources/stimuli.tsv", STUDY.emotions)
    trials = stimuli.head(6)[["video", "face", "trial_type"]].assign(trial=range(1, 7))
    assert _stimulus_problems(trials, stimuli) == []
    trials.loc[0, "video"], trials.loc[1, "face"] = "clip_17", "Sophie"
    trials.loc[2, "trial_type"] = "HappyToAngry"
    problems = _stimulus_problems(trials, stimuli)
    assert problems[0].startswith("1 video id(s) ['clip_17'] not in study.stimuli; fix the events, or give")
    assert problems[1].startswith("1 face id(s) ['Sophie'] not in study.stimuli")
    assert problems[2] == (
        "1 trial(s) show a video as another emotion than study.stimuli gives it (trial 3: video v03 as "
        "HappyToAngry, the table: AngryToHappy)"
    )
