# Stage 2: per-participant preprocessing (EMG with MNE, response times), then the group tables.
EMG_OUT = "results/preprocessing/emg"


rule preprocess_emg:
    """Filter, rectify, smooth, epoch, reject outlier trials and average one participant's EMG into windows;
    draw its quality-control figure (time courses per muscle x emotion, rejected trials in red)."""
    input:
        **recording("{participant}"),
        code=code_of("../scripts/preprocess_emg.py"),
    output:
        windows=f"{EMG_OUT}/sub-{{participant}}_windows.parquet",
        timecourse=f"{EMG_OUT}/sub-{{participant}}_timecourse.parquet",
        summary=f"{EMG_OUT}/sub-{{participant}}_rejections.tsv",
        qc_pdf="results/preprocessing/qc/sub-{participant}_emg_qc.pdf",
        qc_png=report(
            "results/preprocessing/qc/sub-{participant}_emg_qc.png",
            caption="../report/qc.rst",
            category="2 Preprocessing",
            subcategory="QC per participant",
            labels={"participant": "{participant}"},
        ),
    log:
        "results/logs/preprocess_emg/sub-{participant}.log",
    benchmark:
        "results/benchmarks/preprocess_emg/sub-{participant}.tsv"
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    params:
        study=config["study"],
        emg=config["preprocessing"]["emg"],
        bids_root=lambda wildcards, input: Path(input.edf).parents[2],
    script:
        "../scripts/preprocess_emg.py"


rule preprocess_rt:
    """Z-score one participant's response times, flag outliers, keep correct trials for the RT models."""
    input:
        events=lambda wildcards: recording(wildcards.participant)["events"],
        code=code_of("../scripts/preprocess_rt.py"),
    output:
        "results/preprocessing/rt/sub-{participant}_rt.parquet",
    log:
        "results/logs/preprocess_rt/sub-{participant}.log",
    benchmark:
        "results/benchmarks/preprocess_rt/sub-{participant}.tsv"
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
    """Group EMG tables: all trials x windows x muscles, time courses, rejection counts per participant."""
    input:
        participants=f"{BIDS_ROOT}/participants.tsv",
        windows=expand(rules.preprocess_emg.output.windows, participant=PARTICIPANTS),
        timecourse=expand(rules.preprocess_emg.output.timecourse, participant=PARTICIPANTS),
        summaries=expand(rules.preprocess_emg.output.summary, participant=PARTICIPANTS),
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
    script:
        "../scripts/gather_emg.py"


# Kept apart from the EMG tables so that a change to the EMG preprocessing does not rerun the RT models.
rule gather_rt:
    """Group RT tables: every trial's response and its cleaning, and the counts per participant."""
    input:
        participants=f"{BIDS_ROOT}/participants.tsv",
        rt=expand(rules.preprocess_rt.output[0], participant=PARTICIPANTS),
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
    script:
        "../scripts/gather_rt.py"
