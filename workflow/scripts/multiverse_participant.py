"""Every universe's window means for one participant: the recording read and checked once, each signal variant
computed once (mimicry.multiverse.participant)."""

from mimicry.emg import BadRecording, load_recording
from mimicry.errors import DatasetError
from mimicry.joblog import job_log
from mimicry.multiverse.forks import universes as universes_of
from mimicry.multiverse.participant import empty_outputs, universe_means
from mimicry.settings import EmgSettings
from mimicry.study import Study

with job_log(snakemake.log[0], "multiverse_participant") as log:
    label = snakemake.wildcards.participant
    study = Study.from_config(snakemake.params.study)
    settings = EmgSettings.from_config(snakemake.params.plan["preprocessing"]["emg"])
    universes = universes_of(snakemake.params.plan)
    try:
        recording = load_recording(
            snakemake.params.bids_root, label, study, settings, snakemake.input.edf, snakemake.input.events
        )
        means, kept = universe_means(
            recording.raw, recording.trials, study.channels, universes, recording.line_frequency, label
        )
        log.info("sub-%s: %d universes, %d window means", label, len(universes), len(means))
    except (BadRecording, DatasetError) as error:
        if settings.on_bad_recording == "fail":
            raise
        # excluded from every universe, as from the main analysis (preprocess_emg says why)
        log.warning("sub-%s excluded: %s", label, error)
        means, kept = empty_outputs()
    means.to_parquet(snakemake.output.means, index=False)
    kept.to_csv(snakemake.output.universes, sep="\t", index=False)
