"""Simulate one recording (a participant's, or one session's in a crossover) and write it as BIDS-EMG, with the
trial-level ground truth."""

import pandas as pd

from mimicry.bids.layout import dataset_root, recording_name
from mimicry.joblog import job_log
from mimicry.settings import SimulationSettings
from mimicry.simulate.recording import simulate_recording, write_simulated_recording
from mimicry.study import Study
from mimicry.task import load_stimuli

with job_log(snakemake.log[0], "simulate_recording") as log:
    label = snakemake.wildcards.participant
    session = snakemake.wildcards.get("session")  # a crossover's session; None without sessions
    study = Study.from_config(snakemake.params.study)
    simulation = SimulationSettings.from_config(snakemake.params.simulation)
    parameters = pd.read_csv(snakemake.input.parameters, sep="\t", dtype={"participant": str}).set_index("participant")
    effects = pd.read_csv(snakemake.input.effects, sep="\t", dtype={"participant": str, "session": str})
    mine = effects["participant"] == label
    if session is not None:
        mine &= effects["session"] == session
    stimuli = load_stimuli(snakemake.input.stimuli, study.emotions)
    recording = simulate_recording(
        label,
        parameters.loc[label],
        effects[mine],
        stimuli,
        simulation,
        study,
        snakemake.params.recording,
        session,
    )
    write_simulated_recording(
        recording,
        dataset_root(snakemake.output.edf, session),
        label,
        study,
        simulation.line_frequency,
        snakemake.params.recording,
        session,
    )
    recording.truth.to_parquet(snakemake.output.truth, index=False)
    log.info(
        "%s: %.0f s at %g Hz, %d events, artefacts %s",
        recording_name(label, session),
        recording.data.shape[1] / recording.sfreq,
        recording.sfreq,
        len(recording.events),
        recording.truth.drop_duplicates(["trial", "muscle"])["artefact"].value_counts().to_dict(),
    )
