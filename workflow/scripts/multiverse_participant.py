"""Every universe's window means for one participant: the recording read and checked once, each signal variant
computed once (mimicry.multiverse.participant)."""

from mimicry.bids.read import read_recording, read_trials
from mimicry.bids.validate import validate_recording
from mimicry.emg import BadRecording, check_recording
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
    bids_root = snakemake.params.bids_root
    try:
        summary, problems = validate_recording(bids_root, label, study)
        if problems:
            raise DatasetError(problems)
        raw = read_recording(bids_root, label, study).load_data(verbose="error")
        check_recording(
            raw.get_data(),
            raw.ch_names,
            raw.info["sfreq"],
            settings,
            file=snakemake.input.edf,
            participant=f"sub-{label}",
        )
        trials = read_trials(snakemake.input.events)
        means, kept = universe_means(raw, trials, study.channels, universes, float(summary["line_frequency"]), label)
        log.info("sub-%s: %d universes, %d window means", label, len(universes), len(means))
    except (BadRecording, DatasetError) as error:
        if settings.on_bad_recording == "fail":
            raise
        # excluded from every universe, as from the main analysis (preprocess_emg says why)
        log.warning("sub-%s excluded: %s", label, error)
        means, kept = empty_outputs()
    means.to_parquet(snakemake.output.means, index=False)
    kept.to_csv(snakemake.output.universes, sep="\t", index=False)
