# Stage 2 (alternative): import already-preprocessed trial tables (dataset.tables) instead of preprocessing.


rule import_tables:
    """Validate the user's trial-level EMG and RT tables and convert them to the workflow's group tables."""
    input:
        emg=TABLES["emg_windows"],
        rt=TABLES["rt_trials"],
        code=code_of("../scripts/import_tables.py"),
    output:
        windows=EMG_WINDOWS,
        rt=RT_TRIALS,
    log:
        "results/logs/import_tables.log",
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    params:
        study=config["study"],
    script:
        "../scripts/import_tables.py"
