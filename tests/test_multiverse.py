"""The multiverse: its forks and universes from config, the choices only it has (each pinned to a hand
computation), and every universe's window means per participant, the main analysis's universe to the bit."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from helpers import lay_scenario, run_snakemake
from mimicry.bayes.model import model_data
from mimicry.config import SCHEMA, load_config
from mimicry.lmm import fit_lmm_here
from mimicry.multiverse.estimands import Estimand, Summaries, indicators, statistics, summaries
from mimicry.multiverse.forks import (
    bayes_universes,
    collapsed_forks,
    fork_problems,
    main_settings,
    multiverse_problems,
    universes,
)
from mimicry.multiverse.joint import joint_tests
from mimicry.multiverse.signal import baseline_corrected, moving_rms, range_reasons, rms_samples
from mimicry.outliers import OUTSIDE
from mimicry.rsession import call_in_fresh_r

MULTIVERSE = load_config("config/multiverse.yaml")
RULES = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))


def test_moving_rms_is_the_centred_root_mean_square() -> None:
    signal = np.array([0.0, 0.0, 3.0, 4.0, 0.0, 0.0])
    # squares 0 0 9 16 0 0, means of three centred on each sample (0 beyond the ends)
    expected = np.sqrt([0.0, 3.0, 25 / 3, 25 / 3, 16 / 3, 0.0])
    np.testing.assert_allclose(moving_rms(signal, 3), expected, rtol=1e-12, atol=1e-12)
    assert rms_samples(0.1, 1200.0) == 121 and rms_samples(0.1, 1000.0) == 101 and rms_samples(0.1, 2048.0) == 205


def test_the_range_rule_rejects_a_range_beyond_three_medians() -> None:
    data = np.zeros((5, 1, 4))
    data[:, 0, 1] = [1.0, 1.2, 0.8, 10.0, np.nan]  # ranges 1, 1.2, 0.8, 10; the fifth trial is outside the recording
    valid = np.array([True, True, True, True, False])
    reasons = range_reasons(data, valid, 3.0)
    assert list(reasons[:, 0]) == ["", "", "", "range", OUTSIDE]
    # median range 1.1: 3.3 is the limit, so a range of 3.2 stays
    data[3, 0, 1] = 3.2
    assert list(range_reasons(data, valid, 3.0)[:, 0]) == ["", "", "", "", OUTSIDE]


def test_baselines_by_subtraction_and_z_score() -> None:
    times = np.array([-0.2, -0.1, 0.1, 0.2])
    data = np.array([[[1.0, 3.0, 4.0, 6.0]], [[2.0, 2.0, 2.0, 4.0]]]) * 1e-6  # two trials, one muscle, in V
    kept = np.array([[True], [True]])
    change, floored = baseline_corrected(data, times, kept, "subtract", 0.01)
    np.testing.assert_allclose(change[:, 0], [[-1.0, 1.0, 2.0, 4.0], [0.0, 0.0, 0.0, 2.0]], atol=1e-9)
    assert floored.tolist() == [0]
    z, _ = baseline_corrected(data, times, kept, "zscore", 0.01)
    sd = np.std([1, 3, 4, 6, 2, 2, 2, 4], ddof=1) * 1e-6  # over every sample of the kept trials
    np.testing.assert_allclose(z[:, 0], (data[:, 0] - data[:, 0, :2].mean(axis=1, keepdims=True)) / sd, rtol=1e-12)
    # a rejected trial's samples do not count in the SD
    z_one, _ = baseline_corrected(data, times, np.array([[True], [False]]), "zscore", 0.01)
    np.testing.assert_allclose(z_one[0, 0], np.array([-1.0, 1.0, 2.0, 4.0]) / np.std([1, 3, 4, 6], ddof=1), rtol=1e-9)
    proportion, _ = baseline_corrected(data, times, kept, "log_proportion", 0.01)
    np.testing.assert_allclose(proportion[0, 0], np.log([0.5, 1.5, 2.0, 3.0]), rtol=1e-12)


def test_the_default_multiverse_has_432_universes_the_main_analysis_first() -> None:
    assert fork_problems(MULTIVERSE, RULES) == []
    found = universes(MULTIVERSE)
    assert len(found) == 3 * 2 * 3 * 3 * 4 * 2 == 432 and [u.number for u in found] == list(range(1, 433))
    main = found[0]
    assert main.settings == main_settings(MULTIVERSE) and set(main.choices.values()) == {
        fork["main"] for fork in MULTIVERSE["multiverse"]["forks"].values()
    }
    assert len({yaml.safe_dump(dict(u.settings)) for u in found}) == 432  # every universe differs
    rms = [u for u in found if u.choices["envelope"] == "moving RMS 100 ms"]
    assert len(rms) == 144 and all(u.settings["smoothing"]["method"] == "rms" for u in rms)
    assert all(u.settings["smoothing"]["h_freq"] == 40.0 for u in rms)  # untouched keys keep the main value


def test_exclusions_and_envelope_recordings_shrink_the_multiverse() -> None:
    config = copy.deepcopy(MULTIVERSE)
    config["multiverse"]["exclude"] = [{"envelope": "moving RMS 100 ms", "window": "0.5 s"}]
    assert fork_problems(config, RULES) == [] and len(universes(config)) == 432 - 72
    config["preprocessing"]["emg"]["input"] = "envelope"
    assert collapsed_forks(config) == ["bandpass", "notch", "envelope"]
    kept = universes(config)
    assert len(kept) == 3 * 4 * 2 and {u.choices["bandpass"] for u in kept} == {"20-400 Hz"}


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda f: f["bandpass"]["options"]["20-500 Hz"].update(highpass=1.0), "sets highpass, which is not a"),
        (lambda f: f["notch"].update(main="no notch"), "main option 'no notch' sets notch_harmonics to 0, but"),
        (lambda f: f["window"]["options"]["0.5 s"].update(baseline="zscore"), "both set baseline"),
        (lambda f: f["outliers"]["options"]["3 SD (four rules)"]["rejection"].update(n_sd=-1), "n_sd: -1 is less"),
        (lambda f: f["outliers"].update(main="two SD"), "main is 'two SD', not one of its options"),
    ],
)
def test_a_wrong_fork_is_named_with_its_option_key_and_fix(change, said: str) -> None:
    config = copy.deepcopy(MULTIVERSE)
    change(config["multiverse"]["forks"])
    problems = fork_problems(config, RULES)
    assert any(said in problem for problem in problems), problems


def test_wrong_exclusions_and_a_missing_multiverse_are_refused() -> None:
    config = copy.deepcopy(MULTIVERSE)
    config["multiverse"]["exclude"] = [{"envelope": "Hilbert", "window": "1 s"}, {"notch": "line-frequency notch"}]
    problems = fork_problems(config, RULES)
    assert "multiverse.exclude[0]: fork envelope has no option 'Hilbert'" in problems
    assert "multiverse.exclude[1] excludes the main analysis's universe" in problems
    assert "--configfile config/multiverse.yaml" in multiverse_problems(load_config(), from_tables=False)[0]
    config = copy.deepcopy(MULTIVERSE)
    config["multiverse"]["bayes_universes"] = [
        {"notch": "no notch"},
        {"baseline": "subtraction"},
        {"notch": "line-frequency notch"},
        {"window": "2 s"},
    ]
    numbers, problems = bayes_universes(config, universes(config))
    assert numbers == [73]  # the main analysis without the notch
    assert problems == [
        "multiverse.bayes_universes[1] has the baseline subtract: the asymptotic model's priors are on the "
        "log-proportion scale; choose a universe with that baseline",
        "multiverse.bayes_universes[2] is the main analysis, whose Bayesian contrasts are its own",
        "multiverse.bayes_universes[3]: no such fork and option (window: 2 s)",
    ]
    assert "dataset.tables" in multiverse_problems(MULTIVERSE, from_tables=True)[0]


@pytest.mark.workflow
def test_a_tiny_multiverse_runs_end_to_end_into_the_report(test_run: Path, tmp_path: Path) -> None:
    """A tiny multiverse on the test run (36 universes, 50 permutations) with `report.multiverse: true`: every
    universe's window means for every participant, the main analysis's universe equal to the main analysis's
    participant means to the bit; the rejection rates as the rules order them; the estimates, the joint test, the
    decisions, the figures, the report's section and findings; a second run has nothing to do."""
    project = tmp_path / "project"
    shutil.copytree(test_run, project, symlinks=True, ignore=shutil.ignore_patterns("conda", "singularity"))
    overlay = lay_scenario(project, "tiny_multiverse")
    run_snakemake(project, "--cores", "2", "--configfile", overlay)
    results = project / "results/multiverse"
    table = pd.read_csv(results / "universes.tsv", sep="\t")
    assert len(table) == 36 and table["main"].tolist() == [True] + [False] * 35
    by_rule = table.groupby("outliers")["rejected"].sum()
    assert by_rule["none"] == 0 < by_rule["range rule"] and by_rule["2 SD"] > 0
    means = pd.read_parquet(results / "means.parquet")
    main = model_data(pd.read_parquet(project / "results/preprocessing/emg_windows.parquet"), "participant")
    mine = means[means["universe"] == 1].reset_index(drop=True)
    keys = ["participant", "muscle", "emotion", "window"]
    assert mine[keys].astype(str).equals(main[keys].astype(str))
    assert np.array_equal(mine["response"].to_numpy(), main["log_emg"].to_numpy())
    # every universe has a mean for each participant x muscle x emotion x window of its own windows
    windows = table.set_index("universe")["window"].map({"1 s": 5, "0.5 s": 10})
    assert (means.groupby("universe").size() == len(main) // 5 * windows).all()
    specifications = pd.read_csv(results / "specifications.tsv", sep="\t")
    assert len(specifications) == 36 * 6 and specifications["p"].between(0, 1).all()
    joint = pd.read_csv(results / "joint_test.tsv", sep="\t")
    assert len(joint) == 6 * 3 and (joint["permutations"] == 50).all() and joint["p"].between(1 / 51, 1).all()
    assert set(pd.read_csv(results / "decisions.tsv", sep="\t")["fork"]) == {"notch", "outliers", "baseline", "window"}
    assert (results / "specification_curve.png").stat().st_size > 20_000
    findings = pd.read_csv(project / "results/report/findings.tsv", sep="\t")
    said = findings.loc[findings["topic"] == "Multiverse", "statement"]
    assert len(said) == 6 and said.str.contains("of 36 universes").all()
    contrasts = pd.read_csv(results / "bayes_contrasts.tsv", sep="\t")
    other = contrasts[contrasts["universe"] != 1]
    assert contrasts["universe"].nunique() == 2 and set(other["notch"]) == {"no notch"}
    assert set(other["outliers"]) == {"2 SD"} and set(other["window"]) == {"1 s"}
    main_contrasts = pd.read_csv(project / "results/bayes/full/contrasts.tsv", sep="\t")
    assert len(other) == len(main_contrasts) == len(contrasts) / 2
    assert "Multiverse: does the conclusion hold?" in (project / "results/study_report.html").read_text()
    again = run_snakemake(project, "-n", "--configfile", overlay)
    assert "Nothing to be done" in again.stdout + again.stderr


def _planted_means(seed: int = 3, participants: int = 36) -> pd.DataFrame:
    """Participant means of one universe: 2 emotions x 5 windows, participant intercepts and slopes that vary."""
    rng = np.random.default_rng(seed)
    groups = ["amisulpride", "naltrexone", "placebo"]
    rows = []
    for k in range(participants):
        group = groups[k % 3]
        level = rng.normal(0, 0.3, 2)
        slope = rng.normal([0.05, -0.02], 0.08) + (0.04 if group == "amisulpride" else 0.0)
        for e, emotion in enumerate(["AngryToHappy", "HappyToAngry"]):
            for window in range(1, 6):
                response = level[e] + slope[e] * window + rng.normal(0, 0.05)
                rows.append((1, f"{k:03d}", group, "zygomaticus", emotion, window, response))
    return pd.DataFrame(rows, columns=["universe", "participant", "group", "muscle", "emotion", "window", "response"])


@pytest.mark.validation
def test_the_least_squares_estimands_are_the_lmms_on_participant_means() -> None:
    """On complete participant means the two-stage estimates are lme4/lmerTest's: the drug x time coefficient
    (estimate, t, df, p), the omnibus emotion x drug x time F and the emotion x time F (t squared)."""
    means = _planted_means()
    groups = ["amisulpride", "naltrexone", "placebo"]
    found = summaries(
        means,
        pd.DataFrame({"universe": [1]}),
        {1: 1.0},
        {1: "log_proportion"},
        ["AngryToHappy", "HappyToAngry"],
        ["zygomaticus"],
        groups,
        ("zygomaticus", "AngryToHappy"),
    )
    indicator = indicators(found.groups, 3)
    drug = {k: float(v[0]) for k, v in statistics(found.values["followup"], indicator, "drug", 0, 2).items()}
    mimicry = found.values["mimicry:zygomaticus"]
    omnibus = {k: float(v[0]) for k, v in statistics(mimicry, indicator, "omnibus").items()}
    control = {k: float(v[0]) for k, v in statistics(mimicry, indicator, "control").items()}
    data = means.rename(columns={"group": "drug", "response": "log_emg"}).assign(time=means["window"].astype(float))
    factors = {"drug": ["placebo", "amisulpride", "naltrexone"], "emotion": ["AngryToHappy", "HappyToAngry"]}
    followup = call_in_fresh_r(
        fit_lmm_here,
        data[data["emotion"] == "AngryToHappy"],
        "log_emg ~ drug * time + (1 + time | participant)",
        factors,
        contrasts="treatment",
    )
    assert not followup.warnings
    row = followup.fixed_effects.set_index("term").loc["drugamisulpride:time"]
    assert drug["estimate"] == pytest.approx(row["estimate"], rel=1e-6)
    assert drug["statistic"] == pytest.approx(row["t"], rel=1e-5) and drug["p"] == pytest.approx(row["p"], rel=1e-5)
    assert drug["df_den"] == pytest.approx(row["df"], abs=1e-3)
    full = call_in_fresh_r(
        fit_lmm_here, data, "log_emg ~ emotion * drug * time + (1 + emotion * time | participant)", factors
    )
    anova = full.anova.set_index("term")
    # to lme4's optimum, which its optimizer finds to a tolerance here (den df 33.0005 where the exact is 33)
    assert omnibus["statistic"] == pytest.approx(anova.at["emotion:drug:time", "F"], rel=1e-4)
    assert omnibus["p"] == pytest.approx(anova.at["emotion:drug:time", "p"], rel=1e-4)
    assert control["statistic"] ** 2 == pytest.approx(anova.at["emotion:time", "F"], rel=1e-4)
    assert control["p"] == pytest.approx(anova.at["emotion:time", "p"], rel=1e-3)  # p ~ 2e-6: the tail magnifies it


def _null_summaries(rng: np.random.Generator, shift: float = 0.0) -> Summaries:
    """A study's participant summaries in 40 universes (60 participants, 3 groups of 20) that share 90% of their
    variance, as universes of one recording do; ``shift`` SDs added to the first group's."""
    shared = rng.normal(size=(1, 60))
    values = np.sqrt(0.9) * shared + np.sqrt(0.1) * rng.normal(size=(40, 60))
    groups = np.repeat([0, 1, 2], 20)
    values[:, groups == 0] += shift
    return Summaries(np.arange(1, 41), [f"{k:03d}" for k in range(60)], groups, ["a", "b", "c"], {"s": values}, {})


@pytest.mark.validation
def test_the_joint_test_holds_its_false_positive_rate_and_finds_a_planted_effect() -> None:
    """Over 200 null studies (summaries of 40 strongly correlated universes, no group difference) the joint
    test's Stouffer's Z rejects at .05 in a share whose exact 95% interval covers .05, though most universes of a
    study agree; with the first group shifted by 0.8 SD it rejects in most of 50 studies. (The forks here all act
    before the window values, so the null is drawn at the level of the summaries: what this checks is the
    permutation inference across correlated universes, not the preprocessing.)"""
    from scipy import stats

    rng = np.random.default_rng(11)
    drug = [Estimand("a - c", "drug", "s", "m", "a - c", "a")]

    def rejected(shift: float) -> bool:
        joint = joint_tests(_null_summaries(rng, shift), drug, "c", 100, int(rng.integers(1 << 30)), 0.05)
        return bool(joint.loc[joint["statistic"] == "Stouffer's Z", "p"].item() < 0.05)

    nulls = sum(rejected(0.0) for _ in range(200))
    interval = stats.binomtest(nulls, 200).proportion_ci(0.95, method="exact")
    assert interval.low <= 0.05 <= interval.high, (nulls, interval)
    assert sum(rejected(0.8) for _ in range(50)) >= 40


@pytest.mark.unit
def test_null_studies_plant_no_drug_and_count_rejections_exactly() -> None:
    """A null study's simulator: every group of the asked size, no drug effect whatever the config plants, its
    own seed; the rejection rates: per estimand and statistic, the studies at or below alpha, Clopper-Pearson."""
    from scipy import stats

    from mimicry.multiverse.null_studies import null_simulation, rejection_rates, study_seed

    planted = copy.deepcopy(MULTIVERSE)
    planted["simulation"]["drug_effects"] = [
        {"group": "amisulpride", "muscle": "zygomaticus", "emotion": "AngryToHappy", "a": -0.09}
    ]
    simulation = null_simulation(planted, study_seed(1, 2), 4)
    assert simulation.drug_effects == () and dict(simulation.participants_per_group) == dict.fromkeys(
        MULTIVERSE["study"]["groups"], 4
    )
    assert len({study_seed(1, k) for k in range(1, 101)} | {study_seed(2, 1)}) == 101
    joint = pd.DataFrame(
        {"estimand": ["d"] * 4 + ["c"] * 4, "statistic": "Z", "p": [0.01, 0.05, 0.2, 0.9, 0.001, 0.002, 0.3, 0.04]}
    )
    rates = rejection_rates(joint, 0.05).set_index("estimand")
    assert rates.loc["d", ["studies", "rejected", "rate"]].tolist() == [4, 2, 0.5]
    assert rates.loc["c", "rejected"] == 3
    # Clopper-Pearson for 2 of 4: the beta quantiles
    assert rates.loc["d", "ci_low"] == pytest.approx(stats.beta.ppf(0.025, 2, 3))
    assert rates.loc["d", "ci_high"] == pytest.approx(stats.beta.ppf(0.975, 3, 2))


@pytest.mark.validation
def test_a_null_study_runs_from_raw_recordings_deterministically(tmp_path: Path) -> None:
    """One null study of the tiny multiverse (36 universes, 2 participants per group) from simulated raw
    recordings: a joint test per estimand and statistic, the same numbers from the same seed, another study's
    differ, and its recordings are gone when it is done."""
    from mimicry.multiverse.joint import JOINT_STATISTICS
    from mimicry.multiverse.null_studies import null_study

    config = load_config("config/config.yaml", "tests/configs/tiny_multiverse.yaml")
    first = null_study(config, 1, 7, 2, tmp_path)
    assert list(tmp_path.iterdir()) == []
    assert len(first) == 6 * len(JOINT_STATISTICS) and first["study"].eq(1).all()
    assert first["p"].between(0, 1, inclusive="right").all() and first["permutations"].eq(50).all()
    pd.testing.assert_frame_equal(first, null_study(config, 1, 7, 2, tmp_path))
    assert not np.allclose(first["observed"], null_study(config, 2, 7, 2, tmp_path)["observed"])
