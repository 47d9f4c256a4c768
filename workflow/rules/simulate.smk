# Stage 0 (default data): simulate a whole study in BIDS-EMG, with its ground truth beside the BIDS tree.
SIMULATION_TRUTH = "results/simulated/ground_truth"


rule simulate_participants:
    """Draw the participants (demographics, group; in a crossover their sessions) and their hidden parameters; write
    the dataset-level files."""
    input:
        code=code_of("../scripts/simulate_participants.py"),
    output:
        participants=f"{SIMULATED_ROOT}/participants.tsv",
        participants_sidecar=f"{SIMULATED_ROOT}/participants.json",
        description=f"{SIMULATED_ROOT}/dataset_description.json",
        # a crossover's drug per session: each participant's sessions file
        sessions=[str(sessions_file(SIMULATED_ROOT, p)) for p in SIMULATED_PARTICIPANTS] if CROSSOVER else [],
        readme=f"{SIMULATED_ROOT}/README",
        parameters=f"{SIMULATION_TRUTH}/participant_parameters.tsv",
        effects=f"{SIMULATION_TRUTH}/participant_effects.tsv",
        conditions=report(
            f"{SIMULATION_TRUTH}/conditions.tsv", caption="../report/ground_truth.rst", category="1 Dataset"
        ),
    log:
        "results/logs/simulate_participants.log",
    conda:
        "../../envs/bids.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=5,
    params:
        study=config["study"],
        simulation=config["simulation"],
    script:
        "../scripts/simulate_participants.py"


rule simulate_recording:
    """Simulate one recording (a participant's; a crossover's: one session's): trial order, responses and EMG (broadband, or the amplifier's envelope
    when the preprocessing expects envelopes), written as BIDS-EMG."""
    input:
        parameters=rules.simulate_participants.output.parameters,
        effects=rules.simulate_participants.output.effects,
        stimuli=STIMULI_TABLE or [],
        code=code_of("../scripts/simulate_recording.py"),
    output:
        **recording("{participant}", SIMULATED_ROOT, SESSION),
        events_sidecar=str(recording_files(SIMULATED_ROOT, "{participant}", STUDY.task, SESSION).events_sidecar),
        truth=f"{SIMULATION_TRUTH}/trials/{RECORDING}_trials.parquet",
    log:
        f"results/logs/simulate_recording/{RECORDING}.log",
    benchmark:
        f"results/benchmarks/simulate_recording/{RECORDING}.tsv"
    conda:
        "../../envs/bids.yaml"
    threads: 1
    resources:
        mem_mb=600,
        runtime=5,
    params:
        study=config["study"],
        simulation=config["simulation"],
        recording=config["preprocessing"]["emg"]["input"],
    script:
        "../scripts/simulate_recording.py"
