"""BIDS 1.11 EMG: the workflow's input contract. Layout (:mod:`~mimicry.bids.layout`), writing
(:mod:`~mimicry.bids.write`), reading through MNE-BIDS (:mod:`~mimicry.bids.read`) and validation
(:mod:`~mimicry.bids.validate`).

Layout (one recording per participant)::

    participants.tsv, participants.json, dataset_description.json, README
    sub-<label>/emg/sub-<label>_task-<task>_emg.edf      raw EMG, EDF (16 bit)
    sub-<label>/emg/sub-<label>_task-<task>_emg.json     sidecar with the required BIDS-EMG fields
    sub-<label>/emg/sub-<label>_task-<task>_channels.tsv name, type (EMG), units, target_muscle, ...
    sub-<label>/emg/sub-<label>_task-<task>_events.tsv   one row per video (see EVENTS_COLUMNS)

Validation reads only text files and EDF headers, so it checks a whole paper-size dataset in well under a
second and can run when the workflow starts, before any job.
"""
