"""Preprocess one participant's EMG (MNE): filter, rectify, smooth, epoch, reject outliers, log, window means,
and draw its quality-control figure."""

from mimicry.emg import BadRecording, excluded_outputs, load_recording, preprocess
from mimicry.errors import DatasetError
from mimicry.joblog import job_log
from mimicry.qc import emg_qc, save
from mimicry.settings import EmgSettings
from mimicry.study import Study

with job_log(snakemake.log[0], "preprocess_emg") as log:
    label = snakemake.wildcards.participant
    study = Study.from_config(snakemake.params.study)
    settings = EmgSettings.from_config(snakemake.params.emg)
    bids_root = snakemake.params.bids_root
    try:
        recording = load_recording(bids_root, label, study, settings, snakemake.input.edf, snakemake.input.events)
        result = preprocess(recording.raw, recording.trials, study.channels, settings, recording.line_frequency, label)
        log.info("sub-%s: %s", label, result.summary[["muscle", "trials", "rejected"]].to_dict("records"))
    except (BadRecording, DatasetError) as error:
        if settings.on_bad_recording == "fail":
            raise
        log.warning("sub-%s excluded: %s", label, error)
        result = excluded_outputs(label, list(study.muscles), str(error), settings.rules)
    result.windows.to_parquet(snakemake.output.windows, index=False)
    result.timecourse.to_parquet(snakemake.output.timecourse, index=False)
    result.summary.to_csv(snakemake.output.summary, sep="\t", index=False)
    save(emg_qc(result.timecourse, result.summary, label), snakemake.output.qc_pdf, snakemake.output.qc_png)
