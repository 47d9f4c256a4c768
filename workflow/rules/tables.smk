# Stage 2 (alternative): import already-preprocessed trial tables (dataset.tables) instead of preprocessing.


rule import_emg:
    """Validate the user's trial-level EMG table and convert it to the workflow's window table (and its counts of
    rejected trials per participant x muscle)."""
    input:
        table=TABLES["emg_windows"],
        code=code_of("../scripts/import_emg.py"),
    output:
        windows=EMG_WINDOWS,
        emg_rejections=EMG_REJECTIONS,
    log:
        "results/logs/import_emg.log",
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    params:
        study=config["study"],
    script:
        "../scripts/import_emg.py"


rule import_rt:
    """Validate the user's trial-level RT table (a study with response times) and convert it to the RT table (and
    its counts per participant)."""
    input:
        table=TABLES.get("rt_trials", []),
        code=code_of("../scripts/import_rt.py"),
    output:
        rt=RT_TRIALS,
        rt_summary=RT_SUMMARY,
    log:
        "results/logs/import_rt.log",
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        study=config["study"],
    script:
        "../scripts/import_rt.py"
