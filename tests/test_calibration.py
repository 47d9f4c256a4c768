"""Simulation-based calibration (mimicry.calibration): truths drawn from the priors in the posterior's layout, ranks
counted against them, uniformity judged; and a tiny calibration end to end, into the report."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from helpers import PRIORS, lay_scenario, run_snakemake
from mimicry.calibration import Design, draw_truth, ranks, simulate_data, uniformity_table
from mimicry.settings import CalibrationSettings

DESIGN = Design({"amisulpride": 3, "naltrexone": 4, "placebo": 3}, ("corrugator",), ("AngryToHappy", "HappyToAngry"), 5)


@pytest.mark.unit
def test_batches_cover_every_simulation_once() -> None:
    settings = CalibrationSettings(simulations=45, batch=20, seed=1, chains=2, warmup=1, draws=1, ranks=9, model="full")
    assert [len(batch) for batch in settings.batches()] == [20, 20, 5]
    assert sorted(s for batch in settings.batches() for s in batch) == list(range(45))


@pytest.mark.unit
def test_a_truth_is_one_draw_of_the_posterior_layout_and_the_data_follow_it() -> None:
    """Drug terms only where the nested model has them; participant effects per participant x cell with the drawn
    SDs; data from the curve at the truth plus residuals of the drawn sigma."""
    frame = DESIGN.data_frame()
    cells = DESIGN.cells(frame)
    truth = draw_truth(PRIORS, "rate", cells, np.random.default_rng(0))
    assert truth["rate"].dims == ("chain", "draw", "drug", "muscle", "emotion")
    assert truth["asymptote"].dims == ("chain", "draw", "muscle", "emotion")  # the rate-only model
    assert truth["effect_c"].sizes["participant"] == 10 and "start" not in truth
    many = draw_truth(PRIORS, "full", cells, np.random.default_rng(1))
    data = simulate_data(many, frame, np.random.default_rng(2))
    assert len(data) == 10 * 2 * 5 and data["log_emg"].std() > 0
    sigma = float(many["sigma"].values.ravel()[0])
    noiseless = simulate_data(many.assign(sigma=many["sigma"] * 0), frame, np.random.default_rng(2))
    residual = (data["log_emg"] - noiseless["log_emg"]).std()
    assert residual == pytest.approx(sigma, rel=0.25)


@pytest.mark.unit
def test_a_rank_counts_the_draws_below_the_truth() -> None:
    """A truth above every draw ranks at the number of draws, one below every draw at 0; contrasts are the drug's
    difference from the reference group's; equal draws are not below."""
    frame = DESIGN.data_frame()
    cells = DESIGN.cells(frame)
    truth = draw_truth(PRIORS, "full", cells, np.random.default_rng(3))
    data = simulate_data(truth, frame, np.random.default_rng(4))
    posterior = xr.concat([truth] * 40, dim="draw").assign_coords(draw=np.arange(40))
    shift = xr.DataArray([-1.0, -1.0, 1.0], dims="drug", coords={"drug": ["amisulpride", "naltrexone", "placebo"]})
    posterior["asymptote"] = posterior["asymptote"] + shift  # the drugs' draws below the truth, placebo's above
    posterior["rate"] = posterior["rate"] + 1.0
    table = ranks(posterior, truth, data, "placebo", 19).set_index(["quantity", "drug"]).sort_index()
    assert table.loc[("asymptote", "amisulpride"), "rank"].eq(19).all()
    assert table.loc[("asymptote", "placebo"), "rank"].eq(0).all() and table.loc["rate", "rank"].eq(0).all()
    assert table.loc["asymptote_contrast", "rank"].eq(19).all()  # each drug minus placebo: 2 below the truth's
    table = table.reset_index().set_index(["quantity", "drug", "muscle", "emotion"])
    assert table.loc[("sigma", "", "", ""), "rank"] == 0  # equal draws are not below
    assert table.loc[("log_likelihood", "", "", ""), "rank"] == 19  # every draw fits worse: its likelihood below


@pytest.mark.unit
def test_uniform_ranks_pass_and_piled_ones_fail() -> None:
    rng = np.random.default_rng(5)
    uniform = pd.DataFrame({"quantity": "a", "simulation": np.arange(400), "rank": rng.integers(0, 100, 400)})
    piled = pd.DataFrame({"quantity": "b", "simulation": np.arange(400), "rank": rng.integers(40, 60, 400)})
    table = uniformity_table(pd.concat([uniform, piled]).assign(draws=99, converged=True)).set_index("quantity")
    assert table.loc["a", "uniform"] and not table.loc["b", "uniform"]
    assert table.loc["b", "ecdf_distance"] > table.loc["b", "band"] and table.loc["a", "failed_gate"] == 0


@pytest.mark.workflow
def test_a_tiny_calibration_runs_end_to_end_into_the_report(test_run: Path, tmp_path: Path) -> None:
    """Four simulations in two batches on a finished run with `report.calibration: true`: a rank per simulation x
    quantity element, every quantity judged, the figure, and the report's summary line."""
    project = tmp_path / "project"
    shutil.copytree(test_run, project, symlinks=True, ignore=shutil.ignore_patterns("conda", "singularity"))
    overlay = lay_scenario(project, "tiny_calibration")
    run_snakemake(project, "--cores", "2", "--configfile", overlay)
    results = project / "results/calibration"
    table = pd.read_parquet(results / "ranks.parquet")
    assert sorted(table["simulation"].unique()) == [0, 1, 2, 3] and table["rank"].between(0, 19).all()
    per_simulation = table.groupby("simulation").size()
    # 3 drugs x 4 cells (asymptote, rate), 2 x 4 of each contrast, 3 x 4 SDs, sigma, the log-likelihood
    assert (per_simulation == 12 + 12 + 8 + 8 + 12 + 1 + 1).all()
    uniformity = pd.read_csv(results / "uniformity.tsv", sep="\t")
    assert set(uniformity["quantity"]) == set(table["quantity"]) and (uniformity["simulations"] == 4).all()
    assert (results / "ecdf.png").stat().st_size > 20_000
    findings = pd.read_csv(project / "results/report/findings.tsv", sep="\t")
    said = findings.loc[findings["topic"] == "Calibration", "statement"].item()
    assert "4 simulations from the priors" in said
