# The power analysis (`snakemake power`; not part of a plain run): many simulated studies per planted drug effect
# and group size, the paper's frequentist and Bayesian decision rules applied to each (mimicry.power,
# mimicry.power.bayes_rules).
POWER = "results/power"
POWER_BATCHES = {batch.path: batch for batch in power_batches(POWER_SETTINGS)}
POWER_BAYES_BATCHES = {batch.path: batch for batch in power_batches(POWER_SETTINGS, "bayes")}
POWER_STUDY = {  # what every job of the grid reads from the config: a change elsewhere does not rerun it
    "study": config["study"],
    "simulation": config["simulation"],
    "preprocessing": {"emg": config["preprocessing"]["emg"]},
}
LMM_KEYS = ("emg", "followup", "trend_df", "contrasts")  # statistics keys the LMM rules read
BAYES_KEYS = ("priors", "b_intercept", "target_accept", "hdi_prob", "diagnostics")  # ... and the Bayesian ones
POWER_CONFIG = {  # the LMM rules' batches
    **POWER_STUDY,
    "statistics": {key: config["statistics"][key] for key in LMM_KEYS},
    "power": {key: value for key, value in config["power"].items() if key != "bayes"},
}
POWER_BAYES_CONFIG = {  # the Bayesian rules' batches
    **POWER_STUDY,
    "statistics": {"bayes": {key: config["statistics"]["bayes"][key] for key in BAYES_KEYS}},
    "power": {key: config["power"][key] for key in ("target", "seed", "bayes")},
}
POWER_SUMMARY_CONFIG = {
    **POWER_CONFIG,
    "statistics": {**POWER_CONFIG["statistics"], **POWER_BAYES_CONFIG["statistics"]},
    "power": config["power"],
}


rule power_batch:
    """Simulate one batch of studies of one grid cell by the fast path and apply the decision rules to each."""
    input:
        stimuli=STIMULI_TABLE,
        code=code_of("../scripts/power_batch.py"),
    output:
        f"{POWER}/batches/{{design}}/{{effect}}/batch{{batch}}.parquet",
    log:
        "results/logs/power/{design}_{effect}_{batch}.log",
    benchmark:
        "results/benchmarks/power/{design}_{effect}_{batch}.tsv"
    conda:
        "../../envs/stats.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=30,
    params:
        config=POWER_CONFIG,
        batch=lambda wildcards, output: POWER_BATCHES[os.path.relpath(output[0], POWER)].as_params(),
    script:
        "../scripts/power_batch.py"


rule power_bayes_batch:
    """Simulate one batch of studies of one grid cell by the fast path and apply the Bayesian rules to each."""
    input:
        stimuli=STIMULI_TABLE,
        code=code_of("../scripts/power_bayes_batch.py"),
    output:
        f"{POWER}/bayes/{{design}}/{{effect}}/batch{{batch}}.parquet",
    log:
        "results/logs/power/bayes_{design}_{effect}_{batch}.log",
    benchmark:
        "results/benchmarks/power/bayes_{design}_{effect}_{batch}.tsv"
    # the longest jobs of the grid start first, so that the short LMM batches fill the cores at the end
    priority: 5
    conda:
        "../../envs/stats.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        config=POWER_BAYES_CONFIG,
        batch=lambda wildcards, output: POWER_BAYES_BATCHES[os.path.relpath(output[0], POWER)].as_params(),
    script:
        "../scripts/power_bayes_batch.py"


rule power_summary:
    """Power per effect, group size and rule with its interval; the smallest detectable effect; the figure."""
    input:
        batches=[f"{POWER}/{path}" for path in POWER_BATCHES],
        bayes=[f"{POWER}/{path}" for path in POWER_BAYES_BATCHES],
        code=code_of("../scripts/power_summary.py"),
    output:
        replicates=f"{POWER}/replicates.parquet",
        contrasts=f"{POWER}/contrasts.parquet",
        coverage=f"{POWER}/coverage.tsv",
        power=report(f"{POWER}/power.tsv", caption="../report/power.rst", category="6 Power"),
        detectable=f"{POWER}/detectable.tsv",
        figure_pdf=f"{POWER}/power.pdf",
        figure_png=report(f"{POWER}/power.png", caption="../report/power.rst", category="6 Power"),
        methods=f"{POWER}/methods.md",
    log:
        "results/logs/power/summary.log",
    benchmark:
        "results/benchmarks/power/summary.tsv"
    conda:
        "../../envs/stats.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        target_power=config["power"]["target_power"],
        config=POWER_SUMMARY_CONFIG,
    script:
        "../scripts/power_summary.py"
