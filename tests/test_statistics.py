"""Group statistics I: Table 1, rejection comparisons, LMMs through pymer4 checked against plain R, figures."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers import DEFAULT, ROOT, planted_window_trials
from mimicry.findings import table1_findings
from mimicry.lmm import emg_model_data, fit_lmm
from mimicry.rsession import run_in_fresh_r
from mimicry.table1 import NOT_TESTED, Table1Rows, format_table1, table1, table1_notes

GROUPS = ["amisulpride", "naltrexone", "placebo"]
EMG_FORMULA = DEFAULT["statistics"]["emg"]["formula"]
PAPERS_ROWS = Table1Rows.from_config(DEFAULT["statistics"]["table1"])
FACTORS = {"emotion": ["AngryToHappy", "HappyToAngry"], "drug": GROUPS}


def test_table1_tests_are_the_papers() -> None:
    """The paper's group sizes 42/44/44 give its chi-square(2) = 0.06 for N; ANOVAs match scipy's by hand."""
    rng = np.random.default_rng(0)
    rows = []
    for group, n in zip(GROUPS, (42, 44, 44), strict=True):
        for i in range(n):
            rows.append(
                dict(
                    participant=f"{group[:2]}{i}",
                    group=group,
                    sex="F" if i % 3 else "M",
                    age=20 + rng.integers(0, 10),
                    bmi=22.0,
                    hours_from_pill=4.2,
                    panas_pos_t1=30,
                    panas_pos_t2=27,
                    panas_neg_t1=12,
                    panas_neg_t2=11,
                    guess="placebo" if i % 2 else group,
                    nausea_t1=1,
                    nausea_t2=1,
                )
            )
    participants = pd.DataFrame(rows)
    cells, tests = table1(participants, GROUPS, "placebo", PAPERS_ROWS)
    n_test = tests.set_index("variable").loc["N"]
    assert n_test["statistic"] == pytest.approx(0.0615, abs=1e-3) and n_test["df1"] == 2
    age = tests.set_index("variable").loc["Age"]
    expected = stats.f_oneway(*[participants.loc[participants["group"] == g, "age"] for g in GROUPS])
    assert age["statistic"] == pytest.approx(expected.statistic) and age["df2"] == 127
    correct = cells[(cells["variable"] == "% correct guess")].set_index("group")["value"]
    assert correct["placebo"] == pytest.approx(100.0)  # placebo participants who guess placebo are right
    readable = format_table1(cells, tests, GROUPS)
    assert list(readable.columns) == ["variable", *GROUPS, "Total", "p"]


def test_table1_keeps_the_rows_it_cannot_test_and_says_why() -> None:
    """Another lab's participants.tsv: only the group, sex, age, a nausea rating everyone gave as 1 and a guess
    column left empty. The rows without data stay, as n/a and not tested with the reason; the rest are tested."""
    rng = np.random.default_rng(1)
    participants = pd.DataFrame(
        {
            "participant": [f"{i:03d}" for i in range(30)],
            "group": [GROUPS[i % 3] for i in range(30)],
            "sex": ["F" if i % 2 else "M" for i in range(30)],
            "age": rng.normal(25, 3, 30),
            "nausea_t1": 1.0,
            "guess": np.nan,
        }
    )
    cells, tests = table1(participants, GROUPS, "placebo", PAPERS_ROWS)
    tests = tests.set_index("variable")
    assert tests.loc["Age", "test"] == "one-way ANOVA" and tests.loc["Age", "df2"] == 27
    assert tests.loc["N females", "p"] == pytest.approx(1.0)
    why = {
        "BMI": "no column 'bmi'",
        "PANAS+ (t1-t2)": "no column 'panas_pos_t1', 'panas_pos_t2'",
        "Nausea (t1)": "the same value for every participant",
        "N guess placebo": "no value in 'guess'",
        "% correct guess": "no value in 'guess'",
    }
    for variable, reason in why.items():
        assert tests.loc[variable, "test"] == NOT_TESTED and np.isnan(tests.loc[variable, "p"]), variable
        assert reason in tests.loc[variable, "note"], (variable, tests.loc[variable, "note"])
    readable = format_table1(cells, tests.reset_index(), GROUPS).set_index("variable")
    assert (readable.loc["BMI"] == "n/a").all() and readable.loc["Nausea (t1)", "p"] == "n/a"
    assert readable.loc["Nausea (t1)", "Total"] == "1.00 (0.00)"
    notes = table1_notes(tests.reset_index())
    assert "BMI: not tested (participants.tsv has no column 'bmi')" in notes and len(notes) == len(tests) - 4
    (statement,) = table1_findings(tests.reset_index(), 0.05)
    assert "did not differ" in statement and "Not tested" in statement and "BMI" in statement


def test_table1_has_the_rows_a_lab_configures() -> None:
    """statistics.table1 as another lab sets it: its own count and continuous rows, no blinding rows; the table
    has N and exactly those rows, in that order, each tested."""
    rng = np.random.default_rng(2)
    participants = pd.DataFrame(
        {
            "participant": [f"{i:03d}" for i in range(24)],
            "group": ["oxytocin", "placebo"] * 12,
            "session": ["morning", "afternoon", "afternoon"] * 8,
            "age": rng.normal(25, 3, 24),
            "anxiety_pre": rng.normal(40, 5, 24),
            "anxiety_post": rng.normal(38, 5, 24),
        }
    )
    rows = Table1Rows.from_config(
        {
            "counts": [{"label": "N morning", "column": "session", "value": "morning"}],
            "continuous": [
                {"label": "Age", "columns": ["age"]},
                {"label": "STAI (pre-post)", "columns": ["anxiety_pre", "anxiety_post"]},
            ],
            "guess": None,
        }
    )
    cells, tests = table1(participants, ["oxytocin", "placebo"], "placebo", rows)
    assert tests["variable"].tolist() == ["N", "N morning", "Age", "STAI (pre-post)"]
    assert (tests["test"] != NOT_TESTED).all()
    morning = cells.set_index(["variable", "group"]).loc["N morning", "value"]
    assert morning.to_dict() == {"oxytocin": 4.0, "placebo": 4.0, "Total": 8.0}
    difference = cells.set_index(["variable", "group"]).loc[("STAI (pre-post)", "Total"), "value"]
    assert difference == pytest.approx((participants["anxiety_pre"] - participants["anxiety_post"]).mean())


@pytest.fixture(scope="module")
def zygomaticus(test_run: Path) -> pd.DataFrame:
    windows = pd.read_parquet(test_run / "results/preprocessing/emg_windows.parquet")
    return emg_model_data(windows, "zygomaticus")


def test_pymer4_route_equals_plain_r(zygomaticus: pd.DataFrame, tmp_path: Path) -> None:
    """The paper's EMG model through the project (pymer4) and through a plain Rscript (lmerTest + emmeans) on
    the same data: F within 1e-4 (relative), Satterthwaite df within 1e-3, slopes and SEs within 1e-5."""
    assert shutil.which("Rscript"), "R is missing: tools/setup/env.sh installs it (make test runs it)"
    ours = fit_lmm(zygomaticus, EMG_FORMULA, FACTORS, trend=("time", "emotion"))
    data = tmp_path / "zm.tsv"
    zygomaticus.to_csv(data, sep="\t", index=False)
    run_in_fresh_r(
        [
            "Rscript",
            str(ROOT / "tools/reference/lmm.R"),
            str(data),
            EMG_FORMULA,
            str(tmp_path / "r"),
            "time",
            "emotion",
        ],
        check=True,
        capture_output=True,
    )
    reference = pd.read_csv(tmp_path / "r_anova.tsv", sep="\t").set_index("term")
    anova = ours.anova.set_index("term").loc[reference.index]
    np.testing.assert_allclose(anova["F"], reference["F value"], rtol=1e-4)
    np.testing.assert_allclose(anova["den_df"], reference["DenDF"], rtol=1e-3)
    np.testing.assert_allclose(anova["num_df"], reference["NumDF"])
    trends = pd.read_csv(tmp_path / "r_trends.tsv", sep="\t").set_index("emotion")
    mine = ours.trends.set_index("emotion").loc[trends.index]
    np.testing.assert_allclose(mine["slope"], trends["time.trend"], rtol=1e-5)
    np.testing.assert_allclose(mine["se"], trends["SE"], rtol=1e-5)
    assert (mine["test"] == "z").all()  # asymptotic df, the paper's z tests


def test_workflow_writes_the_model_tables(test_run: Path) -> None:
    lmm = test_run / "results/statistics/lmm"
    for model in ("emg_corrugator", "emg_zygomaticus", "emg_zygomaticus_AngryToHappy", "rt"):
        anova = pd.read_csv(lmm / f"{model}_anova.tsv", sep="\t")
        info = pd.read_csv(lmm / f"{model}_info.tsv", sep="\t", keep_default_na=False)
        assert info["used"].sum() == 1 and info["formula"].str.contains("~").all()
        assert "warnings" in info.columns  # R's convergence and singular-fit messages, kept
        assert (anova["p"].between(0, 1)).all()
        assert (lmm / f"{model}_residuals.png").stat().st_size > 10_000  # Q-Q and residuals by window / emotion
    emg_terms = pd.read_csv(lmm / "emg_zygomaticus_anova.tsv", sep="\t")["term"].tolist()
    assert emg_terms == ["emotion", "drug", "time", "emotion:drug", "emotion:time", "drug:time", "emotion:drug:time"]
    assert pd.read_csv(lmm / "rt_anova.tsv", sep="\t")["term"].tolist() == ["emotion", "drug", "emotion:drug"]
    followup = pd.read_csv(lmm / "emg_zygomaticus_AngryToHappy_anova.tsv", sep="\t")["term"].tolist()
    assert followup == ["drug", "time", "drug:time"]
    # mimicry is there even in 6 participants: the time slope of ZM has opposite signs for the two emotions
    trends = pd.read_csv(lmm / "emg_zygomaticus_trends.tsv", sep="\t").set_index("emotion")
    assert trends.loc["AngryToHappy", "slope"] > 0 > trends.loc["HappyToAngry", "slope"]
    table = pd.read_csv(test_run / "results/statistics/table1.tsv", sep="\t")
    assert table[(table["variable"] == "N") & (table["group"] == "Total")]["value"].item() == 6
    assert len(pd.read_csv(test_run / "results/statistics/rejections_by_group.tsv", sep="\t")) == 3
    for figure in ("figure1", "figure_s2"):
        assert (test_run / f"results/statistics/{figure}.pdf").stat().st_size > 5_000
        assert (test_run / f"results/statistics/{figure}.png").stat().st_size > 20_000


def _planted_study(drug_effects: list[dict]) -> pd.DataFrame:
    """90 participants' ZM trials straight from their planted curves (no EMG): fast enough for a test."""
    trials, _ = planted_window_trials(drug_effects, muscle="zygomaticus")
    return emg_model_data(trials, "zygomaticus")


@pytest.mark.validation
def test_planted_drug_effect_is_detected_and_the_null_is_not() -> None:
    """Under the null, mimicry (emotion x time) is strongly significant and no drug term is; with both drugs
    turning the ZM asymptote for AngryToHappy from +0.085 to -0.065 (smiles no longer mimicked), the drug
    interaction with emotion and time is detected."""
    null = fit_lmm(_planted_study([]), EMG_FORMULA, FACTORS).anova.set_index("term")
    assert null.loc["emotion:time", "p"] < 1e-6
    assert (null.loc[[t for t in null.index if "drug" in t], "p"] > 0.01).all()
    effect = [
        dict(group=g, muscle="zygomaticus", emotion="AngryToHappy", asymptote=-0.15, rate=0.0)
        for g in ("amisulpride", "naltrexone")
    ]
    planted = fit_lmm(_planted_study(effect), EMG_FORMULA, FACTORS).anova.set_index("term")
    assert planted.loc["emotion:drug:time", "p"] < 0.01


@pytest.mark.validation
def test_treatment_contrasts_compare_with_the_reference_group() -> None:
    """statistics.contrasts: treatment codes the drug against study.reference_group (placebo: no placebo
    coefficient), the planted loss of smile mimicry in both drugs shows as negative drug x time coefficients, and
    lmerTest's type-III F tests are the same under either coding. (A model with a random slope is singular on this
    planted data under one coding and not the other, and its optimum then moves: a simpler one shows the rule.)"""
    import copy

    from helpers import STUDY
    from mimicry.lmm import model_data
    from mimicry.lmm_specs import lmm_specs

    effect = [
        dict(group=g, muscle="zygomaticus", emotion="AngryToHappy", asymptote=-0.15, rate=0.0)
        for g in ("amisulpride", "naltrexone")
    ]
    trials, _ = planted_window_trials(effect, muscle="zygomaticus")
    fits = {}
    for coding in ("sum", "treatment"):
        config = copy.deepcopy(DEFAULT)
        config["statistics"]["contrasts"] = coding
        followup = lmm_specs(config, STUDY)[2]
        data, factors, trend = model_data(followup, trials)
        fits[coding] = fit_lmm(data, "log_emg ~ drug * time + (1 | participant)", factors, trend, contrasts=coding)
    treatment = fits["treatment"].fixed_effects.set_index("term")["estimate"]
    assert {"drugamisulpride:time", "drugnaltrexone:time"} <= set(treatment.index)
    assert not any("placebo" in term for term in treatment.index)
    assert treatment["drugamisulpride:time"] < 0 and treatment["drugnaltrexone:time"] < 0
    f_tests = [fits[coding].anova.set_index("term")["F"] for coding in ("sum", "treatment")]
    pd.testing.assert_series_equal(f_tests[0], f_tests[1], rtol=1e-4)  # up to the optimiser's tolerance


def test_the_residual_figure_shows_normal_residuals_on_the_q_q_line() -> None:
    """Normal residuals lie on the Q-Q plot's diagonal; skewed ones leave it; one box per window."""
    from mimicry.figures import lmm_residual_figure

    rng = np.random.default_rng(5)
    window = pd.Series(np.repeat(np.arange(1.0, 6.0), 2000), name="window")
    for residuals, on_line in ((rng.normal(0, 0.3, 10_000), True), (rng.exponential(0.3, 10_000), False)):
        figure = lmm_residual_figure(pd.Series(residuals), window, "test")
        qq, spread = figure.axes
        points = qq.lines[0]
        off = np.abs(np.asarray(points.get_ydata()) - np.asarray(points.get_xdata()))
        assert (np.median(off) < 0.05) == on_line
        assert [tick.get_text() for tick in spread.get_xticklabels()] == ["1", "2", "3", "4", "5"]
