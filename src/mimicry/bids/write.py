"""Writing BIDS-EMG (the simulator's datasets): the dataset files, participants.tsv and one recording."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mimicry.bids.layout import (
    BIDS_VERSION,
    EVENTS_DESCRIPTION,
    PARTICIPANTS_DESCRIPTION,
    SESSIONS_DESCRIPTION,
    RecordingFiles,
    sessions_file,
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


def write_sessions(sessions: pd.DataFrame, root: str | Path) -> list[Path]:
    """Write each participant's sessions file from ``sessions`` (a ``participant`` column, then the files'
    columns), and the column descriptions once at the root (``sessions.json``, inherited by every file); returns
    the files written."""
    written = []
    for label, rows in sessions.groupby("participant", sort=False):
        path = sessions_file(root, str(label))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_tsv(rows.drop(columns="participant"), path)
        written.append(path)
    columns = [c for c in sessions.columns if c != "participant"]
    write_json({k: v for k, v in SESSIONS_DESCRIPTION.items() if k in columns}, Path(root) / "sessions.json")
    return written


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
