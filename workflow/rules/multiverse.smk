# Stage 6, on request: the multiverse (`snakemake multiverse`): the study preprocessed under every combination of
# the forks' options (config/multiverse.yaml; mimicry.multiverse).
MULTIVERSE = "results/multiverse"


# seconds each: on a cluster they run where Snakemake runs (as common.smk's localrules)
localrules:
    multiverse_gather,
    multiverse_inference,
    multiverse_figures,
    multiverse_bayes_contrasts,


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
        plan=MULTIVERSE_PLAN,
        bids_root=lambda wildcards, input: Path(input.edf).parents[2],
    script:
        "../scripts/multiverse_participant.py"


rule multiverse_gather:
    """Every participant's universe means in one table; each universe's choices, trials kept and rejection rate."""
    input:
        participants=f"{BIDS_ROOT}/participants.tsv",
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
        plan=MULTIVERSE_PLAN,
    script:
        "../scripts/multiverse_gather.py"


rule multiverse_inference:
    """Each universe's estimates (the drug effects on the follow-up slope, the omnibus test and the positive control
    per muscle), the joint test across universes against permutations, and the forks' shares of the variance."""
    input:
        means=rules.multiverse_gather.output.means,
        universes=rules.multiverse_gather.output.universes,
        code=code_of("../scripts/multiverse_inference.py"),
    output:
        specifications=f"{MULTIVERSE}/specifications.tsv",
        joint_test=f"{MULTIVERSE}/joint_test.tsv",
        decisions=f"{MULTIVERSE}/decisions.tsv",
        methods=f"{MULTIVERSE}/methods.md",
    log:
        "results/logs/multiverse_inference.log",
    benchmark:
        "results/benchmarks/multiverse_inference.tsv"
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    params:
        plan=MULTIVERSE_PLAN,
        study=config["study"],
        followup=config["statistics"]["followup"],
        multiverse=config["multiverse"],
        collapsed=COLLAPSED_FORKS,
        alpha=config["report"]["alpha"],
    script:
        "../scripts/multiverse_inference.py"


rule multiverse_figures:
    """The specification curve (every universe's estimate, sorted, with the choices beneath) and the forks'
    shares of the estimates' variance."""
    input:
        specifications=rules.multiverse_inference.output.specifications,
        decisions=rules.multiverse_inference.output.decisions,
        universes=rules.multiverse_gather.output.universes,
        code=code_of("../scripts/multiverse_figures.py"),
    output:
        curve_pdf=f"{MULTIVERSE}/specification_curve.pdf",
        curve_png=report(
            f"{MULTIVERSE}/specification_curve.png",
            caption="../report/multiverse_curve.rst",
            category="6 Multiverse",
        ),
        decisions_pdf=f"{MULTIVERSE}/decisions.pdf",
        decisions_png=report(
            f"{MULTIVERSE}/decisions.png",
            caption="../report/multiverse_decisions.rst",
            category="6 Multiverse",
        ),
    log:
        "results/logs/multiverse_figures.log",
    benchmark:
        "results/benchmarks/multiverse_figures.tsv"
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        forks=list(config["multiverse"]["forks"]),
    script:
        "../scripts/multiverse_figures.py"


rule multiverse_bayes:
    """The full asymptotic model in one chosen universe (multiverse.bayes_universes): its drug contrasts."""
    input:
        means=rules.multiverse_gather.output.means,
        code=code_of("../scripts/multiverse_bayes.py"),
    output:
        contrasts=f"{MULTIVERSE}/bayes/universe-{{universe}}_contrasts.tsv",
        diagnostics=f"{MULTIVERSE}/bayes/universe-{{universe}}_diagnostics.tsv",
    log:
        "results/logs/multiverse_bayes/universe-{universe}.log",
    benchmark:
        "results/benchmarks/multiverse_bayes/universe-{universe}.tsv"
    conda:
        "../../envs/bayes.yaml"
    # chains in parallel, one per thread, on at most half the cores (as bayes_fit)
    threads: bayes_threads(config["statistics"]["bayes"]["chains"], workflow.resource_settings.cores)
    resources:
        mem_mb=3000,
        runtime=60,
    params:
        bayes=config["statistics"]["bayes"],
        study=BAYES_STUDY,
        window_s=lambda wildcards: UNIVERSES[int(wildcards.universe) - 1].settings["windows"]["length_s"],
    script:
        "../scripts/multiverse_bayes.py"


rule multiverse_bayes_contrasts:
    """The full model's drug contrasts in the main analysis and in each chosen universe, with its choices."""
    input:
        main=f"{BAYES}/full/contrasts.tsv",
        universes=expand(rules.multiverse_bayes.output.contrasts, universe=BAYES_UNIVERSES),
        universe_table=rules.multiverse_gather.output.universes,
        code=code_of("../scripts/multiverse_bayes_contrasts.py"),
    output:
        f"{MULTIVERSE}/bayes_contrasts.tsv",
    log:
        "results/logs/multiverse_bayes_contrasts.log",
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    script:
        "../scripts/multiverse_bayes_contrasts.py"
