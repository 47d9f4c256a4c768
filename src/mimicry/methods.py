"""A methods section written from the configuration a run actually used, in the manner of the boilerplate
fMRIPrep and MNE-BIDS-Pipeline generate: every filter, epoch, outlier rule, model formula, prior and sampler
setting comes from the config, every version from the software the run found installed. Paste it into a
paper and edit the wording, not the numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from mimicry.bayes_specs import FINDINGS_MODELS, MODEL_LABELS, NESTED_MODELS, asymptotic_skipped, formulas
from mimicry.lmm_checks import LOGLIK_TOLERANCE
from mimicry.lmm_specs import lmm_specs
from mimicry.settings import Diagnostics, EmgSettings, Priors, Sampling
from mimicry.study import Study

RULE_WORDS = {
    "mean": "the trial's mean response (percentage of its baseline)",
    "peak": "the trial's peak response (percentage of its baseline)",
    "baseline_mean": "the baseline's mean",
    "baseline_peak": "the baseline's peak",
}
REFERENCES = {
    "korb": "Korb, S., et al. (2023). Facial mimicry is not modulated by dopamine D2/3 and opioid receptor "
    "antagonism. Psychopharmacology.",
    "mne": "Gramfort, A., et al. (2013). MEG and EEG data analysis with MNE-Python. Frontiers in Neuroscience, 7, 267.",
    "lme4": "Bates, D., Maechler, M., Bolker, B., & Walker, S. (2015). Fitting linear mixed-effects models using "
    "lme4. Journal of Statistical Software, 67(1).",
    "lmertest": "Kuznetsova, A., Brockhoff, P. B., & Christensen, R. H. B. (2017). lmerTest package: Tests in "
    "linear mixed effects models. Journal of Statistical Software, 82(13).",
    "emmeans": "Lenth, R. V. emmeans: Estimated marginal means, aka least-squares means. R package.",
    "pymer4": "Jolly, E. (2018). Pymer4: Connecting R and Python for linear mixed modeling. Journal of Open "
    "Source Software, 3(31), 862.",
    "bambi": "Capretto, T., et al. (2022). Bambi: A simple interface for fitting Bayesian linear models in "
    "Python. Journal of Statistical Software, 103(15).",
    "pymc": "Abril-Pla, O., et al. (2023). PyMC: a modern, and comprehensive probabilistic programming framework "
    "in Python. PeerJ Computer Science, 9, e1516.",
    "arviz": "Kumar, R., Carroll, C., Hartikainen, A., & Martin, O. (2019). ArviZ a unified library for "
    "exploratory analysis of Bayesian models in Python. Journal of Open Source Software, 4(33), 1143.",
    "loo": "Vehtari, A., Gelman, A., & Gabry, J. (2017). Practical Bayesian model evaluation using leave-one-out "
    "cross-validation and WAIC. Statistics and Computing, 27, 1413-1432.",
    "snakemake": "Mölder, F., et al. (2021). Sustainable data analysis with Snakemake. F1000Research, 10, 33.",
}


#: how the text cites each reference: a reference is listed only when the text cites it
CITED_AS = {
    "korb": "Korb et al., 2023",
    "mne": "Gramfort et al., 2013",
    "lme4": "Bates et al., 2015",
    "lmertest": "Kuznetsova et al., 2017",
    "emmeans": "emmeans",
    "pymer4": "Jolly, 2018",
    "bambi": "Capretto et al., 2022",
    "pymc": "Abril-Pla et al., 2023",
    "arviz": "Kumar et al., 2019",
    "loo": "Vehtari et al., 2017",
    "snakemake": "Mölder et al., 2021",
}
#: the software of each stage, left out of the software paragraph when the stage did not run
STAGE_SOFTWARE = {"EMG preprocessing": ("mne", "mne-bids"), "Bayesian": ("bambi", "pymc", "nutpie", "arviz")}


def _number(value: float) -> str:
    return f"{value:g}"


def _versions(software: pd.DataFrame) -> dict[str, str]:
    """package -> the version found (one per package: the environments of one run agree on the venv route; under
    conda, where they could differ, the first environment that has it wins and the table lists them all)."""
    found = software.loc[software["found"] != "not installed"]
    return dict(found.drop_duplicates("package")[["package", "found"]].itertuples(index=False))


def _list(items: list[str], conjunction: str = "and") -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {conjunction} " + items[-1]


def data_paragraph(config: Mapping[str, Any]) -> str:
    study, simulation = config["study"], config["simulation"]
    groups = study["groups"]
    muscles = [f"{muscle} (channel {channel})" for muscle, channel in study["channels"].items()]
    envelopes = config["preprocessing"]["emg"]["input"] == "envelope"
    crossover = study["design"]["drug"] == "within"
    if simulation["enabled"]:
        counts = _list([f"{n} {group}" for group, n in simulation["participants_per_group"].items()])
        if crossover:
            counts = (
                f"{simulation['crossover']['participants']} participants, each recorded in {len(groups)} sessions "
                "in the sequences of a Williams design,"
            )
        else:
            counts += " participants,"
        signal = "EMG amplitude envelopes" if envelopes else "EMG"
        noise = "" if envelopes else f" with {_number(simulation['line_frequency'])}-Hz line noise"
        source = (
            f"The data were simulated by the workflow's study simulator (seed {simulation['seed']}): "
            f"{counts} {signal} of the {_list(muscles)} sampled at "
            f"{_number(simulation['sampling_frequency'])} Hz{noise}, written as a BIDS-EMG dataset."
        )
    elif config["dataset"]["tables"].get("emg_windows"):
        given = [path for key in ("emg_windows", "rt_trials") if (path := config["dataset"]["tables"].get(key))]
        source = f"The analysis started from already-preprocessed trial tables ({', '.join(given)})."
    else:
        source = (
            f"The BIDS-EMG dataset at {config['dataset']['bids_root']} (task '{study['task']}') was validated "
            f"against the study design before analysis; EMG channels: {_list(muscles)}."
        )
    trials = f"{study['trials_per_participant']} " if study["trials_per_participant"] else ""
    excluded = config["dataset"]["exclude_participants"]
    exclusion = f" Participants excluded by configuration: {', '.join(excluded)}." if excluded else ""
    design = (
        f"In a crossover, every participant received each of the {len(groups)} drugs ({_list(groups)}; reference: "
        f"{study['reference_group']}) in a session of its own, in counterbalanced order (the drug of each session "
        "from the participant's BIDS sessions file), and in each session watched"
        if crossover
        else f"Participants were in one of {len(groups)} drug groups ({_list(groups)}; reference: "
        f"{study['reference_group']}) and watched"
    )
    return f"{source} {design} {trials}{Study.from_config(study).stimulus} ({_list(study['emotions'])}).{exclusion}"


def emg_paragraph(emg: EmgSettings, versions: Mapping[str, str]) -> str:
    notch = (
        "at the line frequency given in each recording's sidecar"
        if emg.notch_harmonics == 1
        else "at the line frequency given in each recording's sidecar and its harmonics up to "
        f"{emg.notch_harmonics} times it"
    )
    rules = _list([RULE_WORDS[rule] for rule in emg.rules], "or")
    scope = (
        "a trial rejected in one muscle was dropped in both"
        if emg.scope == "trial"
        else "each muscle kept its own trials"
    )
    bad = (
        "excluded from the analysis, with the reason recorded"
        if emg.on_bad_recording == "exclude"
        else "a reason to stop the run"
    )
    filters = (
        "The recordings were amplitude envelopes, rectified and smoothed by the amplifier, and were not filtered "
        "further."
        if emg.input == "envelope"
        else f"The signals were band-pass filtered between {_number(emg.l_freq)} and "
        f"{_number(emg.h_freq)} Hz (zero-phase FIR filter, window design, transition bandwidths "
        f"{_number(emg.l_trans_bandwidth)} and {_number(emg.h_trans_bandwidth)} Hz), notch filtered {notch}, "
        f"full-wave rectified and smoothed with a {_number(emg.smoothing_h_freq)}-Hz zero-phase FIR low-pass filter "
        f"(transition bandwidth {_number(emg.smoothing_trans_bandwidth)} Hz)."
    )
    too_low = (
        "too low a sampling rate for the time-course bins" if emg.input == "envelope" else "too low a sampling rate"
    )
    return (
        f"EMG was preprocessed for each participant separately with MNE-Python {versions.get('mne', '')} "
        f"(Gramfort et al., 2013). {filters} Epochs from "
        f"{_number(emg.tmin)} to {_number(emg.tmax)} s around each video onset were extracted. A trial was "
        f"rejected as an outlier in a muscle when {'any of ' if len(emg.rules) > 1 else ''}{rules} lay more than "
        f"{_number(emg.n_sd)} SD from the participant's mean for that muscle; {scope}. Each remaining trial was "
        f"expressed as a proportion of its baseline (the mean of the {_number(-1000 * emg.tmin)} ms before onset; "
        f"proportions below {_number(emg.log_floor)} set to {_number(emg.log_floor)}), natural-log transformed and "
        f"averaged in {emg.n_windows} consecutive {_number(emg.window_s)}-s windows after video onset. Recordings "
        f"that could not be preprocessed (a flat channel: SD below {_number(emg.flat_sd_uv)} µV; missing channels; "
        f"{too_low}) were {bad}."
    )


def rt_paragraph(config: Mapping[str, Any]) -> str:
    n_sd = _number(config["preprocessing"]["rt"]["n_sd"])
    return (
        "Response times of correct trials were z-scored within each participant; trials more than "
        f"{n_sd} SD from the participant's mean were excluded as outliers, as were trials without a correct "
        "response (missed, wrong button, several responses)."
    )


CONTRAST_WORDS = {
    "sum": "sum-to-zero contrasts",
    "treatment": "treatment contrasts (the reference group and the first condition as baselines)",
}


def lmm_paragraph(
    config: Mapping[str, Any], versions: Mapping[str, str], response_times: bool = True, faces: bool = True
) -> str:
    """The LMMs as fitted: formulas from mimicry.lmm_specs (without face terms in a study without face ids)."""
    study = Study.from_config(config["study"])
    specs = lmm_specs(config, study, response_times=response_times, faces=faces)
    # one EMG model per muscle (the same formulas), the follow-up model, and the RT model if any
    emg, followup, rt = specs[0], specs[len(study.muscles)], specs[len(study.muscles) + 1 :]
    fallbacks = [f"`{f}`" for spec in (emg, followup, *rt) for f in spec.formulas[1:]]
    rt_model = f"; response times were modelled as `{rt[0].formulas[0]}`" if rt else ""
    no_faces = "" if faces else " The trials showed no more than one face identity, so no model had face effects."
    fallback = (
        f" Models that did not converge were refitted with, in order: {', '.join(fallbacks)}." if fallbacks else ""
    )
    check = (
        " A fit that lme4 warned about (convergence or a singular fit) was restarted from its optimum with each "
        "optimizer of lme4's `allFit` available, and a singular fit also from its variance components with every "
        "correlation set to 0; it was called stable when the refit with the best log-likelihood gave each F test "
        "the same denominator df (Satterthwaite), F and p at the precision reported, and every refit within "
        f"{LOGLIK_TOLERANCE:g} of that log-likelihood the same F, and its variance components at the boundary were "
        "named."
    )
    return (
        f"Linear mixed models (as in Korb et al., 2023) were fitted with lme4 {versions.get('lme4', '')} (Bates et "
        "al., 2015) in R "
        f"{versions.get('R', '')} through pymer4 {versions.get('pymer4', '')} (Jolly, 2018). Factors had "
        f"{CONTRAST_WORDS[config['statistics']['contrasts']]}; time was the window number (1 to "
        f"{config['preprocessing']['emg']['windows']['count']}) as a numeric predictor. Log EMG of each muscle "
        f"was modelled as `{emg.formulas[0]}`; the "
        f"{followup.muscle} response to {followup.emotion} videos was followed up with "
        f"`{followup.formulas[0]}`{rt_model}. Fixed effects were "
        f"tested with type-III F tests with Satterthwaite degrees of freedom (lmerTest {versions.get('lmerTest', '')};"
        f" Kuznetsova et al., 2017), and the slope of time per emotion was estimated with emmeans "
        f"{versions.get('emmeans', '')} (`emtrends`, {config['statistics']['trend_df']} degrees of freedom)."
        f"{no_faces}{fallback}{check}"
    )


def bayes_paragraph(
    bayes: Mapping[str, Any],
    versions: Mapping[str, str],
    diagnostics: pd.DataFrame | None = None,
    crossover: bool = False,
) -> str:
    """``bayes``: the validated ``statistics.bayes`` section; ``diagnostics``: the run's models, one row each (their
    gate verdicts end the paragraph); ``crossover``: the drug varied within participants."""
    priors, gate = Priors.from_config(bayes), Diagnostics.from_config(bayes["diagnostics"])
    sampling = Sampling.from_config(bayes, cores=1)  # the cores a fit had do not enter the text
    full = formulas("full", priors.b_intercept)
    if sampling.parameterization == "marginal":
        structure = "independent" if sampling.variant == "bambi" else "correlated across cells as in brms"
        implementation = (
            f"in PyMC {versions.get('pymc', '')} (Abril-Pla et al., 2023), with the participant effects {structure}; "
            "the participant effects of a and b were integrated out of the likelihood analytically (for fixed c "
            "the curve is linear in a and b) and drawn afterwards from their exact conditional distribution "
            "given each posterior draw, so that only the effects of c and the population parameters were sampled"
        )
    elif sampling.variant == "bambi":
        implementation = (
            f"in Bambi {versions.get('bambi', '')} (Capretto et al., 2022) with a custom likelihood "
            "whose distributional parameters are a, b and c; the participant effects were independent"
        )
    else:
        implementation = (
            f"in PyMC {versions.get('pymc', '')} (Abril-Pla et al., 2023), with the participant "
            "effects of each parameter correlated as in brms"
        )
    correlation = (
        f", and an LKJ({_number(priors.lkj_eta)}) prior on their correlations" if sampling.variant == "brms" else ""
    )
    start = (
        f", b's fixed effects Normal({_number(priors.asymptote_mu)}, {_number(priors.asymptote_sigma)})"
        if priors.b_intercept
        else ""
    )
    sampler = f"nutpie {versions.get('nutpie', '')}" if sampling.sampler == "nutpie" else "PyMC's NUTS sampler"
    level = (
        "the mean log EMG per participant, muscle, emotion and window"
        if bayes["data_level"] == "participant"
        else "every kept trial's window value"
    )
    nested = "; ".join(f"{MODEL_LABELS[m].lower()} ({', '.join(NESTED_MODELS[m]) or 'none'})" for m in NESTED_MODELS)
    divergences = "no" if gate.max_divergences == 0 else f"at most {gate.max_divergences}"
    findings = _list([MODEL_LABELS[m].lower() for m in FINDINGS_MODELS])
    verdict = (
        "a fit that missed a criterion was kept and reported as not converged"
        if gate.on_failure == "mark"
        else f"a fit that missed a criterion stopped the analysis if the findings rest on it ({findings}), and was "
        "otherwise reported as not converged and given no weight in the model comparison"
    )
    return (
        f"The time course of {level} was modelled with a Bayesian asymptotic regression (Korb et al., 2023), "
        f"y = a − (a − b)·exp(−exp(c)·t) with t = window − 1, a the asymptote, b the start and c the log rate, "
        f"implemented {implementation}. The non-linear parameters were a ~ `{full['a']}`, b ~ `{full['b']}` and "
        f"c ~ `{full['c']}`, with a Gaussian likelihood. Priors: a's fixed effects Normal("
        f"{_number(priors.asymptote_mu)}, {_number(priors.asymptote_sigma)}){start}, c's fixed effects "
        f"Normal({_number(priors.rate_mu)}, {_number(priors.rate_sigma)}), every participant-effect SD "
        f"Half-Normal({_number(priors.random_sd)}), the residual SD Half-Normal("
        f"{_number(priors.residual_sd)}){correlation}. Four nested models were fitted, the drug entering the "
        f"parameters named: {nested}.{crossover_words(priors) if crossover else ''} Each was sampled with "
        f"{sampler}: {sampling.chains} chains of "
        f"{sampling.iterations} iterations ({sampling.warmup} warm-up, {sampling.draws} draws kept per chain), "
        f"target acceptance {_number(sampling.target_accept)}, seed {sampling.seed}. A fit was accepted when every "
        f"fixed effect, participant-effect SD, participant effect and the residual SD had a rank-normalised R-hat "
        f"below {_number(gate.max_rhat)} and a bulk "
        f"effective sample size of at least {_number(gate.min_ess_bulk)}, with "
        f"{divergences} divergent transitions (ArviZ {versions.get('arviz', '')}; Kumar et al., 2019); {verdict}. "
        f"Posterior summaries are "
        f"means and {_number(100 * bayes['hdi_prob'])}% highest-density intervals; each drug was compared with the "
        f"reference group by the posterior of the difference in asymptote and in log rate per muscle and emotion "
        f"(highest-density interval and probability of direction). The models were compared by WAIC "
        f"and PSIS-LOO (Vehtari et al., 2017), with weights exp(−ΔIC/2) as brms's `model_weights` and stacking "
        f"weights, and by leave-one-participant-out cross-validation (each participant's effects integrated "
        f"out), a criterion being flagged unreliable when more than 10% of its Pareto k exceeded 0.7. "
        + model_checks(bayes)
    ) + (gate_outcome(diagnostics) if diagnostics is not None else "")


def crossover_words(priors: Priors) -> str:
    """How the asymptotic model treats a crossover, as the methods text says it."""
    return (
        " In this crossover the drug was each session's; a participant's effects on a, b and c were shared by their "
        "sessions, and the asymptote had each session's own deviation (participant x session x muscle x emotion, "
        f"SD per muscle and emotion with a Half-Normal({_number(priors.random_sd)}) prior), integrated out of the "
        "likelihood with the participant effects of a and b."
    )


def model_checks(bayes: Mapping[str, Any]) -> str:
    """The prior and posterior predictive checks and the prior sensitivity, as the methods text says them."""
    hdi = bayes["hdi_prob"]
    return (
        f"A prior predictive check drew {bayes['prior_predictive_draws']} data sets from the priors. A posterior "
        "predictive check replicated each drug group's mean of its participants' window means per muscle, emotion "
        "and window with new participants drawn from each fitted model (1000 posterior draws); a model was said "
        f"to miss the data when more of those means lay outside their {_number(100 * hdi)}% interval than the "
        f"binomial 95% quantile at a {_number(1 - hdi)} chance per mean, and its leave-one-out probability "
        "integral transforms (LOO-PIT) were tested against the uniform distribution (Kolmogorov-Smirnov, p < 0.01 "
        "flagged). The sensitivity of every population parameter and drug contrast to the prior and to the "
        "likelihood was measured by power-scaling (Kallioinen et al., 2024; arviz-stats' `psense`, the top-level "
        "priors scaled), a sensitivity of 0.05 or more counting as dependence."
    )


def gate_outcome(diagnostics: pd.DataFrame) -> str:
    """Which models of this run passed the convergence gate, and how the others missed it (one sentence)."""
    failed = diagnostics.loc[~diagnostics["converged"].astype(bool)]
    if failed.empty:
        return f" All {len(diagnostics)} models passed."
    named = "; ".join(f"the {MODEL_LABELS[row.model].lower()} model ({row.problems})" for row in failed.itertuples())
    if len(failed) == len(diagnostics):
        return f" No model passed: {named}; every estimate and weight is provisional."
    return f" Of the {len(diagnostics)} models, {len(failed)} did not pass: {named}; they were given no weight."


def software_paragraph(versions: Mapping[str, str], unused: Sequence[str] = ()) -> str:
    """The software that ran (``unused``: packages of stages that did not run, left out)."""
    python = [
        f"{name} {versions[key]}"
        for name, key in (
            ("NumPy", "numpy"),
            ("SciPy", "scipy"),
            ("pandas", "pandas"),
            ("MNE-Python", "mne"),
            ("MNE-BIDS", "mne-bids"),
            ("pymer4", "pymer4"),
            ("rpy2", "rpy2"),
            ("Bambi", "bambi"),
            ("PyMC", "pymc"),
            ("nutpie", "nutpie"),
            ("ArviZ", "arviz"),
            ("Matplotlib", "matplotlib"),
        )
        if key in versions and key not in unused
    ]
    r = [f"{name} {versions[name]}" for name in ("lme4", "lmerTest", "emmeans") if name in versions]
    python_part = f"Python {versions.get('python', '')}" + (f" ({_list(python)})" if python else "")
    r_part = f"R {versions.get('R', '')}" + (f" ({_list(r)})" if r else "")
    return (
        f"The analysis ran as a Snakemake {versions.get('snakemake', '')} workflow (Mölder et al., 2021; "
        f"workflow package mimicry {versions.get('mimicry', '')}) in {python_part} and {r_part}."
    )


def methods_text(
    config: Mapping[str, Any],
    software: pd.DataFrame,
    config_sha256: str,
    response_times: bool = True,
    faces: bool = True,
    n_windows: int | None = None,
    diagnostics: pd.DataFrame | None = None,
) -> str:
    """The methods section (Markdown) for the run that used ``config`` with ``software`` (SOFTWARE_COLUMNS), on a
    study with or without ``response_times`` and face identities (``faces``), with ``n_windows`` time windows
    (default: the config's count; fewer than three: no Bayesian models) and the Bayesian models' ``diagnostics``
    (one row per model: which passed the convergence gate)."""
    versions = _versions(software)
    sections = [
        ("Data", data_paragraph(config)),
        ("EMG preprocessing", emg_paragraph(EmgSettings.from_config(config["preprocessing"]["emg"]), versions)),
        ("Response times", rt_paragraph(config)),
        ("Linear mixed models", lmm_paragraph(config, versions, response_times, faces)),
        (
            "Bayesian asymptotic regression",
            bayes_paragraph(
                config["statistics"]["bayes"], versions, diagnostics, config["study"]["design"]["drug"] == "within"
            ),
        ),
        ("Software", software_paragraph(versions)),
    ]
    if config["dataset"]["tables"].get("emg_windows"):
        sections = [s for s in sections if s[0] not in ("EMG preprocessing", "Response times")]
    if not response_times:
        sections = [s for s in sections if s[0] != "Response times"]
    skipped = asymptotic_skipped(n_windows or config["preprocessing"]["emg"]["windows"]["count"])
    if skipped:
        sections = [(title, skipped if title.startswith("Bayesian") else text) for title, text in sections]
    ran = " ".join(title for title, _ in sections if not (skipped and title.startswith("Bayesian")))
    unused = [package for stage, packages in STAGE_SOFTWARE.items() if stage not in ran for package in packages]
    sections = [(t, software_paragraph(versions, unused) if t == "Software" else text) for t, text in sections]
    lines = [
        "# Methods",
        "",
        "*Generated by the mimicry workflow from the configuration this run used (SHA-256 "
        f"`{config_sha256[:16]}`); the numbers below are that configuration's, not defaults.*",
        "",
    ]
    for title, text in sections:
        lines += [f"## {title}", "", text, ""]
    body = "\n".join(lines)
    lines += ["## References", ""] + [f"- {text}" for key, text in REFERENCES.items() if CITED_AS[key] in body]
    return "\n".join(lines) + "\n"
