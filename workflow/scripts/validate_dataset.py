"""Validate the BIDS-EMG dataset against the study design; write one summary row per recording, and log a
crossover's sequences and their balance across periods."""

import yaml

from mimicry.bids.validate import validate_dataset
from mimicry.bids.write import write_tsv
from mimicry.crossover import balance
from mimicry.joblog import job_log
from mimicry.study import Study
from mimicry.task import load_stimuli

with job_log(snakemake.log[0], "validate_dataset") as log:
    with open(snakemake.input.schema, encoding="utf-8") as stream:
        schema = yaml.safe_load(stream)
    study = Study.from_config(snakemake.params.study)
    stimuli = load_stimuli(snakemake.input.stimuli, study.emotions) if snakemake.input.stimuli else None
    summary = validate_dataset(snakemake.params.bids_root, study, snakemake.params.exclude, schema, stimuli)
    write_tsv(summary, snakemake.output[0])
    log.info("%d participants valid, %d recordings", summary["participant"].nunique(), len(summary))
    if study.crossover:
        for name, table in balance(summary, study.groups).items():
            log.info("%s:\n%s", name, table.to_string(index=False) if len(table) else "none")
