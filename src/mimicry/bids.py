"""BIDS 1.11 EMG: the workflow's input contract. Writing, reading (MNE-BIDS) and validation.

Layout (one recording per participant)::

    participants.tsv, participants.json, dataset_description.json, README
    sub-<label>/emg/sub-<label>_task-<task>_emg.edf      raw EMG, EDF (16 bit)
    sub-<label>/emg/sub-<label>_task-<task>_emg.json     sidecar with the required BIDS-EMG fields
    sub-<label>/emg/sub-<label>_task-<task>_channels.tsv name, type (EMG), units, target_muscle, ...
    sub-<label>/emg/sub-<label>_task-<task>_events.tsv   one row per video (see EVENTS_COLUMNS)

Validation reads only text files and EDF headers, so it checks a whole paper-size dataset in well under a
second and can run when the workflow starts, before any job.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mimicry.errors import DatasetError, InputError
from mimicry.study import RESPONSE_CATEGORIES, Study

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


def recording_files(root: str | Path, label: str, task: str) -> RecordingFiles:
    """Paths of participant ``label``'s recording (``label`` without the ``sub-`` prefix)."""
    stem = Path(root) / f"sub-{label}" / "emg" / f"sub-{label}_task-{task}"
    return RecordingFiles(
        edf=Path(f"{stem}_emg.edf"),
        sidecar=Path(f"{stem}_emg.json"),
        channels=Path(f"{stem}_channels.tsv"),
        events=Path(f"{stem}_events.tsv"),
        events_sidecar=Path(f"{stem}_events.json"),
    )


def write_tsv(table: pd.DataFrame, path: str | Path) -> None:
    """Write a BIDS TSV: tab-separated, missing values as ``n/a``."""
    table.to_csv(path, sep="\t", index=False, na_rep="n/a")


def write_json(content: Mapping[str, Any], path: str | Path) -> None:
    Path(path).write_text(json.dumps(content, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_dataset_description(root: str | Path, name: str, generated_by: str) -> None:
    write_json(
        {"Name": name, "BIDSVersion": BIDS_VERSION, "DatasetType": "raw", "GeneratedBy": [{"Name": generated_by}]},
        Path(root) / "dataset_description.json",
    )


def write_participants(participants: pd.DataFrame, root: str | Path) -> None:
    write_tsv(participants, Path(root) / "participants.tsv")
    write_json(
        {k: v for k, v in PARTICIPANTS_DESCRIPTION.items() if k in participants.columns},
        Path(root) / "participants.json",
    )


def write_recording(
    files: RecordingFiles,
    data: np.ndarray,
    channel_names: list[str],
    muscles: list[str],
    sfreq: float,
    events: pd.DataFrame,
    *,
    task: str,
    line_frequency: float,
    sidecar_extra: Mapping[str, Any] | None = None,
) -> None:
    """Write one participant's BIDS-EMG recording: EDF (microvolts, channel-wise range) and its sidecars."""
    import mne

    files.edf.parent.mkdir(parents=True, exist_ok=True)
    info = mne.create_info(channel_names, sfreq, ch_types="emg")
    raw = mne.io.RawArray(data, info, verbose="error")
    mne.export.export_raw(files.edf, raw, fmt="edf", physical_range="channelwise", overwrite=True, verbose="error")
    write_json(
        {
            "TaskName": task,
            "EMGPlacementScheme": "Other",
            "EMGPlacementSchemeDescription": "Bipolar pairs after Fridlund & Cacioppo (1986), left face",
            "EMGReference": "bipolar",
            "EMGGround": "forehead",
            "SamplingFrequency": sfreq,
            "PowerLineFrequency": line_frequency,
            "RecordingType": "continuous",
            "RecordingDuration": data.shape[1] / sfreq,
            "SoftwareFilters": "n/a",
            "EMGChannelCount": len(channel_names),
            **(sidecar_extra or {}),
        },
        files.sidecar,
    )
    write_tsv(
        pd.DataFrame(
            {
                "name": channel_names,
                "type": "EMG",
                "units": "µV",
                "target_muscle": muscles,
                "low_cutoff": 0.0,
                "high_cutoff": sfreq / 2,
                "sampling_frequency": sfreq,
                "status": "good",
            }
        ),
        files.channels,
    )
    write_tsv(events, files.events)
    write_json({k: v for k, v in EVENTS_DESCRIPTION.items() if k in events.columns}, files.events_sidecar)


def read_trials(events: str | Path) -> pd.DataFrame:
    """The experimental trials (block > 0) of an ``_events.tsv``, in trial order; ``n/a`` is missing. Events
    without stimulus identities get ``n/a`` video and face ids."""
    table = pd.read_csv(
        events,
        sep="\t",
        na_values=["n/a"],
        keep_default_na=False,
        dtype={"video": str, "face": str, "trial_type": str, "response": str},
    )
    for column in STIMULUS_COLUMNS:
        if column not in table.columns:
            table[column] = "n/a"
    return table[table["block"] > 0].sort_values("trial").reset_index(drop=True)


def read_recording(root: str | Path, label: str, study: Study) -> Any:
    """Read one participant's recording with MNE-BIDS, picking the study's channels in muscle order."""
    import mne_bids

    path = mne_bids.BIDSPath(subject=label, task=study.task, datatype="emg", suffix="emg", extension=".edf", root=root)
    raw = mne_bids.read_raw_bids(path, verbose="error")
    return raw.pick([study.channels[m] for m in study.muscles])


# ---------------------------------------------------------------------------------------------- validation


@dataclass(frozen=True)
class EdfHeader:
    """What validation needs from an EDF/BDF header."""

    labels: tuple[str, ...]
    sfreqs: tuple[float, ...]
    n_records: int
    record_duration: float
    expected_bytes: int

    @property
    def duration(self) -> float:
        return self.n_records * self.record_duration


def read_edf_header(path: str | Path) -> EdfHeader:
    """Parse an EDF(+)/BDF header without reading the signals; raise ``ValueError`` if it is malformed."""
    with open(path, "rb") as stream:
        fixed = stream.read(256)
        if len(fixed) < 256:
            raise ValueError(f"file is {len(fixed)} bytes, shorter than an EDF header")
        bytes_per_sample = 3 if fixed[:1] == b"\xff" else 2  # BDF starts with 0xFF "BIOSEMI"
        n_records = int(fixed[236:244].decode("ascii").strip())
        record_duration = float(fixed[244:252].decode("ascii").strip())
        ns = int(fixed[252:256].decode("ascii").strip())
        rest = stream.read(ns * 256)
        if len(rest) < ns * 256:
            raise ValueError("header is truncated")

    def field(offset: int, width: int) -> list[str]:
        return [rest[offset + i * width : offset + (i + 1) * width].decode("latin-1").strip() for i in range(ns)]

    labels = field(0, 16)
    samples = [int(x) for x in field(ns * (16 + 80 + 8 * 5 + 80), 8)]
    return EdfHeader(
        labels=tuple(labels),
        sfreqs=tuple(s / record_duration for s in samples),
        n_records=n_records,
        record_duration=record_duration,
        expected_bytes=256 + ns * 256 + n_records * sum(samples) * bytes_per_sample,
    )


def _read_tsv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False, dtype={"participant_id": str})


def validate_participants(
    path: str | Path, study: Study, schema: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, list[InputError]]:
    """Check ``participants.tsv``: columns, unique ids, known groups and, given a JSON schema, every row.

    Returns the table and the problems found.
    """
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=PARTICIPANTS_COLUMNS), [InputError("file not found", file=path)]
    table = _read_tsv(path)
    problems = []
    missing = [c for c in ("participant_id", "group") if c not in table.columns]
    if missing:
        return table, [
            InputError(
                f"missing required column(s) {missing}: the mimicry analysis needs each participant's group (one of "
                "study.groups) beside BIDS's participant_id",
                file=path,
            )
        ]
    for label in table.loc[table["participant_id"].duplicated(), "participant_id"].unique():
        problems.append(InputError("listed more than once", file=path, participant=label))
    for label in table.loc[~table["participant_id"].str.fullmatch(r"sub-[0-9A-Za-z]+"), "participant_id"]:
        problems.append(
            InputError("participant_id must look like 'sub-<alphanumeric label>'", file=path, participant=label)
        )
    for column in table.columns.drop("participant_id"):
        empty = table[column].eq("")
        if not empty.any():
            continue
        problems += [
            InputError(f"column {column}: an empty cell; BIDS writes a missing value as n/a", file=path, participant=p)
            for p in table.loc[empty, "participant_id"]
        ]
        # missing, as n/a would be: the schema then checks the values there are, not text read for numbers
        blanked = table[column].mask(empty)
        try:
            table[column] = pd.to_numeric(blanked)
        except (TypeError, ValueError):
            table[column] = blanked
    for _, row in table[~table["group"].isin(study.groups)].iterrows():
        problems.append(
            InputError(
                f"unknown group {row['group']!r}; the study's groups are {list(study.groups)}",
                file=path,
                participant=row["participant_id"],
            )
        )
    if schema is not None:
        from mimicry.settings import jsonschema

        validator = jsonschema().Draft202012Validator(schema)
        for record in table.to_dict("records"):
            present = {key: value for key, value in record.items() if not pd.isna(value)}
            for error in validator.iter_errors(present):
                column = ".".join(str(part) for part in error.absolute_path) or "row"
                problems.append(
                    InputError(
                        f"column {column}: {error.message}", file=path, participant=str(record["participant_id"])
                    )
                )
    return table, problems


def _stimulus_problems(trials: pd.DataFrame, stimuli: pd.DataFrame) -> list[str]:
    """The experimental trials' video and face ids that the stimulus table does not have, and videos shown as
    another emotion than the table gives them."""
    problems = []
    fix = "fix the events, or give the study's own table in study.stimuli (null: no stimulus table)"
    for column in (c for c in STIMULUS_COLUMNS if c in trials.columns):
        unknown = sorted(set(trials[column].dropna().astype(str)) - set(stimuli[column].astype(str)))
        if unknown:
            shown = unknown[:5] + (["..."] if len(unknown) > 5 else [])
            problems.append(f"{len(unknown)} {column} id(s) {shown} not in study.stimuli; {fix}")
    if "video" not in trials.columns:
        return problems
    emotion_of = stimuli.set_index(stimuli["video"].astype(str))["trial_type"]
    listed = trials[trials["video"].astype(str).isin(emotion_of.index)]
    other = listed[listed["trial_type"].to_numpy() != emotion_of.loc[listed["video"].astype(str)].to_numpy()]
    if len(other):
        first = other.iloc[0]
        problems.append(
            f"{len(other)} trial(s) show a video as another emotion than study.stimuli gives it (trial "
            f"{first['trial']}: video {first['video']} as {first['trial_type']}, the table: "
            f"{emotion_of[str(first['video'])]})"
        )
    return problems


def _why_missing(file: Path, events: Path) -> str:
    """ "file not found", and what the mimicry analysis needs it for where BIDS itself does not require it, or the
    files of the same recording split by another entity (e.g. ``_recording-bipolar_``), which it cannot read."""
    stem, suffix = file.name.rsplit("_", 1)
    others = sorted(f.name for f in file.parent.glob(f"{stem}_*_{suffix}")) if file.parent.is_dir() else []
    if others:
        return (
            f"file not found; the folder has {others}: recordings split by a further entity (run, acquisition, "
            "recording) are not read; give one recording per participant and task"
        )
    if file == events:
        return (
            "file not found: the mimicry analysis needs each video's onset, trial number and block (an _events.tsv "
            f"with {list(EVENTS_COLUMNS)}), which BIDS-EMG leaves optional"
        )
    return "file not found"


def validate_recording(
    root: str | Path, label: str, study: Study, stimuli: pd.DataFrame | None = None
) -> tuple[dict[str, Any], list[InputError]]:
    """Check one participant's recording against its sidecars and the study design (and, given the stimulus
    table, its video and face ids).

    Returns a summary row (for the validation report) and the list of problems found.
    """
    files = recording_files(root, label, study.task)
    participant = f"sub-{label}"
    problems: list[InputError] = []

    def problem(message: str, file: Path) -> None:
        problems.append(InputError(message, file=file, participant=participant))

    missing = [f for f in files.required() if not f.is_file()]
    for file in missing:
        problem(_why_missing(file, files.events), file)
    summary: dict[str, Any] = {"participant": label}
    if missing:
        return summary, problems

    try:
        sidecar = json.loads(files.sidecar.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        problem(f"not valid JSON ({error})", files.sidecar)
        sidecar = {}
    absent = [key for key in REQUIRED_SIDECAR_FIELDS if key not in sidecar]
    if absent:
        problem(f"missing required BIDS-EMG field(s) {absent}", files.sidecar)
    declared_sfreq = sidecar.get("SamplingFrequency")
    if "SamplingFrequency" in sidecar and not isinstance(declared_sfreq, (int, float)):
        problem(f"SamplingFrequency must be a number, not {declared_sfreq!r}", files.sidecar)
        declared_sfreq = None
    if sidecar.get("TaskName", study.task) != study.task:
        problem(f"TaskName is {sidecar['TaskName']!r}, expected {study.task!r}", files.sidecar)

    channels = _read_tsv(files.channels)
    wanted = [study.channels[m] for m in study.muscles]
    if not set(CHANNELS_COLUMNS) <= set(channels.columns):
        problem(f"needs columns {list(CHANNELS_COLUMNS)}, has {list(channels.columns)}", files.channels)
    else:
        listed = channels.set_index("name")
        for muscle, name in study.channels.items():
            if name not in listed.index:
                problem(
                    f"channel {name!r} ({muscle}) is not listed (it lists {list(listed.index)}); map muscles to "
                    "channels with study.channels",
                    files.channels,
                )
            elif str(listed.loc[name, "type"]).upper() != "EMG":
                problem(
                    f"channel {name!r} ({muscle}) has type {listed.loc[name, 'type']!r}, expected EMG", files.channels
                )

    duration = math.nan
    try:
        header = read_edf_header(files.edf)
    except (ValueError, UnicodeDecodeError) as error:
        problem(f"unreadable EDF header ({error})", files.edf)
    else:
        size = files.edf.stat().st_size
        duration = header.duration
        if size < header.expected_bytes:
            problem(
                f"truncated: {size} bytes, the header promises {header.expected_bytes} "
                f"({header.n_records} records of {header.record_duration} s)",
                files.edf,
            )
        for name in wanted:
            if name not in header.labels:
                signals = [label for label in header.labels if label not in ("EDF Annotations", "BDF Annotations")]
                problem(
                    f"channel {name!r} is not in the recording (it has {signals}); map muscles to channels with "
                    "study.channels",
                    files.edf,
                )
            elif declared_sfreq is not None and not math.isclose(
                header.sfreqs[header.labels.index(name)], declared_sfreq
            ):
                problem(
                    f"channel {name!r} is sampled at {header.sfreqs[header.labels.index(name)]:g} Hz but "
                    f"{files.sidecar.name} declares SamplingFrequency {declared_sfreq:g} Hz",
                    files.edf,
                )

    events = _read_tsv(files.events)
    n_trials = n_faces = 0
    absent = [c for c in EVENTS_COLUMNS if c not in events.columns]
    responses = [c for c in RESPONSE_COLUMNS if c in events.columns]
    if len(responses) == 1:
        problem(
            f"has {responses[0]} without {set(RESPONSE_COLUMNS) - set(responses)}: give both or neither", files.events
        )
    if absent:
        problem(
            f"missing column(s) {absent}: the mimicry analysis needs {list(EVENTS_COLUMNS)} (trial numbers and "
            "blocks, 0 for practice trials, beyond BIDS's onset, duration and trial_type)",
            files.events,
        )
    else:
        trials = events[events["block"] > 0]
        n_trials = len(trials)
        if study.trials_per_participant is not None and n_trials != study.trials_per_participant:
            problem(
                f"has {n_trials} experimental trials (block > 0), the study has {study.trials_per_participant}",
                files.events,
            )
        duplicated = trials.loc[trials["trial"].duplicated(), "trial"].unique()
        if len(duplicated):
            problem(f"trial number(s) {sorted(int(t) for t in duplicated)} appear more than once", files.events)
        unknown = sorted(set(events["trial_type"]) - set(study.emotions))
        if unknown:
            problem(f"trial_type {unknown} not among the study's emotions {list(study.emotions)}", files.events)
        if stimuli is not None:
            for message in _stimulus_problems(trials, stimuli):
                problem(message, files.events)
        n_faces = trials["face"].nunique() if "face" in trials.columns else 0
        if "response" in events.columns:
            bad = sorted(set(events["response"].dropna()) - set(RESPONSE_CATEGORIES))
            if bad:
                problem(f"response {bad} not among {list(RESPONSE_CATEGORIES)}", files.events)
        if math.isfinite(duration):
            outside = events[(events["onset"] < 0) | (events["onset"] + events["duration"] > duration)]
            if len(outside):
                problem(
                    f"{len(outside)} event(s) fall outside the {duration:g}-s recording "
                    f"(first onset {outside['onset'].iloc[0]:g} s)",
                    files.events,
                )
    summary.update(
        sfreq=declared_sfreq,
        duration_s=duration,
        n_trials=n_trials,
        line_frequency=sidecar.get("PowerLineFrequency"),
        response_times=len(responses) == len(RESPONSE_COLUMNS),
        n_faces=n_faces,
    )
    return summary, problems


def validate_dataset(
    root: str | Path,
    study: Study,
    exclude: Iterable[str] = (),
    participants_schema: Mapping[str, Any] | None = None,
    stimuli: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Validate a whole BIDS-EMG dataset (against the stimulus table, if given); raise :class:`DatasetError`
    listing every problem found.

    Returns one row per analysed participant (``exclude`` lists labels to leave out, with or without ``sub-``):
    participant, group, sfreq, duration_s, n_trials, line_frequency, response_times (whether its events have the
    response task's columns: all participants or none), n_faces (face identities among its trials; 0: no face
    column).
    """
    root = Path(root)
    participants, problems = validate_participants(root / "participants.tsv", study, participants_schema)
    excluded = {label.removeprefix("sub-") for label in exclude}
    rows = []
    if "participant_id" in participants.columns and "group" in participants.columns:
        listed = set(participants["participant_id"])
        for folder in sorted(root.glob("sub-*")):
            if folder.is_dir() and folder.name not in listed:
                problems.append(
                    InputError(
                        "has a folder in the dataset but is not listed in participants.tsv",
                        file=folder,
                        participant=folder.name,
                    )
                )
        for _, person in participants.drop_duplicates("participant_id").iterrows():
            label = str(person["participant_id"]).removeprefix("sub-")
            if label in excluded:
                continue
            summary, found = validate_recording(root, label, study, stimuli)
            problems += found
            rows.append({**summary, "group": person["group"]})
    with_responses = sum(bool(row.get("response_times")) for row in rows)
    if 0 < with_responses < len(rows):
        for row in rows:
            if not row.get("response_times", True):
                problems.append(
                    InputError(
                        f"events have no {list(RESPONSE_COLUMNS)} columns, while {with_responses} other participants' "
                        "have them: add them, or leave them out everywhere to analyse without response times",
                        file=recording_files(root, row["participant"], study.task).events,
                        participant=f"sub-{row['participant']}",
                    )
                )
    if problems:
        raise DatasetError(problems)
    columns = ["participant", "group", "sfreq", "duration_s", "n_trials", "line_frequency", "response_times", "n_faces"]
    return pd.DataFrame(rows, columns=columns)
