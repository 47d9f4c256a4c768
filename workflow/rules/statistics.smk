# Stage 3: group statistics I (frequentist): Table 1, rejection counts by group, LMMs (pymer4), Figures 1 and S2
# (the RT model and Figure S2 in studies with response times).
STATS = "results/statistics"


rule table1:
    """Table 1: the participants by drug group (the paper's: demographics, mood, blinding and nausea; rows by
    statistics.table1), chi-square and one-way ANOVA."""
    input:
        participants=PARTICIPANTS_TABLE or [],
        sessions=sessions_files,
        # a crossover from trial tables: its sessions (drug, period) are the EMG table's
        windows=EMG_WINDOWS if CROSSOVER and FROM_TABLES else [],
        code=code_of("../scripts/table1.py"),
    output:
        cells=report(
            f"{STATS}/table1.tsv",
            caption="../report/table1.rst",
            category="3 Frequentist statistics",
            subcategory="Table 1",
        ),
        tests=f"{STATS}/table1_tests.tsv",
        markdown=f"{STATS}/table1.md",
    log:
        "results/logs/table1.log",
    conda:
        "../../envs/stats.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=2,
    params:
        study=config["study"],
        rows=config["statistics"]["table1"],
    script:
        "../scripts/table1.py"


rule lmm_emg:
    """The EMG LMM of one muscle, or the follow-up model of one muscle x emotion (type-III F, emtrends); a fit lme4
    warns about is refitted across optimizers for a verdict (mimicry.lmm_checks)."""
    input:
        table=EMG_WINDOWS,
        participants=lmm_participants,
        code=code_of("../scripts/fit_lmm.py"),
    output:
        **{name: f"{STATS}/lmm/{{model}}_{name}.tsv" for name in ("fixed_effects", "info", "optimizers")},
        **{
            name: report(
                f"{STATS}/lmm/{{model}}_{name}.tsv",
                caption="../report/lmm.rst",
                category="3 Frequentist statistics",
                subcategory="Linear mixed models",
                labels={"model": "{model}", "table": name},
            )
            for name in ("anova", "trends")
        },
        residuals_pdf=f"{STATS}/lmm/{{model}}_residuals.pdf",
        residuals_png=report(
            f"{STATS}/lmm/{{model}}_residuals.png",
            caption="../report/lmm_residuals.rst",
            category="3 Frequentist statistics",
            subcategory="Linear mixed models",
            labels={"model": "{model}", "table": "residuals"},
        ),
    log:
        "results/logs/lmm/{model}.log",
    benchmark:
        "results/benchmarks/lmm/{model}.tsv"
    wildcard_constraints:
        model="emg_[A-Za-z0-9_]+",
    # longest first (plumbing.scheduling): a whole-study model before the Bayesian fits, a follow-up model after
    priority: lambda wildcards: lmm_priority(LMM_SPECS[wildcards.model].whole_study)
    conda:
        "../../envs/stats.yaml"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        model=lambda wildcards: LMM_SPECS[wildcards.model].as_params(),
    script:
        "../scripts/fit_lmm.py"


rule lmm_rt:
    """The RT LMM: emotion x drug, by-participant and by-face intercepts and emotion slopes."""
    input:
        table=RT_TRIALS,
        participants=lmm_participants,
        code=code_of("../scripts/fit_lmm.py"),
    output:
        **{name: f"{STATS}/lmm/{{model}}_{name}.tsv" for name in ("fixed_effects", "info", "optimizers")},
        anova=report(
            f"{STATS}/lmm/{{model}}_anova.tsv",
            caption="../report/lmm.rst",
            category="3 Frequentist statistics",
            subcategory="Linear mixed models",
            labels={"model": "{model}", "table": "anova"},
        ),
        residuals_pdf=f"{STATS}/lmm/{{model}}_residuals.pdf",
        residuals_png=report(
            f"{STATS}/lmm/{{model}}_residuals.png",
            caption="../report/lmm_residuals.rst",
            category="3 Frequentist statistics",
            subcategory="Linear mixed models",
            labels={"model": "{model}", "table": "residuals"},
        ),
    log:
        "results/logs/lmm/{model}.log",
    benchmark:
        "results/benchmarks/lmm/{model}.tsv"
    wildcard_constraints:
        model="rt",
    priority: lambda wildcards: lmm_priority(LMM_SPECS[wildcards.model].whole_study)
    conda:
        "../../envs/stats.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        model=lambda wildcards: LMM_SPECS[wildcards.model].as_params(),
    script:
        "../scripts/fit_lmm.py"


rule rejection_rates:
    """Share of trials rejected (EMG outliers; RT outliers and responses not correct, if the study has response
    times), overall and per group."""
    input:
        windows=EMG_WINDOWS,
        rt=RT_TRIALS if RESPONSE_TIMES else [],
        code=code_of("../scripts/rejection_rates.py"),
    output:
        rates=report(
            "results/preprocessing/rejection_rates.tsv",
            caption="../report/rejection_rates.rst",
            category="2 Preprocessing",
        ),
    log:
        "results/logs/rejection_rates.log",
    conda:
        "../../envs/emg.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        papers_design=STUDY.is_papers_design,
    script:
        "../scripts/rejection_rates.py"


rule rejections_by_group:
    """Do the numbers of rejected trials (EMG; RT, if the study has them) differ between drug groups? One-way ANOVA
    per measure."""
    input:
        emg=EMG_REJECTIONS,
        rt=RT_SUMMARY if RESPONSE_TIMES else [],
        code=code_of("../scripts/rejections_by_group.py"),
    output:
        report(
            f"{STATS}/rejections_by_group.tsv", caption="../report/rejections_by_group.rst", category="2 Preprocessing"
        ),
    log:
        "results/logs/rejections_by_group.log",
    conda:
        "../../envs/stats.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=2,
    params:
        groups=list(STUDY.groups),
    script:
        "../scripts/rejections_by_group.py"


rule figure1:
    """Figure 1: log EMG by muscle x window x drug, per emotion."""
    input:
        windows=EMG_WINDOWS,
        code=code_of("../scripts/figure1.py"),
    output:
        pdf=f"{STATS}/figure1.pdf",
        png=report(
            f"{STATS}/figure1.png",
            caption="../report/figure1.rst",
            category="3 Frequentist statistics",
            subcategory="Figures",
        ),
    log:
        "results/logs/figure1.log",
    conda:
        "../../envs/stats.yaml"
    threads: 1
    resources:
        mem_mb=1500,
        runtime=5,
    params:
        groups=list(STUDY.groups),
        reference_group=STUDY.reference_group,
    script:
        "../scripts/figure1.py"


rule figure_s2:
    """Figure S2: response times by emotion x drug (studies with response times)."""
    input:
        rt=RT_TRIALS,
        code=code_of("../scripts/figure_s2.py"),
    output:
        pdf=f"{STATS}/figure_s2.pdf",
        png=report(
            f"{STATS}/figure_s2.png",
            caption="../report/figure_s2.rst",
            category="3 Frequentist statistics",
            subcategory="Figures",
        ),
    log:
        "results/logs/figure_s2.log",
    conda:
        "../../envs/stats.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        groups=list(STUDY.groups),
        reference_group=STUDY.reference_group,
    script:
        "../scripts/figure_s2.py"
