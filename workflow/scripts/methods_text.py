"""The methods section of this run, written from its config and the software it found."""

import json

import pandas as pd

from mimicry.joblog import job_log
from mimicry.methods import methods_text

with job_log(snakemake.log[0], "methods_text") as log:
    software = pd.read_csv(snakemake.input.software, sep="\t", dtype=str, keep_default_na=False)
    with open(snakemake.input.summary, encoding="utf-8") as stream:
        digest = json.load(stream)["config_sha256"]
    params = snakemake.params
    paths = snakemake.input.diagnostics
    diagnostics = pd.concat([pd.read_csv(path, sep="\t") for path in paths], ignore_index=True) if paths else None
    text = methods_text(
        params.config, software, digest, params.response_times, params.faces, params.n_windows, diagnostics
    )
    with open(snakemake.output[0], "w", encoding="utf-8") as stream:
        stream.write(text)
    log.info("methods text: %d words", len(text.split()))
