"""Simulate one participant's session and write it as BIDS-EMG, with the trial-level ground truth."""

from pathlib import Path

import pandas as pd

from mimicry.bids.layout import recording_files
from mimicry.bids.write import write_recording
from mimicry.joblog import job_log
from mimicry.settings import SimulationSettings
from mimicry.simulate.recording import simulate_recording
from mimicry.study import Study
from mimicry.task import load_stimuli

# BIDS-EMG says how the amplifier processed the signal in HardwareFilters
ENVELOPE_SIDECAR = {
    "raw": {},
    "envelope": {
        "HardwareFilters": {"Envelope": {"Description": "band-pass 20-450 Hz, full-wave rectified, integrated ~25 ms"}}
    },
}

with job_log(snakemake.log[0], "simulate_recording") as log:
    label = snakemake.wildcards.participant
    study = Study.from_config(snakemake.params.study)
    simulation = SimulationSettings.from_config(snakemake.params.simulation)
    parameters = pd.read_csv(snakemake.input.parameters, sep="\t", dtype={"participant": str}).set_index("participant")
    effects = pd.read_csv(snakemake.input.effects, sep="\t", dtype={"participant": str})
    stimuli = load_stimuli(snakemake.input.stimuli, study.emotions)
    recording = simulate_recording(
        label,
        parameters.loc[label],
        effects[effects["participant"] == label],
        stimuli,
        simulation,
        study,
        snakemake.params.recording,
    )
    files = recording_files(Path(snakemake.output.edf).parents[2], label, study.task)
    write_recording(
        files,
        recording.data,
        recording.channel_names,
        list(study.muscles),
        recording.sfreq,
        recording.events,
        task=study.task,
        line_frequency=simulation.line_frequency,
        sidecar_extra={
            "Manufacturer": "simulated (g.tec g.USBamp settings)",
            **ENVELOPE_SIDECAR[snakemake.params.recording],
        },
    )
    recording.truth.to_parquet(snakemake.output.truth, index=False)
    log.info(
        "sub-%s: %.0f s at %g Hz, %d events, artefacts %s",
        label,
        recording.data.shape[1] / recording.sfreq,
        recording.sfreq,
        len(recording.events),
        recording.truth.drop_duplicates(["trial", "muscle"])["artefact"].value_counts().to_dict(),
    )
