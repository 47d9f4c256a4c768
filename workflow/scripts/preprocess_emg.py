"""Preprocess one recording's EMG (MNE): filter, rectify, smooth, epoch, reject outliers, log, window means,
and draw its quality-control figure."""

from mimicry.bids.layout import recording_name
from mimicry.emg import BadRecording, excluded_outputs, load_recording, preprocess
from mimicry.errors import DatasetError
from mimicry.gather import with_session
from mimicry.joblog import job_log
from mimicry.qc import emg_qc, save
from mimicry.settings import EmgSettings
from mimicry.study import Study

with job_log(snakemake.log[0], "preprocess_emg") as log:
    label = snakemake.wildcards.participant
    session = snakemake.wildcards.get("session")  # a crossover's session; None without sessions
    name = recording_name(label, session)
    study = Study.from_config(snakemake.params.study)
    settings = EmgSettings.from_config(snakemake.params.emg)
    bids_root = snakemake.params.bids_root
    try:
        recording = load_recording(
            bids_root, label, study, settings, snakemake.input.edf, snakemake.input.events, session
        )
        result = preprocess(recording.raw, recording.trials, study.channels, settings, recording.line_frequency, label)
        log.info("%s: %s", name, result.summary[["muscle", "trials", "rejected"]].to_dict("records"))
    except (BadRecording, DatasetError) as error:
        if settings.on_bad_recording == "fail":
            raise
        log.warning("%s excluded: %s", name, error)
        result = excluded_outputs(label, list(study.muscles), str(error), settings.rules)
    windows, timecourse, summary = (
        with_session(t, session) for t in (result.windows, result.timecourse, result.summary)
    )
    windows.to_parquet(snakemake.output.windows, index=False)
    timecourse.to_parquet(snakemake.output.timecourse, index=False)
    summary.to_csv(snakemake.output.summary, sep="\t", index=False)
    save(emg_qc(result.timecourse, result.summary, name), snakemake.output.qc_pdf, snakemake.output.qc_png)
