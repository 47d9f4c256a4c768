"""The BIDS 1.11 EMG layout the workflow reads and writes: file names, required fields and columns, and the
descriptions of the columns it adds."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

BIDS_VERSION = "1.11.0"


#: Fields BIDS 1.11 requires in ``*_emg.json``.
REQUIRED_SIDECAR_FIELDS = (
    "TaskName",
    "EMGPlacementScheme",
    "EMGReference",
    "SamplingFrequency",
    "PowerLineFrequency",
    "RecordingType",
    "SoftwareFilters",
)


CHANNELS_COLUMNS = ("name", "type", "units")


EVENTS_COLUMNS = ("onset", "duration", "trial_type", "trial", "block")


#: stimulus identities: optional (a study without them has no video/face ids, and no (1 | face) terms)
STIMULUS_COLUMNS = ("video", "face")


#: the response task's columns: both or neither (a study without response times)
RESPONSE_COLUMNS = ("response_time", "response")


PARTICIPANTS_COLUMNS = (
    "participant_id",
    "group",
    "sex",
    "age",
    "bmi",
    "hours_from_pill",
    "panas_pos_t1",
    "panas_pos_t2",
    "panas_neg_t1",
    "panas_neg_t2",
    "guess",
    "nausea_t1",
    "nausea_t2",
)


EVENTS_DESCRIPTION: dict[str, Any] = {
    "onset": {"Description": "Video onset from the start of the recording", "Units": "s"},
    "duration": {"Description": "Video duration", "Units": "s"},
    "trial_type": {
        "Description": "Direction of the morph",
        "Levels": {"AngryToHappy": "an angry face turning happy", "HappyToAngry": "a happy face turning angry"},
    },
    "trial": {"Description": "Experimental trial number (1-based); n/a for practice trials"},
    "block": {"Description": "Block number; 0 marks the practice trials"},
    "video": {"Description": "Video id (resources/stimuli.tsv)"},
    "face": {"Description": "Face identity shown in the video"},
    "fixation_duration": {"Description": "Duration of the fixation cross before the video", "Units": "s"},
    "response_time": {"Description": "First key press after video onset; n/a for misses", "Units": "s"},
    "response": {
        "Description": "Response category shown on the feedback screen",
        "Levels": {
            "correct": "the correct key, once",
            "miss": "no key press during the video",
            "wrong_button": "a key other than arrow-up",
            "multiple": "the correct key more than once",
        },
    },
    "sample": {"Description": "Video onset as a sample index of the recording"},
}


#: what the simulator writes in participants.tsv for a crossover: the session-level columns move to the sessions
#: files (the drug no longer a participant's group)
CROSSOVER_PARTICIPANTS_COLUMNS = ("participant_id", "sex", "age", "bmi")


#: the sessions file's columns the simulator writes for a crossover (``drug`` and ``period``: the config names the
#: columns a lab's files use, ``study.design``)
SESSIONS_COLUMNS = ("session_id", "drug", "period", "hours_from_pill", "guess", "nausea_t1", "nausea_t2")


SESSIONS_DESCRIPTION: dict[str, Any] = {
    "session_id": {"Description": "Session label"},
    "drug": {"Description": "Drug given at this session (crossover, double-blind)"},
    "period": {"Description": "Position of the session in the participant's order of sessions (1 = first)"},
    "hours_from_pill": {"Description": "Time from pill intake to the start of the task", "Units": "h"},
    "guess": {"Description": "Drug the participant believes they received at this session"},
    "nausea_t1": {"Description": "Self-reported nausea (1 = none to 5), before pill intake"},
    "nausea_t2": {"Description": "Self-reported nausea (1 = none to 5), 3 h after pill intake"},
}


PARTICIPANTS_DESCRIPTION: dict[str, Any] = {
    "participant_id": {"Description": "Participant label"},
    "group": {"Description": "Drug group (between subjects, double-blind)"},
    "sex": {"Description": "Sex", "Levels": {"F": "female", "M": "male"}},
    "age": {"Description": "Age", "Units": "year"},
    "bmi": {"Description": "Body mass index", "Units": "kg/m^2"},
    "hours_from_pill": {"Description": "Time from pill intake to the start of the task", "Units": "h"},
    "panas_pos_t1": {"Description": "PANAS positive affect, immediately before pill intake"},
    "panas_pos_t2": {"Description": "PANAS positive affect, 3 h after pill intake"},
    "panas_neg_t1": {"Description": "PANAS negative affect, immediately before pill intake"},
    "panas_neg_t2": {"Description": "PANAS negative affect, 3 h after pill intake"},
    "guess": {"Description": "Group the participant believes they were in"},
    "nausea_t1": {"Description": "Self-reported nausea (1 = none to 5), before pill intake"},
    "nausea_t2": {"Description": "Self-reported nausea (1 = none to 5), 3 h after pill intake"},
}


@dataclass(frozen=True)
class RecordingFiles:
    """Paths of one participant's BIDS-EMG files."""

    edf: Path
    sidecar: Path
    channels: Path
    events: Path
    events_sidecar: Path

    def required(self) -> tuple[Path, ...]:
        return self.edf, self.sidecar, self.channels, self.events


def recording_name(label: str, session: str | None = None) -> str:
    """A recording's BIDS entities, as its files and the workflow's per-recording outputs are named:
    ``sub-<label>``, or ``sub-<label>_ses-<session>`` in a study with sessions."""
    return f"sub-{label}" if session is None else f"sub-{label}_ses-{session}"


def recording_files(root: str | Path, label: str, task: str, session: str | None = None) -> RecordingFiles:
    """Paths of participant ``label``'s recording (``label`` without the ``sub-`` prefix), in session ``session``
    (without ``ses-``; ``None``: a dataset without sessions)."""
    folder = Path(root) / f"sub-{label}" / ("" if session is None else f"ses-{session}") / "emg"
    stem = folder / f"{recording_name(label, session)}_task-{task}"
    return RecordingFiles(
        edf=Path(f"{stem}_emg.edf"),
        sidecar=Path(f"{stem}_emg.json"),
        channels=Path(f"{stem}_channels.tsv"),
        events=Path(f"{stem}_events.tsv"),
        events_sidecar=Path(f"{stem}_events.json"),
    )


def dataset_root(edf: str | Path, session: str | None = None) -> Path:
    """The dataset folder a recording's EDF file lies in (``sub-*/[ses-*/]emg/`` below it)."""
    return Path(edf).parents[2 if session is None else 3]


def sessions_file(root: str | Path, label: str) -> Path:
    """Participant ``label``'s BIDS sessions file, which lists their sessions (and, in a crossover, the drug
    given at each)."""
    return Path(root) / f"sub-{label}" / f"sub-{label}_sessions.tsv"


def read_tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False, dtype={"participant_id": str})
