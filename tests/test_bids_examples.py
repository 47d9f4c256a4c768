"""The official BIDS 1.11 EMG examples (tests/data/bids-examples) through the project's validator and reader:
valid BIDS, but none a facial-mimicry study, so each ends in one clear message naming what the analysis needs
beyond BIDS (an events table with trials and blocks, a group per participant, one recording per participant and
task), never a traceback; their EDF recordings read through MNE-BIDS."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT
from mimicry.bids.read import read_recording
from mimicry.bids.validate import validate_dataset
from mimicry.errors import DatasetError
from mimicry.study import Study

EXAMPLES = ROOT / "tests/data/bids-examples"
NEEDS = {
    "emg_ConcurrentIndependentUnits": "recordings split by a further entity (run, acquisition, recording) are not read",
    "emg_CustomBipolar": "the mimicry analysis needs each video's onset, trial number and block",
    "emg_CustomBipolarFace": "missing column(s) ['trial', 'block']: the mimicry analysis needs",
    "emg_IndependentMod": "the mimicry analysis needs each video's onset, trial number and block",
    "emg_MultiBodyParts": "the mimicry analysis needs each video's onset, trial number and block",
    "emg_Multimodal": "missing required column(s) ['group']: the mimicry analysis needs each participant's group",
    "emg_TwoHDsEMG": "the mimicry analysis needs each video's onset, trial number and block",
    "emg_TwoWristbands": "the mimicry analysis needs each video's onset, trial number and block",
}


def _study(root: Path) -> Study:
    """The study a lab would state for the example: its task, two of its channels as the muscles."""
    recording = sorted(root.glob("sub-*/emg/*_emg.edf"))[0]
    channels = pd.read_csv(sorted(root.glob("sub-*/emg/*_channels.tsv"))[0], sep="\t")["name"].tolist()
    return Study(
        task=re.search(r"_task-([^_]+)_", recording.name).group(1),
        groups=("control", "drug"),
        reference_group="control",
        emotions=("angry", "happy"),
        channels={"corrugator": channels[0], "zygomaticus": channels[-1]},
        trials_per_participant=None,
        title="An example study",
        stimulus="faces",
    )


def test_every_official_example_is_there() -> None:
    assert sorted(p.name for p in EXAMPLES.glob("emg_*")) == sorted(NEEDS)


@pytest.mark.parametrize("example", sorted(NEEDS))
def test_an_official_example_gets_one_clear_message(example: str) -> None:
    root = EXAMPLES / example
    with pytest.raises(DatasetError) as caught:
        validate_dataset(root, _study(root))
    message = str(caught.value)
    assert NEEDS[example] in message, message
    assert all(problem.file for problem in caught.value.problems)  # each names its file


def test_an_official_facial_recording_reads_through_mne_bids() -> None:
    root = EXAMPLES / "emg_CustomBipolarFace"
    raw = read_recording(root, "01", _study(root))
    assert raw.ch_names == ["EMG1", "EMG6"] and raw.info["sfreq"] == 2000.0
    assert raw.get_channel_types() == ["emg", "emg"] and raw.n_times > 1000
