# Stage 4: group statistics II (Bayesian): the paper's asymptotic regression and its nested models (Table 2),
# the prior and posterior predictive checks, prior sensitivity, Figures 2 and 3.
BAYES = "results/bayes"
BAYES_MODELS = [] if BAYES_SKIPPED else list(NESTED_MODELS)  # Table 2's nested models (mimicry.bayes_specs)
BAYES_STUDY = {
    "groups": list(STUDY.groups),
    "reference_group": STUDY.reference_group,
    "muscles": list(STUDY.muscles),
    "emotions": list(STUDY.emotions),
}


rule bayes_fit:
    """Sample one nested model; fail (or mark) a posterior that misses the diagnostics gate."""
    input:
        table=EMG_WINDOWS,
        code=code_of("../scripts/fit_bayes.py"),
    output:
        posterior=f"{BAYES}/{{model}}/posterior.nc",
        summary=f"{BAYES}/{{model}}/summary.tsv",
        fixed_effects=report(
            f"{BAYES}/{{model}}/fixed_effects.tsv",
            caption="../report/bayes_fixed_effects.rst",
            category="4 Bayesian models",
            subcategory="Fixed effects",
            labels={"model": "{model}"},
        ),
        diagnostics=report(
            f"{BAYES}/{{model}}/diagnostics.tsv",
            caption="../report/bayes_diagnostics.rst",
            category="4 Bayesian models",
            subcategory="Diagnostics",
            labels={"model": "{model}"},
        ),
        contrasts=f"{BAYES}/{{model}}/contrasts.tsv",
        pointwise=f"{BAYES}/{{model}}/pointwise.parquet",
        participants=f"{BAYES}/{{model}}/participants.parquet",
        prior_predictive=report(
            f"{BAYES}/{{model}}/prior_predictive.tsv",
            caption="../report/prior_predictive.rst",
            category="4 Bayesian models",
            subcategory="Prior predictive check",
            labels={"model": "{model}"},
        ),
        posterior_predictive=report(
            f"{BAYES}/{{model}}/posterior_predictive.tsv",
            caption="../report/posterior_predictive.rst",
            category="4 Bayesian models",
            subcategory="Posterior predictive check",
            labels={"model": "{model}"},
        ),
        sensitivity=report(
            f"{BAYES}/{{model}}/sensitivity.tsv",
            caption="../report/sensitivity.rst",
            category="4 Bayesian models",
            subcategory="Prior sensitivity",
            labels={"model": "{model}"},
        ),
    log:
        "results/logs/bayes/{model}.log",
    benchmark:
        "results/benchmarks/bayes/{model}.tsv"
    wildcard_constraints:
        model="|".join(BAYES_MODELS),
    # after the whole-study LMMs, before the short ones: longest first (mimicry.plumbing.scheduling)
    priority: PRIORITY_BAYES
    conda:
        "../../envs/bayes.yaml"
    # chains run in parallel, one per thread, on at most half the cores: two models at once (mimicry.plumbing.scheduling)
    threads: bayes_threads(config["statistics"]["bayes"]["chains"], workflow.resource_settings.cores)
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        bayes=config["statistics"]["bayes"],
        study=BAYES_STUDY,
    script:
        "../scripts/fit_bayes.py"


rule bayes_compare:
    """Table 2: WAIC and PSIS-LOO of the nested models (brms-style and stacking weights, Pareto k), and
    leave-one-participant-out; every model's drug - reference contrasts in one table."""
    input:
        pointwise=expand(f"{BAYES}/{{model}}/pointwise.parquet", model=BAYES_MODELS),
        participants=expand(f"{BAYES}/{{model}}/participants.parquet", model=BAYES_MODELS),
        diagnostics=expand(f"{BAYES}/{{model}}/diagnostics.tsv", model=BAYES_MODELS),
        contrasts=expand(f"{BAYES}/{{model}}/contrasts.tsv", model=BAYES_MODELS),
        code=code_of("../scripts/compare_bayes.py"),
    output:
        table=report(f"{BAYES}/table2.tsv", caption="../report/table2.rst", category="4 Bayesian models"),
        markdown=f"{BAYES}/table2.md",
        contrasts=report(f"{BAYES}/contrasts.tsv", caption="../report/contrasts.rst", category="4 Bayesian models"),
    log:
        "results/logs/bayes/compare.log",
    conda:
        "../../envs/bayes.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        models=BAYES_MODELS,
    script:
        "../scripts/compare_bayes.py"


rule bayes_figures:
    """Figure 2 (curve, prior curves, data and the no-drug model's HDI band) and Figure 3 (fixed effects)."""
    input:
        table=EMG_WINDOWS,
        full=f"{BAYES}/full/posterior.nc",
        no_drug=f"{BAYES}/no_drug/posterior.nc",
        diagnostics=[f"{BAYES}/full/diagnostics.tsv", f"{BAYES}/no_drug/diagnostics.tsv"],
        contrasts=f"{BAYES}/full/contrasts.tsv",
        code=code_of("../scripts/bayes_figures.py"),
    output:
        figure2_pdf=f"{BAYES}/figure2.pdf",
        figure2_png=report(f"{BAYES}/figure2.png", caption="../report/figure2.rst", category="4 Bayesian models"),
        figure3_pdf=f"{BAYES}/figure3.pdf",
        figure3_png=report(f"{BAYES}/figure3.png", caption="../report/figure3.rst", category="4 Bayesian models"),
    log:
        "results/logs/bayes/figures.log",
    conda:
        "../../envs/bayes.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=5,
    params:
        bayes=config["statistics"]["bayes"],
        groups=list(STUDY.groups),
        reference_group=STUDY.reference_group,
    script:
        "../scripts/bayes_figures.py"
