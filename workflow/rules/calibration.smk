# Simulation-based calibration of the asymptotic model (`snakemake calibration`; not part of a plain run): data
# simulated from the model's own priors and likelihood at the study's design, fitted by the project's sampler, and
# the ranks of the true values among the posterior draws (mimicry.calibration).
CALIBRATION = "results/calibration"
CALIBRATION_SETTINGS = CalibrationSettings.from_config(config["calibration"])
CALIBRATION_BATCHES = CALIBRATION_SETTINGS.batches()
CALIBRATION_CONFIG = {  # what every batch reads: a change elsewhere does not rerun it
    "calibration": config["calibration"],
    "bayes": {key: config["statistics"]["bayes"][key] for key in CALIBRATION_BAYES_KEYS},
    "design": CALIBRATION_DESIGN,
    "reference_group": STUDY.reference_group,
}


rule calibration_batch:
    """Draw, simulate, fit and rank one batch of simulations (the model compiled once for the batch)."""
    input:
        code=code_of("../scripts/calibration_batch.py"),
    output:
        f"{CALIBRATION}/batches/batch{{batch}}.parquet",
    log:
        "results/logs/calibration/batch{batch}.log",
    benchmark:
        "results/benchmarks/calibration/batch{batch}.tsv"
    wildcard_constraints:
        batch=r"\d{3}",
    conda:
        "../../envs/bayes.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        config=CALIBRATION_CONFIG,
        simulations=lambda wildcards: list(CALIBRATION_BATCHES[int(wildcards.batch)]),
    script:
        "../scripts/calibration_batch.py"


rule calibration_summary:
    """The ranks of every batch in one table, their uniformity per quantity, and the ECDF figure."""
    input:
        batches=[f"{CALIBRATION}/batches/batch{k:03d}.parquet" for k in range(len(CALIBRATION_BATCHES))],
        code=code_of("../scripts/calibration_summary.py"),
    output:
        ranks=f"{CALIBRATION}/ranks.parquet",
        uniformity=report(
            f"{CALIBRATION}/uniformity.tsv", caption="../report/calibration.rst", category="6 Calibration"
        ),
        figure_pdf=f"{CALIBRATION}/ecdf.pdf",
        figure_png=report(f"{CALIBRATION}/ecdf.png", caption="../report/calibration.rst", category="6 Calibration"),
    log:
        "results/logs/calibration/summary.log",
    conda:
        "../../envs/bayes.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    script:
        "../scripts/calibration_summary.py"
