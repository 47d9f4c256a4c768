"""Broken inputs: one clear error naming the file, the participant and the problem, and nothing written."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from helpers import lay_scenario, run_snakemake

EMG = "sub-{0}/emg/sub-{0}_task-mimicry_emg"
#: what an external dataset's run is taken to (everything after is the same code on the same tables)
PREPROCESSED = ("results/preprocessing/emg_windows.parquet", "results/preprocessing/rt_trials.parquet")
VALIDATION = "results/dataset/validation.tsv"


def _missing_edf(root: Path) -> None:
    (root / f"{EMG.format('003')}.edf").unlink()


def _truncated_edf(root: Path) -> None:
    edf = root / f"{EMG.format('002')}.edf"
    edf.write_bytes(edf.read_bytes()[: edf.stat().st_size // 2])


def _wrong_sampling_rate(root: Path) -> None:
    sidecar = root / f"{EMG.format('004')}.json"
    content = json.loads(sidecar.read_text())
    sidecar.write_text(json.dumps({**content, "SamplingFrequency": 1000}))


def _edit_participants(edit: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    def apply(root: Path) -> None:
        table = pd.read_csv(root / "participants.tsv", sep="\t", dtype=str, keep_default_na=False)
        edit(table).to_csv(root / "participants.tsv", sep="\t", index=False)

    return apply


def _unknown_group(table: pd.DataFrame) -> pd.DataFrame:
    table.loc[table["participant_id"] == "sub-005", "group"] = "caffeine"
    return table


def _missing_trials(root: Path) -> None:
    events_path = root / "sub-006/emg/sub-006_task-mimicry_events.tsv"
    events = pd.read_csv(events_path, sep="\t", dtype=str, keep_default_na=False)
    events.drop(index=events.index[10:20]).to_csv(events_path, sep="\t", index=False)


def _missing_channel(root: Path) -> None:
    channels = root / "sub-001/emg/sub-001_task-mimicry_channels.tsv"
    channels.write_text(channels.read_text().replace("ZM\t", "ZYG\t"))


def _channels_named_otherwise(root: Path) -> None:
    """Every recording names its channels after the muscles (as many labs do), not as study.channels says."""
    for channels in root.glob("sub-*/emg/*_channels.tsv"):
        channels.write_text(channels.read_text().replace("CS\t", "Corrugator\t").replace("ZM\t", "Zygomaticus\t"))
    for edf in root.glob("sub-*/emg/*_emg.edf"):
        content = bytearray(edf.read_bytes())
        for i, label in enumerate((b"Corrugator", b"Zygomaticus")):  # the header's 16-byte label fields
            content[256 + 16 * i : 256 + 16 * (i + 1)] = label.ljust(16)
        edf.write_bytes(bytes(content))


def _unknown_video(root: Path) -> None:
    events_path = root / "sub-003/emg/sub-003_task-mimicry_events.tsv"
    events = pd.read_csv(events_path, sep="\t", dtype=str, keep_default_na=False)
    events.loc[events["block"] != "0", "video"] = events["video"].str.replace("v", "clip")
    events.to_csv(events_path, sep="\t", index=False)


def _responses_in_some_recordings(root: Path) -> None:
    for label in ("002", "005"):
        events_path = root / f"sub-{label}/emg/sub-{label}_task-mimicry_events.tsv"
        events = pd.read_csv(events_path, sep="\t", dtype=str, keep_default_na=False)
        events.drop(columns=["response_time", "response"]).to_csv(events_path, sep="\t", index=False)


BREAKAGES = {
    "response times in some recordings only": (
        _responses_in_some_recordings,
        [
            "2 participants (sub-002, sub-005): ",
            "sub-<id>_task-mimicry_events.tsv: events have no ['response_time', 'response'] columns, while 4 other",
            "leave them out everywhere to analyse without response times",
        ],
    ),
    "video ids the stimulus table does not have": (
        _unknown_video,
        ["participant sub-003", "sub-003_task-mimicry_events.tsv", "video id(s) ['clip01', 'clip02',", "study.stimuli"],
    ),
    "channels named otherwise in every recording": (
        _channels_named_otherwise,
        [
            "the dataset has 24 problem(s), 4 distinct",
            "6 participants (sub-001, sub-002, sub-003 and 3 more): ",
            "sub-<id>/emg/sub-<id>_task-mimicry_emg.edf: channel 'CS' is not in the recording (it has "
            "['Corrugator', 'Zygomaticus']); map muscles to channels with study.channels",
        ],
    ),
    "missing channel": (
        _missing_channel,
        ["participant sub-001", "sub-001_task-mimicry_channels.tsv", "channel 'ZM' (zygomaticus) is not listed"],
    ),
    "missing EDF": (_missing_edf, ["participant sub-003", "sub-003_task-mimicry_emg.edf", "file not found"]),
    "truncated EDF": (_truncated_edf, ["participant sub-002", "sub-002_task-mimicry_emg.edf", "truncated"]),
    "wrong sampling rate": (
        _wrong_sampling_rate,
        [
            "participant sub-004",
            "sub-004_task-mimicry_emg.edf",
            "sampled at 1200 Hz",
            "declares SamplingFrequency 1000 Hz",
        ],
    ),
    "unknown group": (
        _edit_participants(_unknown_group),
        ["participant sub-005", "participants.tsv", "unknown group 'caffeine'"],
    ),
    "duplicated participant": (
        _edit_participants(lambda t: pd.concat([t, t.iloc[[1]]])),
        ["participant sub-002", "participants.tsv", "listed more than once"],
    ),
    "events with missing trials": (
        _missing_trials,
        ["participant sub-006", "sub-006_task-mimicry_events.tsv", "has 86 experimental trials", "the study has 96"],
    ),
}


@pytest.fixture
def external(own_dataset: Path, scenario) -> tuple[Path, Path, str]:
    """A project copy set to analyse a copy of the simulated dataset as a user's own BIDS dataset."""
    project, overlay = scenario("own_bids", dataset=own_dataset)
    return project, own_dataset, overlay


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_an_external_dataset_is_analysed(external, test_run: Path) -> None:
    """The user's copy of the simulated recordings gives the simulated run's window and RT tables (everything
    downstream of them is the same code on the same tables)."""
    project, dataset, overlay = external
    run_snakemake(project, "--cores", "2", VALIDATION, *PREPROCESSED, "--configfile", overlay)
    summary = pd.read_csv(project / VALIDATION, sep="\t", dtype={"participant": str})
    assert len(summary) == 6
    assert not (project / "results/simulated").exists()  # nothing simulated when a dataset is given
    for table in PREPROCESSED:
        pd.testing.assert_frame_equal(pd.read_parquet(project / table), pd.read_parquet(test_run / table))


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_broken_input_is_named_and_nothing_is_written(external, breakage: str) -> None:
    project, dataset, overlay = external
    breaks, expected = BREAKAGES[breakage]
    breaks(dataset)
    before = _snapshot(dataset)
    result = run_snakemake(project, "--cores", "1", "--configfile", overlay, check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"
    assert "Traceback" not in message
    assert not (project / "results").exists()
    assert _snapshot(dataset) == before  # the input is never touched


def test_a_config_key_of_the_wrong_type_is_named(external) -> None:
    project, _, _ = external
    overlay = lay_scenario(project, "wrong_type")
    result = run_snakemake(project, "--cores", "1", "--configfile", overlay, check=False)
    message = result.stdout + result.stderr
    assert result.returncode != 0
    assert "'ninety-six' is not of type" in message and "trials_per_participant" in message
    assert not (project / "results").exists()


def test_results_already_made_survive_a_broken_rerun(external) -> None:
    project, dataset, overlay = external
    run_snakemake(project, "--cores", "2", VALIDATION, *PREPROCESSED, "--configfile", overlay)
    made = _snapshot(project / "results")
    assert (project / VALIDATION).is_file()
    _missing_trials(dataset)
    result = run_snakemake(project, "--cores", "2", "--configfile", overlay, check=False)
    assert result.returncode != 0 and "participant sub-006" in result.stdout + result.stderr
    assert _snapshot(project / "results") == made
