"""The Bayesian stage in the workflow: every output on the test configuration, and a fit that misses the gate
stops its job and leaves no output."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers import (
    copy_project,
    lay_scenario,
    run_snakemake,
    small_windows,
)
from mimicry.bayes.contrasts import CONTRAST_COLUMNS
from mimicry.bayes.diagnostics import FIXED_COLUMNS
from mimicry.bayes.sampling import load_posterior
from mimicry.bayes_specs import NESTED_MODELS

pytestmark = pytest.mark.workflow


def test_workflow_writes_every_bayesian_output(test_run) -> None:
    results = test_run / "results/bayes"
    for model in NESTED_MODELS:
        diagnostics = pd.read_csv(results / model / "diagnostics.tsv", sep="\t")
        assert diagnostics.loc[0, "chains"] == 2 and diagnostics.loc[0, "draws"] == 200
        # the test run is far too short to converge: the gate (on_failure: mark) says so everywhere
        assert not diagnostics.loc[0, "converged"] and "bulk ESS < 400" in diagnostics.loc[0, "problems"]
        assert diagnostics.loc[0, "parameterization"] == "marginal" and diagnostics.loc[0, "failed_classes"]
        fixed = pd.read_csv(results / model / "fixed_effects.tsv", sep="\t")
        assert list(fixed.columns) == FIXED_COLUMNS and not fixed["converged"].any()
        posterior = load_posterior(str(results / model / "posterior.nc"))
        assert posterior.sizes["chain"] == 2 and posterior.sizes["draw"] == 200
        assert posterior.sizes["participant"] == 6
        summary = pd.read_csv(results / model / "summary.tsv", sep="\t", keep_default_na=False)
        row = summary[summary["parameter"] == "sigma"].iloc[0]
        assert float(posterior["sigma"].mean()) == pytest.approx(row["mean"], rel=1e-5)
    n_fixed = pd.read_csv(results / "full/fixed_effects.tsv", sep="\t")
    assert len(n_fixed) == 2 * 3 * 2 * 2
    assert len(pd.read_csv(results / "no_drug/fixed_effects.tsv", sep="\t")) == 2 * 2 * 2
    table2 = pd.read_csv(results / "table2.tsv", sep="\t")
    assert list(table2["model"]) == list(NESTED_MODELS)
    for column in ("weight_waic", "weight_loo", "weight_stacking", "weight_lopo", "weight_lopo_stacking"):
        assert table2[column].sum() == pytest.approx(1.0)
    assert "No effect of drug" in (results / "table2.md").read_text()
    assert table2["windows_reliable"].dtype == bool and table2["lopo_reliable"].dtype == bool
    contrasts = pd.read_csv(results / "contrasts.tsv", sep="\t")
    assert list(contrasts.columns) == CONTRAST_COLUMNS
    # 2 drugs x 4 cells x (asymptote and rate in the full model, one each in the single-parameter models)
    assert contrasts.groupby("model").size().to_dict() == {"full": 16, "asymptote": 8, "rate": 8}
    assert set(contrasts["reference"]) == {"placebo"} and not contrasts["converged"].any()
    for figure in ("figure2", "figure3"):
        assert (results / f"{figure}.pdf").stat().st_size > 10_000
        assert (results / f"{figure}.png").stat().st_size > 20_000


def test_gate_failure_stops_the_job_and_leaves_no_output(tmp_path) -> None:
    project = copy_project(tmp_path / "project")
    # the tables stage needs no recordings: a tiny exported window table is enough
    windows = small_windows(n_per_group=2)
    windows.insert(3, "face", "f01")
    (project / "input").mkdir()
    windows.to_csv(project / "input/emg_windows.tsv", sep="\t", index=False)
    rt = pd.DataFrame(
        {
            "participant": ["000"],
            "group": ["amisulpride"],
            "trial": [1],
            "emotion": ["AngryToHappy"],
            "face": ["f01"],
            "response_time": [2.5],
            "rt_included": [True],
        }
    )
    rt.to_csv(project / "input/rt_trials.tsv", sep="\t", index=False)
    overlay = lay_scenario(
        project,
        "own_tables",
        "gate_too_short",
        emg_windows="input/emg_windows.tsv",
        rt_trials="input/rt_trials.tsv",
        participants="null",
    )
    result = run_snakemake(
        project, "results/bayes/full/summary.tsv", "--cores", "2", "--configfile", overlay, check=False
    )
    assert result.returncode != 0, result.stdout + result.stderr
    assert (project / "results/logs/bayes/full.log").exists(), result.stdout + result.stderr
    log = (project / "results/logs/bayes/full.log").read_text()
    assert "did not pass the diagnostics gate" in log and "bulk ESS < 400" in log
    assert not list((project / "results/bayes/full").glob("*"))
