# Stage 1: check the BIDS-EMG dataset (simulated or the user's) against the study design before analysing it.


rule validate_dataset:
    """Validate participants.tsv (a crossover: the sessions files) and every recording; write one summary row per
    recording."""
    input:
        participants=f"{BIDS_ROOT}/participants.tsv",
        sessions=sessions_files,
        recordings=all_recording_files,
        schema=os.path.relpath(PARTICIPANTS_SCHEMA),
        stimuli=STIMULI_TABLE or [],
        code=code_of("../scripts/validate_dataset.py"),
    output:
        report("results/dataset/validation.tsv", caption="../report/dataset.rst", category="1 Dataset"),
    log:
        "results/logs/validate_dataset.log",
    benchmark:
        "results/benchmarks/validate_dataset/dataset.tsv"
    conda:
        "../../envs/bids.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    params:
        bids_root=lambda wildcards, input: Path(input.participants).parent,
        study=config["study"],
        exclude=config["dataset"]["exclude_participants"],
    script:
        "../scripts/validate_dataset.py"
