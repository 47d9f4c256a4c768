"""Validate the user's already-preprocessed EMG and RT tables and write them as the workflow's group tables."""

from mimicry.jobs import job_log
from mimicry.study import Study
from mimicry.tables import import_emg_table, import_rt_table

with job_log(snakemake.log[0], "import_tables") as log:
    study = Study.from_config(snakemake.params.study)
    windows = import_emg_table(snakemake.input.emg, study)
    rt = import_rt_table(snakemake.input.rt, study)
    windows.to_parquet(snakemake.output.windows, index=False)
    rt.to_parquet(snakemake.output.rt, index=False)
    log.info(
        "imported %d EMG rows (%d participants) and %d RT rows", len(windows), windows["participant"].nunique(), len(rt)
    )
