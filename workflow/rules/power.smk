# The power analysis (`snakemake power`; not part of a plain run): many simulated studies per planted drug effect
# and group size, the paper's frequentist decision rules applied to each (mimicry.power).
POWER = "results/power"
POWER_BATCHES = {batch.path: batch for batch in power_batches(config["power"])}
POWER_CONFIG = {  # what a batch reads from the config: a change elsewhere does not rerun the grid
    "study": config["study"],
    "simulation": config["simulation"],
    "preprocessing": {"emg": config["preprocessing"]["emg"]},
    "statistics": {key: config["statistics"][key] for key in ("emg", "followup", "trend_df", "contrasts")},
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


rule power_summary:
    """Power per effect, group size and rule with its interval; the smallest detectable effect; the figure."""
    input:
        batches=[f"{POWER}/{path}" for path in POWER_BATCHES],
        code=code_of("../scripts/power_summary.py"),
    output:
        replicates=f"{POWER}/replicates.parquet",
        power=f"{POWER}/power.tsv",
        detectable=f"{POWER}/detectable.tsv",
        figure_pdf=f"{POWER}/power.pdf",
        figure_png=f"{POWER}/power.png",
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
        config=POWER_CONFIG,
    script:
        "../scripts/power_summary.py"
