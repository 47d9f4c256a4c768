"""What one conda environment pins beside what this job's environment has installed."""

from mimicry.joblog import job_log
from mimicry.provenance import software_versions

with job_log(snakemake.log[0], "software_versions") as log:
    environment = snakemake.wildcards.environment
    table = software_versions(environment, snakemake.input.env)
    table.to_csv(snakemake.output[0], sep="\t", index=False)
    differing = table.loc[(table["pinned"] != "") & (table["pinned"] != table["found"])]
    log.info(
        "%s: %d packages, %d differ from the pins (a pin like 3.12 covers 3.12.x):\n%s",
        environment,
        len(table),
        len(differing),
        differing.to_string(index=False) if len(differing) else "",
    )
