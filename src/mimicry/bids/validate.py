"""Validation of a BIDS-EMG dataset before any job runs: participants.tsv, and each recording's sidecar, channels,
EDF header and events, each check its own function returning its problems; every problem is reported, grouped."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from mimicry.bids.layout import (
    CHANNELS_COLUMNS,
    EVENTS_COLUMNS,
    PARTICIPANTS_COLUMNS,
    REQUIRED_SIDECAR_FIELDS,
    RESPONSE_COLUMNS,
    STIMULUS_COLUMNS,
    RecordingFiles,
    read_tsv,
    recording_files,
    sessions_file,
)
from mimicry.bids.read import read_edf_header
from mimicry.errors import DatasetError, InputError
from mimicry.study import RESPONSE_CATEGORIES, Study


def validate_participants(
    path: str | Path, study: Study, schema: Mapping[str, Any] | None = None
) -> tuple[pd.DataFrame, list[InputError]]:
    """Check ``participants.tsv``: columns, unique ids, known groups and, given a JSON schema, every row.

    Returns the table and the problems found.
    """
    path = Path(path)
    if not path.is_file():
        return pd.DataFrame(columns=PARTICIPANTS_COLUMNS), [InputError("file not found", file=path)]
    table = read_tsv(path)
    problems = []
    if study.crossover and schema is not None:  # the drug is the sessions'; a group column is a covariate
        schema = {**schema, "required": [key for key in schema.get("required", []) if key != "group"]}
    missing = [c for c in ("participant_id", "group") if c not in table.columns]
    if study.crossover:
        missing = [c for c in missing if c == "participant_id"]
        if missing:
            return table, [InputError("missing required column 'participant_id' (BIDS)", file=path)]
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
    unknown_group = pd.Series(False, index=table.index) if study.crossover else ~table["group"].isin(study.groups)
    for _, row in table[unknown_group].iterrows():
        problems.append(
            InputError(
                f"unknown group {row['group']!r}; the study's groups are {list(study.groups)}",
                file=path,
                participant=row["participant_id"],
            )
        )
    if schema is not None:
        from mimicry.config import jsonschema

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


#: the columns of a crossover's sessions as validation returns them (the file's others follow)
VALIDATED_SESSION_COLUMNS = ("session", "drug", "period")


def validate_sessions(root: str | Path, label: str, study: Study) -> tuple[pd.DataFrame, list[InputError]]:
    """Check participant ``label``'s sessions file in a crossover: the session ids, the drug of each (one of
    study.groups, none given twice), the period (whole numbers from 1, each once; without a period column, the
    order of the listing), and no session folder it does not list.

    Returns the sessions (``session`` label without ``ses-``, ``drug``, ``period``, then the file's other columns),
    in period order, and the problems found.
    """
    path, participant = sessions_file(root, label), f"sub-{label}"
    empty = pd.DataFrame(columns=VALIDATED_SESSION_COLUMNS)
    drug, period = study.drug_column, study.period_column
    if not path.is_file():
        return empty, [
            InputError(
                f"file not found: a crossover (study.design.drug: within) lists each participant's sessions and the "
                f"drug given at each (columns session_id, {drug}{'' if period is None else f', {period}'})",
                file=path,
                participant=participant,
            )
        ]
    table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False, dtype=str)
    missing = [c for c in ("session_id", drug) if c not in table.columns]
    if missing:
        return empty, [
            InputError(
                f"missing column(s) {missing} (it has {list(table.columns)}); name the drug column with "
                "study.design.drug_column",
                file=path,
                participant=participant,
            )
        ]
    problems = []

    def problem(message: str) -> None:
        problems.append(InputError(message, file=path, participant=participant))

    for session_id in table.loc[~table["session_id"].str.fullmatch(r"ses-[0-9A-Za-z]+"), "session_id"]:
        problem(f"session_id {session_id!r} must look like 'ses-<alphanumeric label>'")
    for session_id in table.loc[table["session_id"].duplicated(), "session_id"].unique():
        problem(f"session {session_id} is listed more than once")
    for _, row in table[~table[drug].isin(study.groups)].iterrows():
        problem(f"session {row['session_id']}: unknown drug {row[drug]!r}; the study's drugs are {list(study.groups)}")
    for given in table.loc[table[drug].duplicated() & table[drug].isin(study.groups), drug].unique():
        sessions = list(table.loc[table[drug] == given, "session_id"])
        problem(f"drug {given!r} is given in more than one session ({sessions}); each drug once per participant")
    if period is not None and period in table.columns:
        periods = pd.to_numeric(table[period], errors="coerce")
        if periods.isna().any() or (periods % 1 != 0).any() or (periods < 1).any() or periods.duplicated().any():
            problem(
                f"column {period}: {list(table[period])}; periods are whole numbers from 1, each once (the order "
                "of the participant's sessions)"
            )
            periods = pd.Series(range(1, len(table) + 1), index=table.index)
    else:
        periods = pd.Series(range(1, len(table) + 1), index=table.index)
    listed = set(table["session_id"])
    for folder in sorted(path.parent.glob("ses-*")):
        if folder.is_dir() and folder.name not in listed:
            problem(f"has a session folder {folder.name} that the sessions file does not list")
    sessions = pd.DataFrame(
        {
            "session": table["session_id"].str.removeprefix("ses-"),
            "drug": table[drug],
            "period": periods.astype(int).to_numpy(),
        }
    )
    # the file's other columns (time from pill, guesses, ...) as they are, numbers where they are numbers
    for column in table.columns.drop(["session_id", drug, *([period] if period in table.columns else [])]):
        values = table[column]
        numbers = pd.to_numeric(values, errors="coerce")
        sessions[column] = numbers if numbers.notna().sum() == values.notna().sum() else values
    return sessions.sort_values("period", kind="stable").reset_index(drop=True), problems


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


#: A problem of one file of a recording: the message and the file it is about.
Problem = tuple[str, Path]


def sidecar_problems(files: RecordingFiles, study: Study) -> tuple[dict[str, Any], float | None, list[Problem]]:
    """The ``_emg.json`` sidecar: valid JSON, BIDS-EMG's required fields, a numeric sampling frequency, the study's
    task. Returns the sidecar, its sampling frequency (None: not a number) and the problems."""
    problems: list[Problem] = []
    try:
        sidecar = json.loads(files.sidecar.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        problems.append((f"not valid JSON ({error})", files.sidecar))
        sidecar = {}
    absent = [key for key in REQUIRED_SIDECAR_FIELDS if key not in sidecar]
    if absent:
        problems.append((f"missing required BIDS-EMG field(s) {absent}", files.sidecar))
    declared_sfreq = sidecar.get("SamplingFrequency")
    if "SamplingFrequency" in sidecar and not isinstance(declared_sfreq, (int, float)):
        problems.append((f"SamplingFrequency must be a number, not {declared_sfreq!r}", files.sidecar))
        declared_sfreq = None
    if sidecar.get("TaskName", study.task) != study.task:
        problems.append((f"TaskName is {sidecar['TaskName']!r}, expected {study.task!r}", files.sidecar))
    return sidecar, declared_sfreq, problems


def channel_problems(files: RecordingFiles, study: Study) -> list[Problem]:
    """``_channels.tsv``: its required columns, and each muscle's channel listed with type EMG."""
    channels = read_tsv(files.channels)
    if not set(CHANNELS_COLUMNS) <= set(channels.columns):
        return [(f"needs columns {list(CHANNELS_COLUMNS)}, has {list(channels.columns)}", files.channels)]
    problems: list[Problem] = []
    listed = channels.set_index("name")
    for muscle, name in study.channels.items():
        if name not in listed.index:
            message = (
                f"channel {name!r} ({muscle}) is not listed (it lists {list(listed.index)}); map muscles to "
                "channels with study.channels"
            )
            problems.append((message, files.channels))
        elif str(listed.loc[name, "type"]).upper() != "EMG":
            message = f"channel {name!r} ({muscle}) has type {listed.loc[name, 'type']!r}, expected EMG"
            problems.append((message, files.channels))
    return problems


def edf_problems(files: RecordingFiles, study: Study, declared_sfreq: float | None) -> tuple[float, list[Problem]]:
    """The EDF header: readable, the file as long as it promises, each muscle's channel there and sampled at the
    sidecar's frequency. Returns the recording's duration (NaN: unreadable) and the problems."""
    try:
        header = read_edf_header(files.edf)
    except (ValueError, UnicodeDecodeError) as error:
        return math.nan, [(f"unreadable EDF header ({error})", files.edf)]
    problems: list[Problem] = []
    size = files.edf.stat().st_size
    if size < header.expected_bytes:
        message = (
            f"truncated: {size} bytes, the header promises {header.expected_bytes} "
            f"({header.n_records} records of {header.record_duration} s)"
        )
        problems.append((message, files.edf))
    for name in (study.channels[m] for m in study.muscles):
        if name not in header.labels:
            signals = [label for label in header.labels if label not in ("EDF Annotations", "BDF Annotations")]
            message = (
                f"channel {name!r} is not in the recording (it has {signals}); map muscles to channels with "
                "study.channels"
            )
            problems.append((message, files.edf))
            continue
        sfreq = header.sfreqs[header.labels.index(name)]
        if declared_sfreq is not None and not math.isclose(sfreq, declared_sfreq):
            message = (
                f"channel {name!r} is sampled at {sfreq:g} Hz but {files.sidecar.name} declares SamplingFrequency "
                f"{declared_sfreq:g} Hz"
            )
            problems.append((message, files.edf))
    return header.duration, problems


def _trial_problems(events: pd.DataFrame, study: Study, stimuli: pd.DataFrame | None, duration: float) -> list[str]:
    """What is wrong with the experimental trials of an events table that has every required column."""
    trials = events[events["block"] > 0]
    problems = []
    if study.trials_per_participant is not None and len(trials) != study.trials_per_participant:
        problems.append(
            f"has {len(trials)} experimental trials (block > 0), the study has {study.trials_per_participant}"
        )
    duplicated = trials.loc[trials["trial"].duplicated(), "trial"].unique()
    if len(duplicated):
        problems.append(f"trial number(s) {sorted(int(t) for t in duplicated)} appear more than once")
    unknown = sorted(set(events["trial_type"]) - set(study.emotions))
    if unknown:
        problems.append(f"trial_type {unknown} not among the study's emotions {list(study.emotions)}")
    if stimuli is not None:
        problems += _stimulus_problems(trials, stimuli)
    if "response" in events.columns:
        bad = sorted(set(events["response"].dropna()) - set(RESPONSE_CATEGORIES))
        if bad:
            problems.append(f"response {bad} not among {list(RESPONSE_CATEGORIES)}")
    if math.isfinite(duration):
        outside = events[(events["onset"] < 0) | (events["onset"] + events["duration"] > duration)]
        if len(outside):
            problems.append(
                f"{len(outside)} event(s) fall outside the {duration:g}-s recording "
                f"(first onset {outside['onset'].iloc[0]:g} s)"
            )
    return problems


def events_problems(
    files: RecordingFiles, study: Study, stimuli: pd.DataFrame | None, duration: float
) -> tuple[dict[str, Any], list[Problem]]:
    """``_events.tsv``: the columns the analysis needs, the response task's both or neither, and its trials (count,
    numbers, emotions, stimuli, responses, onsets within the recording). Returns the summary's trial figures
    (n_trials, response_times, n_faces) and the problems."""
    events = read_tsv(files.events)
    messages = []
    absent = [c for c in EVENTS_COLUMNS if c not in events.columns]
    responses = [c for c in RESPONSE_COLUMNS if c in events.columns]
    if len(responses) == 1:
        messages.append(f"has {responses[0]} without {set(RESPONSE_COLUMNS) - set(responses)}: give both or neither")
    summary = {"n_trials": 0, "response_times": len(responses) == len(RESPONSE_COLUMNS), "n_faces": 0}
    if absent:
        messages.append(
            f"missing column(s) {absent}: the mimicry analysis needs {list(EVENTS_COLUMNS)} (trial numbers and "
            "blocks, 0 for practice trials, beyond BIDS's onset, duration and trial_type)"
        )
    else:
        trials = events[events["block"] > 0]
        summary.update(n_trials=len(trials), n_faces=trials["face"].nunique() if "face" in trials.columns else 0)
        messages += _trial_problems(events, study, stimuli, duration)
    return summary, [(message, files.events) for message in messages]


def validate_recording(
    root: str | Path, label: str, study: Study, stimuli: pd.DataFrame | None = None, session: str | None = None
) -> tuple[dict[str, Any], list[InputError]]:
    """Check one participant's recording (in ``session``, in a study with sessions) against its sidecars and the
    study design (and, given the stimulus table, its video and face ids).

    Returns a summary row (for the validation report) and the list of problems found.
    """
    files = recording_files(root, label, study.task, session)
    participant = f"sub-{label}"
    missing = [f for f in files.required() if not f.is_file()]
    if missing:
        return {"participant": label, "session": session}, [
            InputError(_why_missing(f, files.events), file=f, participant=participant) for f in missing
        ]
    sidecar, declared_sfreq, problems = sidecar_problems(files, study)
    problems += channel_problems(files, study)
    duration, in_edf = edf_problems(files, study, declared_sfreq)
    trials, in_events = events_problems(files, study, stimuli, duration)
    problems += in_edf + in_events
    summary = {
        "participant": label,
        "session": session,
        "sfreq": declared_sfreq,
        "duration_s": duration,
        "n_trials": trials["n_trials"],
        "line_frequency": sidecar.get("PowerLineFrequency"),
        "response_times": trials["response_times"],
        "n_faces": trials["n_faces"],
    }
    return summary, [InputError(message, file=file, participant=participant) for message, file in problems]


def validate_dataset(
    root: str | Path,
    study: Study,
    exclude: Iterable[str] = (),
    participants_schema: Mapping[str, Any] | None = None,
    stimuli: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Validate a whole BIDS-EMG dataset (against the stimulus table, if given); raise :class:`DatasetError`
    listing every problem found.

    Returns one row per analysed recording (``exclude`` lists participants to leave out, with or without
    ``sub-``): participant, group (the drug: the participant's group, or in a crossover the session's), sfreq,
    duration_s, n_trials, line_frequency, response_times (whether its events have the response task's columns:
    all recordings or none), n_faces (face identities among its trials; 0: no face column); in a crossover also
    session and period (after participant), one row per session.
    """
    root = Path(root)
    participants, problems = validate_participants(root / "participants.tsv", study, participants_schema)
    excluded = {label.removeprefix("sub-") for label in exclude}
    rows = []
    if "participant_id" in participants.columns and ("group" in participants.columns or study.crossover):
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
            if not study.crossover:
                summary, found = validate_recording(root, label, study, stimuli)
                problems += found
                rows.append({**summary, "group": person["group"]})
                continue
            sessions, found = validate_sessions(root, label, study)
            problems += found
            for session in sessions.itertuples():
                summary, found = validate_recording(root, label, study, stimuli, str(session.session))
                problems += found
                rows.append({**summary, "group": session.drug, "period": session.period})
    with_responses = sum(bool(row.get("response_times")) for row in rows)
    if 0 < with_responses < len(rows):
        for row in rows:
            if not row.get("response_times", True):
                problems.append(
                    InputError(
                        f"events have no {list(RESPONSE_COLUMNS)} columns, while {with_responses} other recordings' "
                        "have them: add them, or leave them out everywhere to analyse without response times",
                        file=recording_files(root, row["participant"], study.task, row["session"]).events,
                        participant=f"sub-{row['participant']}",
                    )
                )
    if problems:
        raise DatasetError(problems)
    columns = ["participant", "group", "sfreq", "duration_s", "n_trials", "line_frequency", "response_times", "n_faces"]
    if study.crossover:
        columns[1:1] = ["session", "period"]
    return pd.DataFrame(rows, columns=columns)
