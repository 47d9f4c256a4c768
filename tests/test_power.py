"""The power analysis: its grid and seeds, the planted effect, the binomial intervals and the smallest detectable
effect (unit), and a tiny grid through `snakemake power` (workflow)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import DEFAULT, POWER, SIMULATION, STUDY, lay_scenario, merge, run_snakemake
from mimicry import findings
from mimicry.power import lmm_rules, planning, studies, summary
from mimicry.power.planning import BAYES_RULES, LMM_RULES
from mimicry.settings import Diagnostics, PowerSettings, PowerTarget
from mimicry.simulate.participants import planted_conditions


def test_the_grid_is_every_effect_at_every_group_size_in_batches() -> None:
    overlay = {"effects": [0.0, -0.05], "participants_per_group": [20, 40], "replicates": 5, "batch": 2}
    settings = PowerSettings.from_config(merge(DEFAULT["power"], overlay))
    cells = planning.grid(settings, STUDY)
    assert [(c.effect, c.participants_per_group) for c in cells] == [(0.0, 20), (-0.05, 20), (0.0, 40), (-0.05, 40)]
    batches = planning.batches(settings, STUDY)
    assert len(batches) == 4 * 3 and [b.replicates for b in batches[:3]] == [(0, 1), (2, 3), (4,)]
    assert len({b.path for b in batches}) == len(batches)
    assert batches[0].path == "batches/n20/+0.0000/batch000.parquet"
    assert planning.PowerBatch.from_params(batches[4].as_params(), 1) == batches[4]
    assert [c.folder for c in planning.grid(POWER, STUDY)][:1] == ["study"]  # the study's own group sizes


def test_the_effect_is_planted_on_the_target_of_each_drug_group_only() -> None:
    cell = planning.PowerCell(-0.06, 15)
    simulation = studies.replicate_simulation(SIMULATION, STUDY, POWER.target, cell, seed=11)
    assert simulation.seed == 11 and set(simulation.participants_per_group.values()) == {15}
    conditions = planted_conditions(simulation, STUDY).set_index(["group", "muscle", "emotion"])
    baseline = planted_conditions(SIMULATION, STUDY).set_index(["group", "muscle", "emotion"])
    shift = conditions["a"] - baseline["a"]
    target = ("zygomaticus", "AngryToHappy")
    for (group, muscle, emotion), value in shift.items():
        hit = (muscle, emotion) == target and group != STUDY.reference_group
        assert value == pytest.approx(-0.06 if hit else 0.0), (group, muscle, emotion)


def test_the_same_studies_at_every_effect_and_other_studies_at_another_size() -> None:
    seed = POWER.seed
    same = studies.replicate_seeds(seed, planning.PowerCell(0.0, None), range(5))
    assert same == studies.replicate_seeds(seed, planning.PowerCell(-0.09, None), range(5))
    assert same[2:] == studies.replicate_seeds(seed, planning.PowerCell(0.0, None), [2, 3, 4])  # any batch
    assert len(set(same)) == 5 and not set(same) & set(
        studies.replicate_seeds(seed, planning.PowerCell(0.0, 30), range(5))
    )


def test_clopper_pearson_is_the_exact_binomial_interval() -> None:
    from scipy.stats import binomtest

    detections, trials = np.array([0, 3, 160, 200]), np.array([200, 200, 200, 200])
    low, high = summary.clopper_pearson(detections, trials)
    for k, n, lo, hi in zip(detections, trials, low, high, strict=True):
        interval = binomtest(int(k), int(n)).proportion_ci(method="exact")
        assert (lo, hi) == pytest.approx((interval.low, interval.high), abs=1e-12)


def test_the_power_table_and_the_smallest_detectable_effect() -> None:
    effects = [0.0, -0.03, -0.06, -0.09]
    detected = {0.0: 10, -0.03: 40, -0.06: 140, -0.09: 190}  # of 200
    replicates = pd.DataFrame(
        [
            ("between", None, 130, 130, effect, r, r, "followup_drug_x_time", 0.5, r < detected[effect], 0)
            for effect in effects
            for r in range(200)
        ],
        columns=lmm_rules.REPLICATE_COLUMNS,
    )
    table = summary.power_table(studies.typed(replicates))
    assert table["power"].tolist() == [0.95, 0.7, 0.2, 0.05]  # sorted by effect: -0.09 first
    assert np.all(table["ci_low"] < table["power"]) and np.all(table["power"] < table["ci_high"])
    found = summary.smallest_detectable(table, 0.8).iloc[0]
    assert found["effect"] == pytest.approx(0.06 + (0.8 - 0.7) * 0.03 / (0.95 - 0.7))
    assert found["effect_low"] < found["effect"] < found["effect_high"]
    unreached = summary.smallest_detectable(table, 0.99).iloc[0]
    assert np.isnan(unreached["effect"])

    specs = planning.rule_specs(DEFAULT, STUDY, POWER.target)
    gate = Diagnostics.from_config(DEFAULT["statistics"]["bayes"]["diagnostics"])
    detectable = summary.smallest_detectable(table, 0.8)
    text = summary.methods_paragraph(STUDY, SIMULATION, POWER, {"between": specs}, 0.95, gate, table, detectable)
    assert "zygomaticus AngryToHappy" in text and "amisulpride and naltrexone" in text and "200 studies" in text
    # the detectable effect is a size; the text gives it the grid's sign
    assert "detected the largest effect (-0.09) in 95.0%" in text and f"effect of {-found['effect']:.3f}" in text
    assert "with no effect it detected 5.0%" in text
    assert "log_emg ~ drug * time + (1 + time | participant)" in text  # the formula fitted, without (1 | face)


def test_the_reports_power_findings_say_each_rules_detectable_effect_and_false_positives() -> None:
    rows = []
    for rule, detected in (("followup_drug_x_time", (10, 100, 170)), ("bayes_contrast_hdi", (3, 20, 30))):
        trials = 200 if rule.startswith("followup") else 50
        rows += [
            ("between", None, 130, 130, effect, r, r, rule, np.nan, r < hits, 0)
            for effect, hits in zip((0.0, -0.045, -0.09), detected, strict=True)
            for r in range(trials)
        ]
    table = summary.power_table(studies.typed(pd.DataFrame(rows, columns=lmm_rules.REPLICATE_COLUMNS)))
    detectable = summary.smallest_detectable(table, 0.8)
    coverage = pd.DataFrame({"effect": [0.0, -0.09], "contrasts": [100, 100], "covered": [96, 92]})
    coverage["coverage"] = coverage["covered"] / coverage["contrasts"]
    said = findings.power_findings(table, detectable, coverage, planning.RULE_LABELS, 0.95)
    reached = detectable.set_index("rule").loc["followup_drug_x_time", "effect"]
    assert said[0].startswith(
        "follow-up LMM: drug x time, the study's group sizes (130 participants): reaches 80% power at an effect"
    )
    assert f"at an effect of {-reached:.3f}" in said[0] and "with no effect it detects 5.0% [" in said[0]
    assert said[1].startswith("Bayesian contrast: HDI excludes 0, the study's group sizes (130 participants): does not")
    assert "(at -0.09: 60% [" in said[1] and "with no effect it detects 6.0% [" in said[1]
    assert "of 50 studies" in said[1]
    assert said[2] == (
        "The Bayesian 95% HDI covered the planted drug contrast in 94.0% of 200 simulated contrasts "
        "(92% to 96% per effect)."
    )


def test_the_rules_fit_participant_means_without_by_face_terms() -> None:
    specs = planning.rule_specs(DEFAULT, STUDY, POWER.target)
    assert all("face" not in formula for spec in specs.values() for formula in spec.formulas)
    assert specs["followup"].emotion == "AngryToHappy" and specs["full"].muscle == "zygomaticus"
    elsewhere = planning.rule_specs(DEFAULT, STUDY, PowerTarget("corrugator", "HappyToAngry", "a", ()))
    assert (elsewhere["followup"].muscle, elsewhere["followup"].emotion) == ("corrugator", "HappyToAngry")
    trials = pd.DataFrame(
        {
            "participant": ["1", "1", "1", "2"],
            "drug": ["placebo"] * 3 + ["naltrexone"],
            "face": ["f1", "f2", "f1", "f1"],
            "emotion": ["A"] * 4,
            "time": [1.0, 1.0, 2.0, 1.0],
            "log_emg": [0.1, 0.3, 0.5, 0.7],
        }
    )
    means = lmm_rules.participant_means(trials)
    assert means["log_emg"].tolist() == pytest.approx([0.2, 0.5, 0.7]) and "face" not in means


def test_a_tiny_power_grid_runs_end_to_end_into_the_report_and_resumes(test_run: Path, tmp_path: Path) -> None:
    """Two effects x two designs (12 per group, a crossover of 6) x three replicates in batches of two (the
    Bayesian rules: two, short chains) on a finished run with `report.power: true`: the tables, the smallest
    detectable effect, the participants each design needs, the coverage, the figures, and the report's Power
    section. A run killed before its last batches resumes with those batches alone, which come out the same (each
    batch is deterministic from its replicates' seeds)."""
    project = tmp_path / "project"
    shutil.copytree(test_run, project, symlinks=True, ignore=shutil.ignore_patterns("conda", "singularity"))
    overlay = lay_scenario(project, "tiny_power")
    run_snakemake(project, "--cores", "2", "--configfile", overlay)
    table = pd.read_csv(project / "results/power/power.tsv", sep="\t")
    assert set(table["rule"]) == set(LMM_RULES) | set(BAYES_RULES) and set(table["effect"]) == {0.0, -0.2}
    assert table.groupby("design")["participants"].unique().map(list).to_dict() == {"between": [36], "within": [6]}
    assert set(table[table["design"] == "within"]["sessions"]) == {18}
    assert set(table["replicates"]) == {3, 2} and set(table[table["rule"].isin(BAYES_RULES)]["replicates"]) == {2}
    strong = table[table["effect"] == -0.2].set_index(["design", "rule"])["power"]
    null = table[table["effect"] == 0.0].set_index(["design", "rule"])["power"]
    assert (strong >= null).all()  # the same studies, plus an effect
    contrasts = pd.read_parquet(project / "results/power/contrasts.parquet")
    assert len(contrasts) == 2 * 2 * 2 * 2 and set(contrasts["drug"]) == {"amisulpride", "naltrexone"}
    assert (contrasts["planted"] == contrasts["effect"]).all() and contrasts["hdi_low"].lt(contrasts["hdi_high"]).all()
    coverage = pd.read_csv(project / "results/power/coverage.tsv", sep="\t")
    assert coverage["contrasts"].tolist() == [4, 4, 4, 4]
    needed = pd.read_csv(project / "results/power/needed.tsv", sep="\t")
    assert set(needed["design"]) == {"between", "within"} and set(needed["effect"]) == {-0.2}
    for name in ("detectable.tsv", "power.pdf", "power.png", "designs.pdf", "designs.png", "replicates.parquet"):
        assert (project / "results/power" / name).stat().st_size > 0
    methods = (project / "results/power/methods.md").read_text()
    assert "HDI covered the planted contrast" in methods and "a crossover of 6 participants (18 sessions)" in methods
    assert "Participants needed per design:" in methods and "(0 + time | participant:session)" in methods
    findings = pd.read_csv(project / "results/report/findings.tsv", sep="\t")
    said = findings.loc[findings["topic"] == "Power", "statement"].tolist()
    rules = len(LMM_RULES) + len(BAYES_RULES)
    assert len(said) == 2 * rules + 1 + rules and "12 per group" in said[0]
    assert sum(s.startswith("Participants needed") for s in said) == rules
    report = (project / "results/study_report.html").read_text()
    assert "Power and sensitivity" in report and "power/needed.tsv" in report and "designs.png" in report

    lost = [
        project / "results/power/batches/n12/-0.2000/batch001.parquet",
        project / "results/power/batches/within_n6/-0.2000/batch001.parquet",
        project / "results/power/bayes/within_n6/-0.2000/batch000.parquet",
    ]
    before = [pd.read_parquet(path) for path in lost]
    for path in [*lost, *(project / "results/power").glob("*.*")]:  # as a killed run left it
        path.unlink()
    again = run_snakemake(project, "power", "--cores", "2", "--configfile", overlay)
    assert again.stderr.count("rule power_batch") == 2 and again.stderr.count("rule power_bayes_batch") == 1
    for path, table in zip(lost, before, strict=True):  # each batch deterministic from its seeds
        pd.testing.assert_frame_equal(pd.read_parquet(path), table)


def test_what_keeps_the_power_analysis_from_running_is_said_before_any_job() -> None:
    stimuli = DEFAULT["study"]["stimuli"]
    assert planning.check_power(DEFAULT, STUDY, POWER, stimuli) == []
    assert "study.stimuli is not set" in planning.check_power(DEFAULT, STUDY, POWER, None)[0]
    wrong = dataclasses.replace(POWER, target=PowerTarget("frontalis", "AngryToHappy", "a", ("ketamine",)))
    problems = planning.check_power(DEFAULT, STUDY, wrong, stimuli)
    assert any("power.target.muscle 'frontalis'" in p for p in problems)
    assert any("['ketamine'] are not study groups" in p for p in problems)
    no_time = merge(DEFAULT, {"statistics": {"followup": {"formula": "log_emg ~ drug + (1 | participant)"}}})
    assert planning.check_power(no_time, STUDY, POWER, stimuli) == [
        "power rule followup_drug_x_time (between): the followup formula 'log_emg ~ drug + (1 | participant)' has "
        "no time"
    ]
