"""Reading BIDS-EMG: a recording through MNE-BIDS, its trials from the events file, and an EDF header alone
(which validation reads instead of the signals)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mimicry.bids.layout import STIMULUS_COLUMNS
from mimicry.study import Study


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


def read_recording(root: str | Path, label: str, study: Study, session: str | None = None) -> Any:
    """Read one participant's recording (in ``session``, if the dataset has sessions) with MNE-BIDS, picking the
    study's channels in muscle order."""
    import mne_bids

    path = mne_bids.BIDSPath(
        subject=label, session=session, task=study.task, datatype="emg", suffix="emg", extension=".edf", root=root
    )
    raw = mne_bids.read_raw_bids(path, verbose="error")
    return raw.pick([study.channels[m] for m in study.muscles])


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
