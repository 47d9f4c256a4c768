"""Table 1: demographics, mood, blinding and nausea by drug group, with the paper's tests."""

from mimicry.gather import read_participants
from mimicry.joblog import job_log
from mimicry.table1 import Table1Rows, format_table1, table1, table1_notes

with job_log(snakemake.log[0], "table1") as log:
    participants = read_participants(snakemake.input.participants)
    groups = snakemake.params.groups
    rows = Table1Rows.from_config(snakemake.params.rows)
    cells, tests = table1(participants, groups, snakemake.params.reference_group, rows)
    cells.to_csv(snakemake.output.cells, sep="\t", index=False)
    tests.to_csv(snakemake.output.tests, sep="\t", index=False)
    readable = format_table1(cells, tests, groups)
    notes = table1_notes(tests)
    with open(snakemake.output.markdown, "w", encoding="utf-8") as stream:
        stream.write(readable.to_markdown(index=False) + "\n")
        stream.write("".join(f"\n- {note}" for note in notes) + ("\n" if notes else ""))
    log.info("Table 1:\n%s%s", readable.to_string(index=False), "".join(f"\n{note}" for note in notes))
