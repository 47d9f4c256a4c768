"""Simulate one participant's session and write it as BIDS-EMG, with the trial-level ground truth."""

from pathlib import Path

import pandas as pd

from mimicry.joblog import job_log
from mimicry.settings import SimulationSettings
from mimicry.simulate.recording import simulate_recording, write_simulated_recording
from mimicry.study import Study
from mimicry.task import load_stimuli

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
    write_simulated_recording(
        recording,
        Path(snakemake.output.edf).parents[2],
        label,
        study,
        simulation.line_frequency,
        snakemake.params.recording,
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
