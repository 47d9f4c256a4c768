# Stage 2 (alternative): import already-preprocessed trial tables (dataset.tables) instead of preprocessing.


rule import_tables:
    """Validate the user's trial-level EMG and RT tables and convert them to the workflow's group tables."""
    input:
        emg=TABLES["emg_windows"],
        rt=TABLES["rt_trials"],
        code=package_code("tables", "emg", "rt"),
    output:
        windows=EMG_WINDOWS,
        rt=RT_TRIALS,
    params:
        study=config["study"],
    log:
        "results/logs/import_tables.log",
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    script:
        "../scripts/import_tables.py"
