# The power analysis (`snakemake power`; not part of a plain run): many simulated studies per design, size and
# planted drug effect, the paper's frequentist and Bayesian decision rules applied to each (mimicry.power,
# mimicry.power.bayes_rules).
POWER_BATCHES = {batch.path: batch for batch in power_batches(POWER_SETTINGS, STUDY)}
POWER_BAYES_BATCHES = {batch.path: batch for batch in power_batches(POWER_SETTINGS, STUDY, "bayes")}


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
        job=power_batch_params(POWER_BATCHES, "lmm"),
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
        job=power_batch_params(POWER_BAYES_BATCHES, "bayes"),
    script:
        "../scripts/power_bayes_batch.py"


rule power_summary:
    """Power per design, size, effect and rule with its interval; the smallest detectable effect; the participants
    each design needs; the figures."""
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
        needed=f"{POWER}/needed.tsv",
        figure_pdf=f"{POWER}/power.pdf",
        figure_png=report(f"{POWER}/power.png", caption="../report/power.rst", category="6 Power"),
        designs_pdf=f"{POWER}/designs.pdf",
        designs_png=f"{POWER}/designs.png",
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
        designs=power_designs(POWER_SETTINGS, STUDY),
        config=power_batch_config(config, STUDY, "between", "summary"),
    script:
        "../scripts/power_summary.py"
