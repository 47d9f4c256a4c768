# Stage 2: per-recording preprocessing (EMG with MNE, response times), then the group tables. A recording is a
# participant's (a crossover: a participant's session, RECORDING names both).
EMG_OUT = "results/preprocessing/emg"


rule preprocess_emg:
    """Filter, rectify, smooth, epoch, reject outlier trials and average one recording's EMG into windows;
    draw its quality-control figure (time courses per muscle x emotion, rejected trials in red)."""
    input:
        **recording("{participant}", session=SESSION),
        code=code_of("../scripts/preprocess_emg.py"),
    output:
        windows=f"{EMG_OUT}/{RECORDING}_windows.parquet",
        timecourse=f"{EMG_OUT}/{RECORDING}_timecourse.parquet",
        summary=f"{EMG_OUT}/{RECORDING}_rejections.tsv",
        qc_pdf=f"results/preprocessing/qc/{RECORDING}_emg_qc.pdf",
        qc_png=report(
            f"results/preprocessing/qc/{RECORDING}_emg_qc.png",
            caption="../report/qc.rst",
            category="2 Preprocessing",
            subcategory="QC per recording" if CROSSOVER else "QC per participant",
            labels={"participant": "{participant}", **({"session": "{session}"} if CROSSOVER else {})},
        ),
    log:
        f"results/logs/preprocess_emg/{RECORDING}.log",
    benchmark:
        f"results/benchmarks/preprocess_emg/{RECORDING}.tsv"
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        study=config["study"],
        emg=config["preprocessing"]["emg"],
        bids_root=lambda wildcards, input: dataset_root(input.edf, SESSION),
    script:
        "../scripts/preprocess_emg.py"


rule preprocess_rt:
    """Z-score one recording's response times, flag outliers, keep correct trials for the RT models."""
    input:
        events=recording("{participant}", session=SESSION)["events"],
        code=code_of("../scripts/preprocess_rt.py"),
    output:
        f"results/preprocessing/rt/{RECORDING}_rt.parquet",
    log:
        f"results/logs/preprocess_rt/{RECORDING}.log",
    benchmark:
        f"results/benchmarks/preprocess_rt/{RECORDING}.tsv"
    # as the RT LMM's (statistics.smk): it waits on these, and else they ran after the Bayesian fits, last
    priority: 10
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=200,
        runtime=2,
    params:
        n_sd=config["preprocessing"]["rt"]["n_sd"],
    script:
        "../scripts/preprocess_rt.py"


rule gather_emg:
    """Group EMG tables: all trials x windows x muscles, time courses, rejection counts per recording."""
    input:
        participants=f"{BIDS_ROOT}/participants.tsv",
        sessions=sessions_files,
        windows=each_recording(rules.preprocess_emg.output.windows),
        timecourse=each_recording(rules.preprocess_emg.output.timecourse),
        summaries=each_recording(rules.preprocess_emg.output.summary),
        code=code_of("../scripts/gather_emg.py"),
    output:
        windows=EMG_WINDOWS,
        timecourse="results/preprocessing/emg_timecourse.parquet",
        emg_rejections=EMG_REJECTIONS,
    log:
        "results/logs/gather_emg.log",
    benchmark:
        "results/benchmarks/gather/emg.tsv"
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    params:
        study=config["study"],
        participants=PARTICIPANTS,
    script:
        "../scripts/gather_emg.py"


# Kept apart from the EMG tables so that a change to the EMG preprocessing does not rerun the RT models.
rule gather_rt:
    """Group RT tables: every trial's response and its cleaning, and the counts per participant."""
    input:
        participants=f"{BIDS_ROOT}/participants.tsv",
        sessions=sessions_files,
        rt=each_recording(rules.preprocess_rt.output[0]),
        code=code_of("../scripts/gather_rt.py"),
    output:
        rt=RT_TRIALS,
        rt_summary=RT_SUMMARY,
    log:
        "results/logs/gather_rt.log",
    benchmark:
        "results/benchmarks/gather/rt.tsv"
    priority: 10
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        study=config["study"],
        participants=PARTICIPANTS,
    script:
        "../scripts/gather_rt.py"
