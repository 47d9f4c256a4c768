"""Power per design, size, planted effect and decision rule with its interval, the smallest detectable effect per
rule, the participants each design needs, the Bayesian intervals' coverage, the figures and the methods
paragraph."""

import pandas as pd

from mimicry.figures import designs_figure, power_figure
from mimicry.joblog import job_log
from mimicry.power.bayes_rules import STUDY_CONTRAST_COLUMNS, coverage_table, rule_decisions
from mimicry.power.planning import RULE_LABELS, design_specs
from mimicry.power.summary import (
    all_replicates,
    methods_paragraph,
    participants_needed,
    power_table,
    smallest_detectable,
)
from mimicry.qc import save
from mimicry.settings import Diagnostics, PowerSettings, SimulationSettings
from mimicry.study import Study

with job_log(snakemake.log[0], "power_summary") as log:
    lmm = pd.concat([pd.read_parquet(path) for path in snakemake.input.batches], ignore_index=True)
    studies = [pd.read_parquet(path) for path in snakemake.input.bayes]  # none: power.bayes.replicates is 0
    contrasts = pd.concat(studies, ignore_index=True) if studies else pd.DataFrame(columns=STUDY_CONTRAST_COLUMNS)
    contrasts.to_parquet(snakemake.output.contrasts, index=False)
    replicates = all_replicates(lmm, rule_decisions(contrasts))
    replicates.to_parquet(snakemake.output.replicates, index=False)
    table = power_table(replicates)
    table.to_csv(snakemake.output.power, sep="\t", index=False)
    detectable = smallest_detectable(table, snakemake.params.target_power)
    detectable.to_csv(snakemake.output.detectable, sep="\t", index=False)
    needed = participants_needed(table, snakemake.params.target_power)
    needed.to_csv(snakemake.output.needed, sep="\t", index=False)
    coverage = coverage_table(contrasts)
    coverage.to_csv(snakemake.output.coverage, sep="\t", index=False)
    log.info(
        "power:\n%s\nsmallest detectable:\n%s\nparticipants needed:\n%s\ncoverage:\n%s",
        table.to_string(),
        detectable.to_string(),
        needed.to_string(),
        coverage.to_string(),
    )
    with open(snakemake.output.methods, "w") as methods:
        config = snakemake.params.config
        study, power = Study.from_config(config["study"]), PowerSettings.from_config(config["power"])
        bayes = config["statistics"]["bayes"]
        specs = design_specs(config, study, snakemake.params.designs, power.target)
        paragraph = methods_paragraph(
            study,
            SimulationSettings.from_config(config["simulation"]),
            power,
            specs,
            bayes["hdi_prob"],
            Diagnostics.from_config(bayes["diagnostics"]),
            table,
            detectable,
            coverage,
            needed,
        )
        methods.write(paragraph + "\n")
    labels = {rule: label for rule, label in RULE_LABELS.items() if rule in set(table["rule"])}
    save(
        power_figure(table, snakemake.params.target_power, labels),
        snakemake.output.figure_pdf,
        snakemake.output.figure_png,
    )
    save(
        designs_figure(table, snakemake.params.target_power, labels),
        snakemake.output.designs_pdf,
        snakemake.output.designs_png,
    )
