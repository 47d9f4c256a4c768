"""Power per planted effect, group size and decision rule with its interval, the smallest detectable effect per
rule, and the power figure."""

import pandas as pd

from mimicry.figures import power_figure
from mimicry.jobs import job_log
from mimicry.power import RULE_LABELS, methods_paragraph, power_table, smallest_detectable
from mimicry.qc import save

with job_log(snakemake.log[0], "power_summary") as log:
    replicates = pd.concat([pd.read_parquet(path) for path in snakemake.input.batches], ignore_index=True)
    replicates.to_parquet(snakemake.output.replicates, index=False)
    table = power_table(replicates)
    table.to_csv(snakemake.output.power, sep="\t", index=False)
    detectable = smallest_detectable(table, snakemake.params.target_power)
    detectable.to_csv(snakemake.output.detectable, sep="\t", index=False)
    log.info("power:\n%s\nsmallest detectable:\n%s", table.to_string(), detectable.to_string())
    with open(snakemake.output.methods, "w") as methods:
        methods.write(methods_paragraph(snakemake.params.config, table, detectable) + "\n")
    figure = power_figure(table, snakemake.params.target_power, RULE_LABELS)
    save(figure, snakemake.output.figure_pdf, snakemake.output.figure_png)
