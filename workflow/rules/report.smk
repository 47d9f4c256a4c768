# Stage 5: the study report: provenance (config used and its hash, software versions, input checksums), a methods
# text written from the config, the executed notebook (results/logs/report/study_report.ipynb) and its HTML export.
PROVENANCE = "results/provenance"
REPORT = "results/report"


rule software_versions:
    """What one environment pins beside what it has installed (run inside that environment)."""
    input:
        env=project_file("envs/{environment}.yaml"),
        code=code_of("../scripts/software_versions.py"),
    output:
        f"{PROVENANCE}/software/{{environment}}.tsv",
    log:
        "results/logs/report/software_{environment}.log",
    wildcard_constraints:
        environment="|".join(ENVIRONMENTS),
    conda:
        "../../envs/{environment}.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=2,
    script:
        "../scripts/software_versions.py"


rule provenance:
    """The config used (and its SHA-256), every environment's software, checksums of the input files."""
    input:
        software=expand(rules.software_versions.output[0], environment=ENVIRONMENTS),
        data=input_files,
        code=code_of("../scripts/provenance.py"),
    output:
        config=f"{PROVENANCE}/config.yaml",
        summary=f"{PROVENANCE}/provenance.json",
        software=f"{PROVENANCE}/software.tsv",
        inputs=report(f"{PROVENANCE}/inputs.tsv", caption="../report/inputs.rst", category="5 Report"),
    log:
        "results/logs/report/provenance.log",
    benchmark:
        "results/benchmarks/report/provenance.tsv"
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=300,
        runtime=10,
    params:
        config=config,
    script:
        "../scripts/provenance.py"


rule methods_text:
    """The methods section, written from the config used and the software found."""
    input:
        software=rules.provenance.output.software,
        summary=rules.provenance.output.summary,
        diagnostics=expand(f"{BAYES}/{{model}}/diagnostics.tsv", model=BAYES_MODELS),
        code=code_of("../scripts/methods_text.py"),
    output:
        report(f"{REPORT}/methods.md", caption="../report/methods.rst", category="5 Report"),
    log:
        "results/logs/report/methods_text.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=2,
    params:
        config=config,
        response_times=RESPONSE_TIMES,
        faces=INPUTS.faces,
        n_windows=INPUTS.n_windows,
    script:
        "../scripts/methods_text.py"


rule study_notebook:
    """Execute the study notebook; what it concludes goes to findings.tsv, the executed notebook to the log."""
    input:
        unpack(notebook_inputs),
        code=code_of("../notebooks/study_report.py.ipynb"),
    output:
        findings=report(f"{REPORT}/findings.tsv", caption="../report/findings.rst", category="5 Report"),
    log:
        notebook="results/logs/report/study_report.ipynb",
    benchmark:
        "results/benchmarks/report/study_notebook.tsv"
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        title=STUDY.title,
        alpha=config["report"]["alpha"],
        groups=list(STUDY.groups),
        muscles=list(STUDY.muscles),
        model_labels={name: spec.label for name, spec in LMM_SPECS.items()},
        hdi_prob=config["statistics"]["bayes"]["hdi_prob"],
        response_times=RESPONSE_TIMES,
        bayes_skipped=BAYES_SKIPPED,
        power_rules=POWER_RULES,
        multiverse_forks=config["multiverse"]["forks"],
        crossover=CROSSOVER,
    notebook:
        "../notebooks/study_report.py.ipynb"


rule study_report_html:
    """The executed notebook as one self-contained HTML file (figures embedded, code hidden, nothing loaded from
    the internet)."""
    input:
        notebook=rules.study_notebook.log.notebook,
        template=project_file("workflow/notebooks/templates/offline/index.html.j2"),
    output:
        report("results/study_report.html", caption="../report/study_report.rst", category="5 Report"),
    log:
        "results/logs/report/study_report_html.log",
    conda:
        "../../envs/report.yaml"
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    params:
        templates=lambda wildcards, input: Path(input.template).parents[1],
        output_dir=lambda wildcards, output: Path(output[0]).parent,
        name=lambda wildcards, output: Path(output[0]).stem,
    shell:
        "jupyter nbconvert --to html --no-input --template offline "
        "--TemplateExporter.extra_template_basedirs={params.templates:q} --output-dir {params.output_dir:q} "
        "--output {params.name:q} {input.notebook:q} > {log:q} 2>&1"
