"""Validate the user's already-preprocessed EMG table and write it as the workflow's window table, with its counts
of rejected trials per participant x muscle."""

from mimicry.gather import rejection_counts
from mimicry.joblog import job_log
from mimicry.study import Study
from mimicry.tables import import_emg_table

with job_log(snakemake.log[0], "import_emg") as log:
    windows = import_emg_table(snakemake.input.table, Study.from_config(snakemake.params.study))
    windows.to_parquet(snakemake.output.windows, index=False)
    rejection_counts(windows).to_csv(snakemake.output.emg_rejections, sep="\t", index=False)
    log.info(
        "imported %d EMG rows (%d participants, %d rejected)",
        len(windows),
        windows["participant"].nunique(),
        int(windows["rejected"].sum()),
    )
