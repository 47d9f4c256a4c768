"""Provenance of the run: the config used and its hash, the software of every environment, input checksums."""

import json

import pandas as pd
import yaml

import mimicry
from mimicry.joblog import job_log
from mimicry.provenance import config_digest, input_checksums

with job_log(snakemake.log[0], "provenance") as log:
    config = snakemake.params.config
    with open(snakemake.output.config, "w", encoding="utf-8") as stream:
        yaml.safe_dump(config, stream, sort_keys=False)
    software = pd.concat(
        [pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False) for path in snakemake.input.software],
        ignore_index=True,
    )
    software.to_csv(snakemake.output.software, sep="\t", index=False)
    checksums = input_checksums(snakemake.input.data)
    checksums.to_csv(snakemake.output.inputs, sep="\t", index=False)
    summary = {
        "workflow_version": mimicry.__version__,
        "config_sha256": config_digest(config),
        "input_files": len(checksums),
        "input_bytes": int(checksums["bytes"].sum()),
        "inputs_sha256": config_digest(checksums[["path", "sha256"]].values.tolist()),
        "environments": sorted(software["environment"].unique()),
    }
    with open(snakemake.output.summary, "w", encoding="utf-8") as stream:
        json.dump(summary, stream, indent=2)
        stream.write("\n")
    log.info("config %s; %d input files (%d bytes)", summary["config_sha256"], len(checksums), summary["input_bytes"])
