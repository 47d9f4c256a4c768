"""Table 1: demographics, mood, blinding and nausea by drug group (a crossover's: by drug, tested within
participants, with the period balance), with the paper's tests."""

from pathlib import Path

import pandas as pd

from mimicry.crossover import read_sessions
from mimicry.gather import read_participants
from mimicry.joblog import job_log
from mimicry.study import Study
from mimicry.table1 import Table1Rows, crossover_table1, format_table1, table1, table1_notes

with job_log(snakemake.log[0], "table1") as log:
    study = Study.from_config(snakemake.params.study)
    participants = read_participants(snakemake.input.participants)
    groups = list(study.groups)
    rows = Table1Rows.from_config(snakemake.params.rows)
    if study.crossover:
        if snakemake.input.windows:  # trial tables: the sessions their EMG table has
            columns = ["participant", "session", "group", "period"]
            sessions = pd.read_parquet(snakemake.input.windows, columns=columns).drop_duplicates()
        else:
            sessions = read_sessions(Path(snakemake.input.participants).parent, participants["participant"], study)
        cells, tests = crossover_table1(participants, sessions, groups, study.reference_group, rows)
    else:
        cells, tests = table1(participants, groups, study.reference_group, rows)
    cells.to_csv(snakemake.output.cells, sep="\t", index=False)
    tests.to_csv(snakemake.output.tests, sep="\t", index=False)
    readable = format_table1(cells, tests, groups)
    notes = table1_notes(tests)
    with open(snakemake.output.markdown, "w", encoding="utf-8") as stream:
        stream.write(readable.to_markdown(index=False) + "\n")
        stream.write("".join(f"\n- {note}" for note in notes) + ("\n" if notes else ""))
    log.info("Table 1:\n%s%s", readable.to_string(index=False), "".join(f"\n{note}" for note in notes))
