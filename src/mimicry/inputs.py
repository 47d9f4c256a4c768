"""Where the analysis starts, decided once from the config and checked completely before any job runs.

Three input modes: the embedded simulated study (``simulated``), a lab's BIDS-EMG dataset (``bids``: raw EMG or
envelopes) and a lab's already-preprocessed trial tables (``tables``). Whatever the mode, the workflow needs the
same answers: which participants, which group tables, whether the stimulus table is used, and whether the study
has response times (a lab without a response task has none: no RT cleaning, model, figure or report section).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pandas as pd

from mimicry.bids.layout import CROSSOVER_PARTICIPANTS_COLUMNS, PARTICIPANTS_COLUMNS
from mimicry.bids.validate import validate_dataset, validate_participants
from mimicry.errors import DatasetError, InputError
from mimicry.settings import SimulationSettings
from mimicry.study import Study
from mimicry.task import load_stimuli

#: where the simulate rules write the simulated dataset: never into a user's dataset
SIMULATED_ROOT = Path("results/simulated/bids")


@dataclass(frozen=True)
class Inputs:
    """What the analysis starts from."""

    mode: str  #: ``simulated``, ``bids`` or ``tables``
    #: labels (no ``sub-``) of the participants whose recordings are analysed; empty in table mode
    participants: tuple[str, ...]
    #: the analysed recordings as (participant, session) labels; session ``None`` in a design without sessions
    recordings: tuple[tuple[str, str | None], ...] = ()
    #: every participant the simulator writes, excluded ones too (simulated mode)
    simulated_participants: tuple[str, ...] = ()
    #: every recording the simulator writes, as (participant, session)
    simulated_recordings: tuple[tuple[str, str | None], ...] = ()
    bids_root: Path | None = None
    #: the user's trial tables by name (``emg_windows``, ``rt_trials``, ``participants``), table mode
    tables: Mapping[str, str] = field(default_factory=dict)
    stimuli_table: str | None = None
    stimuli: pd.DataFrame | None = None
    #: whether the study has response times (events with response_time/response, or an RT table)
    response_times: bool = True
    #: whether the trials show more than one face identity (else no (1 | face) terms)
    faces: bool = True
    #: participants.tsv's columns besides participant_id and group: usable as covariates in the LMM formulas
    participant_columns: tuple[str, ...] = ()
    #: number of levels of the data's columns where known (participant, face, covariates): formula checks
    levels: Mapping[str, int] = field(default_factory=dict)
    #: time windows per trial: preprocessing.emg.windows.count, or what the trial table has
    n_windows: int = 5

    @property
    def participants_table(self) -> str | None:
        """participants.tsv (Table 1's source), if the study has one."""
        if self.mode == "tables":
            return self.tables.get("participants")
        return f"{self.bids_root}/participants.tsv"


def _participant_columns(path: str | Path | None, crossover: bool = False) -> tuple[tuple[str, ...], dict[str, int]]:
    """A participants table's covariate columns and how many distinct values each has (in a crossover, a group
    column is a between-participant factor like any other)."""
    if not path:
        return (), {}
    table = pd.read_csv(path, sep="\t", na_values=["n/a"], keep_default_na=False)
    columns = tuple(c for c in table.columns if c != "participant_id" and (crossover or c != "group"))
    return columns, {c: int(table[c].nunique()) for c in columns}


def resolve_inputs(config: Mapping[str, Any], participants_rules: Mapping[str, Any]) -> Inputs:
    """The inputs a (schema-validated) config names, checked: raises :class:`InputError` or :class:`DatasetError`
    (every problem of a dataset, grouped) before any job runs."""
    study = Study.from_config(config["study"])
    if study.reference_group not in study.groups:
        raise InputError(f"study.reference_group {study.reference_group!r} is not one of study.groups")
    simulation = SimulationSettings.from_config(config["simulation"])
    dataset = config["dataset"]
    stimuli_table = config["study"]["stimuli"]
    stimuli = load_stimuli(stimuli_table, study.emotions) if stimuli_table else None
    tables = {name: path for name, path in dataset.get("tables", {}).items() if path}
    if tables:
        if simulation.enabled or "emg_windows" not in tables:
            raise InputError("dataset.tables needs emg_windows, and simulation.enabled: false")
        inputs = _from_tables(tables, study, participants_rules, stimuli_table, stimuli)
    elif simulation.enabled:
        inputs = _simulated(simulation, study, dataset["exclude_participants"], stimuli_table, stimuli)
    else:
        inputs = _from_bids(dataset, study, participants_rules, stimuli_table, stimuli)
    if inputs.mode == "tables":
        return inputs
    return replace(inputs, n_windows=config["preprocessing"]["emg"]["windows"]["count"])


def _from_tables(
    tables: Mapping[str, str],
    study: Study,
    participants_rules: Mapping[str, Any],
    stimuli_table: str | None,
    stimuli: pd.DataFrame | None,
) -> Inputs:
    """A lab's own trial tables, checked."""
    from mimicry.tables import import_emg_table, import_rt_table

    windows = import_emg_table(tables["emg_windows"], study)
    if "rt_trials" in tables:
        import_rt_table(tables["rt_trials"], study)
    if "participants" in tables:
        found = validate_participants(tables["participants"], study, participants_rules)[1]
        if found:
            raise DatasetError(found)
    columns, levels = _participant_columns(tables.get("participants"), study.crossover)
    if study.crossover:
        levels |= {"session": int(windows["session"].nunique()), "period": int(windows["period"].nunique())}
    n_faces = windows["face"].nunique()
    return Inputs(
        "tables",
        (),
        tables=tables,
        stimuli_table=stimuli_table,
        stimuli=stimuli,
        response_times="rt_trials" in tables,
        faces=n_faces > 1,
        participant_columns=columns,
        levels={**levels, "participant": windows["participant"].nunique(), "face": n_faces},
        n_windows=int(windows["window"].nunique()),
    )


def _simulated(
    simulation: SimulationSettings,
    study: Study,
    exclude: Sequence[str],
    stimuli_table: str | None,
    stimuli: pd.DataFrame | None,
) -> Inputs:
    """The embedded simulated study, its participants less the excluded ones."""
    if stimuli is None:
        raise InputError("the simulator shows the videos of a stimulus table: set study.stimuli")
    unknown = set(simulation.participants_per_group) ^ set(study.groups)
    if unknown and not study.crossover:  # a crossover's participants are simulation.crossover.participants
        raise InputError(
            f"simulation.participants_per_group must name exactly study.groups; differs in {sorted(unknown)}"
        )
    excluded = {label.removeprefix("sub-") for label in exclude}
    everyone = tuple(simulation.participant_labels(crossover=study.crossover))
    analysed = tuple(label for label in everyone if label not in excluded)
    if not analysed:
        raise InputError("no participants to analyse: dataset.exclude_participants leaves out everyone")
    # a simulated crossover's sessions are its periods, ses-1 ... ses-<number of drugs>
    sessions = [str(period) for period in range(1, len(study.groups) + 1)] if study.crossover else [None]
    levels = {"participant": len(analysed), "face": stimuli["face"].nunique()}
    if study.crossover:
        levels |= {"session": len(sessions), "period": len(sessions)}
    return Inputs(
        "simulated",
        analysed,
        recordings=tuple((label, session) for label in analysed for session in sessions),
        simulated_participants=everyone,
        simulated_recordings=tuple((label, session) for label in everyone for session in sessions),
        bids_root=SIMULATED_ROOT,
        stimuli_table=stimuli_table,
        stimuli=stimuli,
        faces=stimuli["face"].nunique() > 1,
        # what the simulator writes
        participant_columns=CROSSOVER_PARTICIPANTS_COLUMNS[1:] if study.crossover else PARTICIPANTS_COLUMNS[2:],
        levels=levels,
    )


def _from_bids(
    dataset: Mapping[str, Any],
    study: Study,
    participants_rules: Mapping[str, Any],
    stimuli_table: str | None,
    stimuli: pd.DataFrame | None,
) -> Inputs:
    """A lab's BIDS-EMG dataset, every recording's text files and EDF header checked."""
    if not dataset["bids_root"]:
        raise InputError("dataset.bids_root must name a BIDS-EMG dataset when simulation.enabled is false")
    root = Path(dataset["bids_root"])
    if not (root / "participants.tsv").is_file():
        raise InputError("no participants.tsv: dataset.bids_root is not a BIDS dataset", file=root)
    # text files and EDF headers only: fast enough to check every recording up front
    summary = validate_dataset(root, study, dataset["exclude_participants"], participants_rules, stimuli)
    if summary.empty:
        raise InputError("no participants to analyse (participants.tsv lists none, or all are excluded)", file=root)
    columns, levels = _participant_columns(root / "participants.tsv", study.crossover)
    n_faces = int(summary["n_faces"].max())
    sessions = summary["session"] if study.crossover else [None] * len(summary)
    if study.crossover:
        levels |= {"session": summary["session"].nunique(), "period": summary["period"].nunique()}
    return Inputs(
        "bids",
        tuple(summary["participant"].drop_duplicates()),
        recordings=tuple(zip(summary["participant"], sessions, strict=True)),
        bids_root=root,
        stimuli_table=stimuli_table,
        stimuli=stimuli,
        response_times=bool(summary["response_times"].all()),
        faces=n_faces > 1,
        participant_columns=columns,
        levels={**levels, "participant": summary["participant"].nunique(), "face": n_faces},
    )
