# Shared set-up: config validation, the study design, the participant list and path helpers.
import os
import sys
from pathlib import Path

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.logging import logger

# The workflow's own folder (its repository), also when it runs as a module of a lab's workflow, whose folder is
# then the working directory and workflow.basedir.
PROJECT = Path(workflow.current_basedir.get_path_or_uri(secret_free=True)).parents[1]
# This file imports the project's `mimicry` package from src/. Rule scripts find it through the symlink
# workflow/scripts/mimicry (Snakemake puts a script's folder on sys.path), in any environment: venv, conda, cluster.
SRC = PROJECT / "src"
sys.path.insert(0, str(SRC))

from mimicry.bids.layout import dataset_root, recording_files, sessions_file
from mimicry.plumbing.codefiles import code_files
from mimicry.errors import DatasetError, InputError
from mimicry.inputs import SIMULATED_ROOT, resolve_inputs
from mimicry.lmm_specs import check_specs, lmm_specs
from mimicry.bayes_specs import NESTED_MODELS, asymptotic_skipped, crossover_problems
from mimicry.power.planning import (
    RULE_LABELS as POWER_RULES,
    batch_config as power_batch_config,
    batches as power_batches,
    check_power,
    designs as power_designs,
)
from mimicry.plumbing.scheduling import (
    PRIORITY_BAYES,
    bayes_threads,
    coalesce_wakeups,
    lmm_priority,
)
from mimicry.config import ConfigError, validate_config
from mimicry.calibration_plan import calibration_design, calibration_problems
from mimicry.multiverse.forks import bayes_universes, collapsed_forks, multiverse_problems, plan, universes
from mimicry.settings import CalibrationSettings, PowerSettings
from mimicry.study import Study

try:  # fills in the schema's defaults: the one place a default lives
    validate_config(config)
except ConfigError as error:
    raise WorkflowError(f"Invalid config: {error}") from None
PARTICIPANTS_SCHEMA = PROJECT / "workflow/schemas/participants.schema.yaml"
PARTICIPANTS_RULES = yaml.safe_load(PARTICIPANTS_SCHEMA.read_text())

STUDY = Study.from_config(config["study"])
try:  # the input mode, participants, optional parts and every LMM formula, checked before any job runs
    INPUTS = resolve_inputs(config, PARTICIPANTS_RULES)
    LMM_SPECS = {
        spec.name: spec
        for spec in lmm_specs(
            config,
            STUDY,
            response_times=INPUTS.response_times,
            faces=INPUTS.faces,
            participant_columns=INPUTS.participant_columns,
        )
    }
    found = check_specs(LMM_SPECS.values(), STUDY, INPUTS.participant_columns, INPUTS.levels, INPUTS.n_windows)
    if found:
        raise DatasetError(found, "the LMMs' configuration")
    found = crossover_problems(config["statistics"]["bayes"], STUDY.crossover)
    if found:
        raise InputError("; ".join(found))
except (InputError, DatasetError) as error:
    raise WorkflowError(f"Invalid input: {error}") from None
if not INPUTS.faces:
    logger.info("The trials show no more than one face identity: the LMMs are fitted without their (... | face) terms.")
BAYES_SKIPPED = asymptotic_skipped(INPUTS.n_windows)  # why there are no Bayesian models ("" when there are)
if BAYES_SKIPPED:
    logger.info(BAYES_SKIPPED)
SIMULATED, FROM_TABLES = INPUTS.mode == "simulated", INPUTS.mode == "tables"
BIDS_ROOT, PARTICIPANTS, TABLES = INPUTS.bids_root, list(INPUTS.participants), INPUTS.tables
SIMULATED_PARTICIPANTS = list(INPUTS.simulated_participants)
STIMULI_TABLE, RESPONSE_TIMES = INPUTS.stimuli_table, INPUTS.response_times
# what keeps `snakemake power` from running here (it alone fails on them: a plain run does not need it)
POWER_SETTINGS = PowerSettings.from_config(config["power"])
POWER = "results/power"  # the power analysis's results
POWER_PROBLEMS = check_power(config, STUDY, POWER_SETTINGS, STIMULI_TABLE)
if config["report"]["power"] and POWER_PROBLEMS:
    raise WorkflowError(
        "Invalid config: report.power is true (the report shows the power analysis), but the power analysis cannot "
        f"run on this study: {'; '.join(POWER_PROBLEMS)}. Set report.power: false, or fix the above."
    )
# ... and `snakemake calibration`
CALIBRATION_DESIGN = calibration_design(config, list(STUDY.groups), list(STUDY.muscles), list(STUDY.emotions))
CALIBRATION_PROBLEMS = calibration_problems(CALIBRATION_DESIGN, STUDY.crossover)
CALIBRATION_BAYES_KEYS = ("priors", "b_intercept", "variant", "target_accept", "diagnostics")
if config["report"]["calibration"] and CALIBRATION_PROBLEMS:
    raise WorkflowError(
        "Invalid config: report.calibration is true (the report shows the calibration), but the calibration cannot "
        f"run on this study: {'; '.join(CALIBRATION_PROBLEMS)}. Set report.calibration: false, or fix the above."
    )
# ... and `snakemake multiverse`
MULTIVERSE_PROBLEMS = multiverse_problems(config, FROM_TABLES)
# what the multiverse's jobs compute their universes from (mimicry.multiverse.forks.plan)
MULTIVERSE_PLAN = plan(config["preprocessing"]["emg"], config["multiverse"])
UNIVERSES = [] if MULTIVERSE_PROBLEMS else universes(config)
BAYES_UNIVERSES = [] if MULTIVERSE_PROBLEMS else bayes_universes(config, UNIVERSES)[0]
if config["report"]["multiverse"] and MULTIVERSE_PROBLEMS:
    raise WorkflowError(
        "Invalid config: report.multiverse is true (the report shows the multiverse), but the multiverse cannot "
        f"run on this study: {'; '.join(MULTIVERSE_PROBLEMS)}. Set report.multiverse: false, or fix the above."
    )
COLLAPSED_FORKS = collapsed_forks(config) if UNIVERSES else []
if COLLAPSED_FORKS:
    logger.info(
        f"The recordings are envelopes: the multiverse's forks on the signal ({', '.join(COLLAPSED_FORKS)}) "
        "do not apply and keep their main option."
    )
PARTICIPANTS_TABLE = INPUTS.participants_table
# A crossover has one recording per participant x session; its per-recording outputs are named by both.
CROSSOVER = STUDY.crossover
RECORDING = "sub-{participant}_ses-{session}" if CROSSOVER else "sub-{participant}"
SESSION = "{session}" if CROSSOVER else None  # the session wildcard of a recording's BIDS files

# The group tables the statistics read: made by the preprocessing stage, or imported from dataset.tables.
EMG_WINDOWS = "results/preprocessing/emg_windows.parquet"
EMG_REJECTIONS = "results/preprocessing/emg_rejections.tsv"
RT_TRIALS = "results/preprocessing/rt_trials.parquet"
RT_SUMMARY = "results/preprocessing/rt_summary.tsv"


wildcard_constraints:
    participant="[0-9A-Za-z]+",
    session="[0-9A-Za-z]+",


# Jobs of a second or two that only gather, compare or write text: on a cluster they run where Snakemake runs,
# as a queued job would spend longer waiting and starting than working.
localrules:
    software_versions,
    provenance,
    methods_text,
    gather_emg,
    gather_rt,
    rejection_rates,
    rejections_by_group,
    table1,
    bayes_compare,
    study_report_html,
    power_summary,


def code_of(script):
    """The package files that ``script`` (as the rule's ``script:`` or ``notebook:`` names it) runs, found from its
    imports: editing one reruns the jobs that use it. Relative paths, so that a project moved or copied elsewhere
    with its results is still up to date."""
    path = PROJECT / "workflow" / "rules" / script
    return [os.path.relpath(file) for file in code_files(path, SRC / "mimicry")]


def power_batch_params(batches, rules):
    """A power batch job's params (``batches``: path under the power folder -> batch): what it reads from the
    config (its design's), and its cell and replicates."""

    def params(wildcards, output):
        batch = batches[os.path.relpath(output[0], POWER)]
        return {
            "config": power_batch_config(config, STUDY, batch.cell.design, rules),
            "batch": batch.as_params(),
        }

    return params


def project_file(path):
    """A file of the workflow's own folder, relative to the working directory (the workflow's folder, or the lab's
    that uses it as a module)."""
    return os.path.relpath(PROJECT / path)


def recording(participant, root=None, session=None):
    """The BIDS-EMG files of one recording (dict: edf, sidecar, channels, events) in the analysed dataset."""
    files = recording_files(root or BIDS_ROOT, participant, STUDY.task, session)
    return {name: str(path) for name, path in zip(("edf", "sidecar", "channels", "events"), files.required())}


def each_recording(pattern, recordings=None):
    """``pattern`` (with {participant}, and {session} in a crossover) for every analysed recording (or those
    given as (participant, session) pairs)."""
    participants, sessions = zip(*(recordings or INPUTS.recordings))
    if CROSSOVER:
        return expand(pattern, zip, participant=participants, session=sessions)
    return expand(pattern, participant=participants)


def sessions_files(wildcards=None):
    """The analysed participants' sessions files: a crossover's drug per session (none in a between design)."""
    return [str(sessions_file(BIDS_ROOT, participant)) for participant in PARTICIPANTS] if CROSSOVER else []


def all_recording_files(wildcards=None):
    return [
        path for participant, session in INPUTS.recordings for path in recording(participant, session=session).values()
    ]


def lmm_models():
    """The EMG LMMs: one per muscle and the follow-up model (mimicry.lmm_specs names them)."""
    return [name for name, spec in LMM_SPECS.items() if spec.kind == "emg"]


def rt_models():
    """The RT model, in a study with response times."""
    return [name for name, spec in LMM_SPECS.items() if spec.kind == "rt"]


def lmm_participants(wildcards):
    """participants.tsv, for a model whose formulas use its columns as covariates."""
    return PARTICIPANTS_TABLE if LMM_SPECS[wildcards.model].covariates else []


ENVIRONMENTS = sorted(path.stem for path in (PROJECT / "envs").glob("*.yaml"))


def input_files(wildcards=None):
    """The files the analysis starts from, for their checksums: the recordings and participants.tsv, or the
    user's tables; the stimulus table, if the study has one."""
    stimuli = [STIMULI_TABLE] if STIMULI_TABLE else []
    if FROM_TABLES:
        return sorted(TABLES.values()) + stimuli
    return [f"{BIDS_ROOT}/participants.tsv", *sessions_files(), *all_recording_files(), *stimuli]


def notebook_inputs(wildcards=None):
    """Every table and figure the notebook shows (what exists depends on where the analysis started)."""
    stats = "results/statistics/lmm"
    inputs = {
        "methods": rules.methods_text.output[0],
        "provenance": rules.provenance.output.summary,
        "software": rules.provenance.output.software,
        "figure1": rules.figure1.output.png,
        "anova": [f"{stats}/{model}_anova.tsv" for model in [*lmm_models(), *rt_models()]],
        "trends": [f"{stats}/{model}_trends.tsv" for model in lmm_models()],
        "lmm_info": [f"{stats}/{model}_info.tsv" for model in [*lmm_models(), *rt_models()]],
        "lmm_refits": [f"{stats}/{model}_optimizers.tsv" for model in [*lmm_models(), *rt_models()]],
        "lmm_residuals": [f"{stats}/{model}_residuals.png" for model in [*lmm_models(), *rt_models()]],
    }
    if BAYES_MODELS:
        inputs |= {
            "table2": rules.bayes_compare.output.table,
            "contrasts": rules.bayes_compare.output.contrasts,
            "diagnostics": expand(rules.bayes_fit.output.diagnostics, model=BAYES_MODELS),
            "fixed_effects": expand(rules.bayes_fit.output.fixed_effects, model=BAYES_MODELS),
            "prior_predictive": expand(rules.bayes_fit.output.prior_predictive, model="full"),
            "posterior_predictive": expand(rules.bayes_fit.output.posterior_predictive, model=BAYES_MODELS),
            "sensitivity": expand(rules.bayes_fit.output.sensitivity, model=BAYES_MODELS),
            "pointwise": expand(rules.bayes_fit.output.pointwise, model=BAYES_MODELS),
            "figure2": rules.bayes_figures.output.figure2_png,
            "figure3": rules.bayes_figures.output.figure3_png,
        }
    if RESPONSE_TIMES:
        inputs["figure_s2"] = rules.figure_s2.output.png
    if PARTICIPANTS_TABLE:
        inputs |= {"table1": rules.table1.output.markdown, "table1_tests": rules.table1.output.tests}
    inputs |= {
        "emg_rejections": EMG_REJECTIONS,
        "rates": rules.rejection_rates.output.rates,
        "rejections_by_group": rules.rejections_by_group.output[0],
    }
    if RESPONSE_TIMES:
        inputs["rt_summary"] = RT_SUMMARY
    if not FROM_TABLES:
        inputs["qc"] = each_recording(rules.preprocess_emg.output.qc_png)
    if config["report"]["calibration"]:
        inputs |= {
            "calibration_uniformity": rules.calibration_summary.output.uniformity,
            "calibration_figure": rules.calibration_summary.output.figure_png,
        }
    if config["report"]["power"]:
        summary = rules.power_summary.output
        inputs |= {
            "power_table": summary.power,
            "power_detectable": summary.detectable,
            "power_coverage": summary.coverage,
            "power_figure": summary.figure_png,
            "power_needed": summary.needed,
            "power_designs_figure": summary.designs_png,
            "power_methods": summary.methods,
        }
    if config["report"]["multiverse"]:
        inference, figures = rules.multiverse_inference.output, rules.multiverse_figures.output
        inputs |= {
            "multiverse_specifications": inference.specifications,
            "multiverse_joint_test": inference.joint_test,
            "multiverse_decisions": inference.decisions,
            "multiverse_methods": inference.methods,
            "multiverse_universes": rules.multiverse_gather.output.universes,
            "multiverse_curve": figures.curve_png,
            "multiverse_decisions_figure": figures.decisions_png,
        }
        if BAYES_MODELS:
            inputs["multiverse_bayes_contrasts"] = rules.multiverse_bayes_contrasts.output[0]
    return inputs


def final_outputs():
    targets = [*rules.figure1.output]
    targets += expand(rules.lmm_emg.output, model=lmm_models())
    if RESPONSE_TIMES:
        targets += [*rules.figure_s2.output, *expand(rules.lmm_rt.output, model="rt")]
    if BAYES_MODELS:
        targets += [*rules.bayes_compare.output, *rules.bayes_figures.output]
        targets += expand(rules.bayes_fit.output.prior_predictive, model=BAYES_MODELS)
    targets += [*rules.study_report_html.output, *rules.study_notebook.output, *rules.provenance.output]
    if PARTICIPANTS_TABLE:
        targets += rules.table1.output
    targets += [EMG_REJECTIONS, *rules.rejection_rates.output, *rules.rejections_by_group.output]
    if RESPONSE_TIMES:
        targets.append(RT_SUMMARY)
    if not FROM_TABLES:
        targets += ["results/dataset/validation.tsv", *rules.gather_emg.output]
        targets += each_recording(rules.preprocess_emg.output.qc_png)
    if SIMULATED:
        targets += rules.simulate_participants.output
        targets += each_recording(rules.simulate_recording.output.truth, INPUTS.simulated_recordings)
    return targets
