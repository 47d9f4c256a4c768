# Stage 6, on request: the multiverse (`snakemake multiverse`): the study preprocessed under every combination of
# the forks' options (config/multiverse.yaml; mimicry.multiverse).
MULTIVERSE = "results/multiverse"


rule multiverse_participant:
    """Every universe's window means for one participant: the recording read once, each signal variant computed
    once and shared by every later choice."""
    input:
        **recording("{participant}"),
        code=code_of("../scripts/multiverse_participant.py"),
    output:
        means=f"{MULTIVERSE}/participants/sub-{{participant}}_means.parquet",
        universes=f"{MULTIVERSE}/participants/sub-{{participant}}_universes.tsv",
    log:
        "results/logs/multiverse_participant/sub-{participant}.log",
    benchmark:
        "results/benchmarks/multiverse_participant/sub-{participant}.tsv"
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        study=config["study"],
        emg=config["preprocessing"]["emg"],
        universes=UNIVERSES,
        bids_root=lambda wildcards, input: Path(input.edf).parents[2],
    script:
        "../scripts/multiverse_participant.py"


rule multiverse_gather:
    """Every participant's universe means in one table; each universe's choices, trials kept and rejection rate."""
    input:
        means=expand(rules.multiverse_participant.output.means, participant=PARTICIPANTS),
        universes=expand(rules.multiverse_participant.output.universes, participant=PARTICIPANTS),
        code=code_of("../scripts/multiverse_gather.py"),
    output:
        means=f"{MULTIVERSE}/means.parquet",
        universes=f"{MULTIVERSE}/universes.tsv",
    log:
        "results/logs/multiverse_gather.log",
    benchmark:
        "results/benchmarks/multiverse_gather.tsv"
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        universes=UNIVERSES,
    script:
        "../scripts/multiverse_gather.py"
