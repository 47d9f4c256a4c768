"""The Bayesian asymptotic regression fitted: every implementation gives the same posterior layout and agrees with
the others, the same seed the same draws, the prior predictive from the priors, planted effects recovered and the
null kept, the HDIs' coverage, and leave-one-participant-out to the bit."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from helpers import (
    BAYES,
    EMG,
    EMOTIONS,
    GROUPS,
    MUSCLES,
    PRIORS,
    QUICK,
    ROOT,
    STUDY,
    planted_window_trials,
    simulation_with,
    small_cells,
    small_windows,
)
from mimicry.bayes.compare import (
    compare_models,
    format_table2,
    loo_pointwise,
    lopo_pointwise,
    participant_log_likelihood,
    pointwise_log_likelihood,
    waic_pointwise,
)
from mimicry.bayes.contrasts import drug_contrasts
from mimicry.bayes.model import brms_model, model_data
from mimicry.bayes.predictive import (
    posterior_predictive_table,
    prior_predictive,
    prior_predictive_table,
)
from mimicry.bayes.sampling import fit
from mimicry.bayes.sensitivity import sensitivity_table
from mimicry.bayes_specs import WINDOW_CRITERIA_CAVEAT, formulas
from mimicry.check_findings import posterior_predictive_verdict
from mimicry.curve import curve

pytestmark = pytest.mark.validation


IMPLEMENTATIONS = [(v, p) for v in ("bambi", "brms") for p in ("marginal", "joint")]


@pytest.fixture(scope="module")
def small_fits() -> dict:
    """Model "rate" on 9 participants, in both variants and both parameterisations (short chains)."""
    data = model_data(small_windows(n_per_group=3), "participant")
    cells = small_cells(data)
    fits = {
        (variant, parameterization): fit(
            data, cells, "rate", PRIORS, dataclasses.replace(QUICK, variant=variant, parameterization=parameterization)
        )
        for variant, parameterization in IMPLEMENTATIONS
    }
    return {"data": data, "cells": cells, "fits": fits}


def test_every_implementation_gives_the_same_posterior_layout(small_fits: dict) -> None:
    reference = small_fits["fits"][("bambi", "joint")].posterior
    assert set(reference.data_vars) == {
        "asymptote",
        "rate",
        "effect_a",
        "effect_b",
        "effect_c",
        "sd_a",
        "sd_b",
        "sd_c",
        "sigma",
    }
    for implementation in IMPLEMENTATIONS:
        posterior = small_fits["fits"][implementation].posterior
        assert set(posterior.data_vars) == set(reference.data_vars), implementation
        for name in reference.data_vars:
            assert posterior[name].dims == reference[name].dims, (implementation, name)
            for dim in reference[name].dims[2:]:
                assert list(posterior[dim].values) == list(reference[dim].values)
        # same data, same priors: every implementation agrees on the residual SD
        assert float(posterior["sigma"].mean()) == pytest.approx(float(reference["sigma"].mean()), rel=0.1)
    assert reference["rate"].dims == ("chain", "draw", "drug", "muscle", "emotion")  # model "rate": drug on c only
    assert reference["asymptote"].dims == ("chain", "draw", "muscle", "emotion")


def test_integrated_and_joint_posteriors_agree(small_fits: dict) -> None:
    """Integrating a and b out changes how the posterior is sampled, not the posterior: the posterior means of the
    fixed effects, SDs, sigma and the recovered participant effects of a and b agree with the joint fit's within
    their Monte Carlo error (each difference under 5 combined standard errors: about 200 comparisons, so a chance
    exceedance has probability under 1e-4; short chains mix the joint fit slowly, so a bound in posterior SDs would
    be at the mercy of its ESS)."""
    import arviz as az

    names = ["asymptote", "rate", "sd_a", "sd_b", "sd_c", "sigma", "effect_a", "effect_b"]
    for variant in ("bambi", "brms"):
        marginal = small_fits["fits"][(variant, "marginal")].posterior[names]
        joint = small_fits["fits"][(variant, "joint")].posterior[names]
        error = np.sqrt(az.mcse(marginal, method="mean") ** 2 + az.mcse(joint, method="mean") ** 2)
        gap = np.abs(marginal.mean(("chain", "draw")) - joint.mean(("chain", "draw"))) / error
        for name in names:
            assert float(gap[name].max()) < 5.0, (variant, name, float(gap[name].max()))


def test_log_likelihood_equals_pymc(small_fits: dict) -> None:
    """The pointwise log-likelihood computed from the shared layout equals PyMC's from the brms-variant graph."""
    import pymc as pm

    data, cells, fitted = small_fits["data"], small_fits["cells"], small_fits["fits"][("brms", "joint")]
    ours = pointwise_log_likelihood(fitted.posterior, data)
    with brms_model(data, cells, "rate", PRIORS):
        reference = pm.compute_log_likelihood(fitted.raw, extend_inferencedata=False, progressbar=False)
    reference = reference["log_emg"].stack(sample=("chain", "draw")).transpose("sample", ...).values
    np.testing.assert_allclose(ours, reference, rtol=1e-10, atol=1e-10)


def test_the_sensitivity_log_likelihood_sums_every_observation_per_draw(small_fits: dict) -> None:
    """Summed in chunks of draws (here 7 draws of 2 chains at a time), it is the pointwise one summed per draw,
    in the posterior's chain x draw order."""
    from mimicry.bayes.sensitivity import log_likelihood

    data, fitted = small_fits["data"], small_fits["fits"][("bambi", "marginal")]
    chunked = log_likelihood(fitted.posterior, data, max_values=7 * 2 * len(data))
    whole = pointwise_log_likelihood(fitted.posterior, data).sum(axis=1).reshape(2, -1)
    np.testing.assert_allclose(chunked.transpose("chain", "draw").values, whole, rtol=1e-12)


def test_same_seed_same_draws(small_fits: dict) -> None:
    data, cells = small_fits["data"], small_fits["cells"]
    again = fit(data, cells, "rate", PRIORS, QUICK)
    xr.testing.assert_equal(again.posterior, small_fits["fits"][(QUICK.variant, QUICK.parameterization)].posterior)


# Fits model "rate" on a saved window table and prints a checksum of its draws, in a process of its own.
_FIT_AND_HASH = """
import dataclasses, hashlib, sys
import pandas as pd
from mimicry.bayes.model import Cells, model_data
from mimicry.bayes.sampling import fit
from mimicry.config import load_config
from mimicry.settings import Priors, Sampling
bayes = load_config()["statistics"]["bayes"]
data = model_data(pd.read_parquet(sys.argv[1]), "participant")
cells = Cells.of(data, {groups}, {muscles}, {emotions})
sampling = dataclasses.replace(Sampling.from_config(bayes, cores=2), chains=2, warmup=100, draws=100, seed=3)
posterior = fit(data, cells, "rate", Priors.from_config(bayes), sampling).posterior
print(hashlib.sha256(posterior.to_array().values.tobytes()).hexdigest())
"""


def test_the_same_seed_gives_the_same_draws_whatever_was_compiled_before(tmp_path: Path) -> None:
    """Two processes with different hash seeds, the first compiling into an empty PyTensor cache, the second
    loading from it: the same draws (with numba's fast-math the two differed, as a local run and SLURM did)."""
    table = tmp_path / "windows.parquet"
    small_windows(n_per_group=2).to_parquet(table)
    code = _FIT_AND_HASH.format(groups=GROUPS, muscles=MUSCLES, emotions=EMOTIONS)
    digests = []
    for hash_seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTENSOR_FLAGS": f"base_compiledir={tmp_path}/cache"}
        done = subprocess.run(
            [sys.executable, "-c", code, str(table)], capture_output=True, text=True, env=environment, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        digests.append(done.stdout.split()[-1])
    assert len(set(digests)) == 1, digests


def test_prior_predictive_comes_from_the_priors(small_fits: dict) -> None:
    data, cells = small_fits["data"], small_fits["cells"]
    predicted = prior_predictive(data, cells, "full", PRIORS, QUICK, draws=400)
    assert predicted.shape == (400, len(data))
    # at the first window y = b + noise: b's SD is half-normal(0.1) and the residual SD half-normal(0.5)
    first = predicted[:, (data["time"] == 0).to_numpy()]
    assert abs(np.median(first)) < 0.05
    table = prior_predictive_table(data, predicted)
    assert len(table) == 2 * 2 * 5 and (table["observed_inside"] > 0.9).all()
    # a narrow prior on the residual cannot produce data this noisy
    tight = prior_predictive(
        data,
        cells,
        "full",
        dataclasses.replace(PRIORS, residual_sd=0.001, random_sd=0.001, asymptote_sigma=0.001),
        QUICK,
        draws=400,
    )
    assert prior_predictive_table(data, tight)["observed_inside"].mean() < 0.5


def _planted(drug_effects: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """90 participants' window means straight from their planted curves, and the planted a, b, c."""
    trials, planted = planted_window_trials(drug_effects)
    return model_data(trials, "participant"), planted


def _recover(drug_effects: list[dict]) -> dict:
    data, planted = _planted(drug_effects)
    cells = small_cells(data)
    sampling = dataclasses.replace(QUICK, warmup=500, draws=500, seed=11)
    fits = {model: fit(data, cells, model, PRIORS, sampling) for model in ("full", "no_drug")}
    pointwise, participants = {}, {}
    for model, fitted in fits.items():
        log_lik = pointwise_log_likelihood(fitted.posterior, data)
        pointwise[model] = pd.concat([waic_pointwise(log_lik), loo_pointwise(log_lik, fitted.posterior)], axis=1)
        participants[model] = lopo_pointwise(fitted.posterior, data)
    table = compare_models(pointwise, 1000, participants, {model: True for model in fits}).set_index("model")
    return {"fits": fits, "planted": planted, "table": table}


PLANTED = [
    dict(group=g, muscle="zygomaticus", emotion="AngryToHappy", asymptote=-0.15, rate=0.0)
    for g in ("amisulpride", "naltrexone")
]


@pytest.fixture(scope="module")
def planted_effect() -> dict:
    return _recover(PLANTED)


def test_full_model_recovers_a_planted_asymptote_effect(planted_effect: dict) -> None:
    """Both drugs move the ZM AngryToHappy asymptote by -0.15: the full model's 95% HDIs cover the planted
    asymptotes, and the drug - placebo difference in that cell excludes 0 and covers -0.15."""
    import arviz as az

    asymptote = planted_effect["fits"]["full"].posterior["asymptote"]
    planted = planted_effect["planted"].set_index(["group", "muscle", "emotion"])["a"]
    hdi = az.hdi(asymptote, prob=0.95)
    covered = [
        float(hdi.sel(drug=g, muscle=m, emotion=e, ci_bound="lower"))
        <= planted[(g, m, e)]
        <= float(hdi.sel(drug=g, muscle=m, emotion=e, ci_bound="upper"))
        for g, m, e in planted.index
    ]
    assert sum(covered) >= 10, f"only {sum(covered)} of 12 planted asymptotes inside their 95% HDI"
    cell = asymptote.sel(muscle="zygomaticus", emotion="AngryToHappy")
    for drug in ("amisulpride", "naltrexone"):
        low, high = az.hdi(cell.sel(drug=drug) - cell.sel(drug="placebo"), prob=0.95).values
        assert high < 0 and low <= -0.15 <= high


def test_no_drug_model_loses_weight_to_a_planted_effect(planted_effect: dict) -> None:
    """Leaving out whole participants, the no-drug model predicts the drug groups' new participants worse (here by
    2.4 nats: the planted effect is one cell of four, and the full model pays for 16 drug terms), and the criterion
    passes its own reliability check (a few of 90 participants may exceed Pareto k 0.7, no more than 10%)."""
    table = planted_effect["table"]
    assert table.loc["full", "weight_lopo"] > 0.8 and table.loc["no_drug", "elpd_lopo_diff"] < -1.0
    assert table["lopo_reliable"].all(), table[["lopo_pareto_k_bad", "lopo_pareto_k_share"]]


def test_observation_level_criteria_cannot_see_a_planted_effect(planted_effect: dict) -> None:
    """The report's caveat (WINDOW_CRITERIA_CAVEAT), kept true on planted data: WAIC and LOO over single window
    means favour the no-drug model even with a large planted drug effect, because each participant's own
    asymptote absorbs it, while leave-one-participant-out favours the full model (the test above)."""
    table = planted_effect["table"]
    assert table.loc["no_drug", "weight_waic"] > 0.5 and table.loc["no_drug", "weight_loo"] > 0.5
    assert table.loc["full", "weight_lopo"] > 0.8
    assert WINDOW_CRITERIA_CAVEAT in format_table2(table.reset_index().assign(failed_classes=""))


def test_the_posterior_predictive_check_flags_the_no_drug_model_of_a_planted_effect(planted_effect: dict) -> None:
    """New participants of each drug group from the fitted model: the full model reproduces every group's mean
    curve; the no-drug model, which cannot give the drug groups their lower ZM AngryToHappy asymptote, puts more
    cells outside their 95% intervals than chance would, and the planted cell alone does."""
    data, _ = _planted(PLANTED)
    tables = {
        model: posterior_predictive_table(fitted.posterior, data, prob=0.95, seed=3)
        for model, fitted in planted_effect["fits"].items()
    }
    full, no_drug = tables["full"], tables["no_drug"]
    assert len(full) == 3 * 2 * 2 * data["window"].nunique() and (full["participants"] == 30).all()
    assert posterior_predictive_verdict(full, 0.95)[0], full.loc[full["outside"]]
    fits, outside, bound = posterior_predictive_verdict(no_drug, 0.95)
    assert not fits and outside > bound, no_drug.loc[no_drug["outside"]]
    flagged = no_drug.loc[no_drug["outside"]]
    planted_cell = flagged.loc[(flagged["muscle"] == "zygomaticus") & (flagged["emotion"] == "AngryToHappy")]
    assert len(planted_cell) > bound  # 8 of its 15 drug x window cells; one more elsewhere (chance)


def test_prior_sensitivity_flags_a_contrast_a_tight_prior_holds_back(planted_effect: dict) -> None:
    """Power-scaling: with the paper's priors the planted ZM AngryToHappy contrasts (-0.15) are not prior-sensitive
    (90 participants decide them); with the asymptote's prior narrowed to Normal(0, 0.02) they are, and prior and
    likelihood pull apart (prior-data conflict)."""
    data, _ = _planted(PLANTED)
    planted_cell = ["zygomaticus", "AngryToHappy"]

    def contrasts(table: pd.DataFrame) -> pd.DataFrame:
        chosen = table.loc[table["quantity"] == "asymptote_contrast"].set_index(["muscle", "emotion"])
        return chosen.loc[tuple(planted_cell)]

    paper = contrasts(sensitivity_table(planted_effect["fits"]["full"].posterior, data, PRIORS, "placebo"))
    assert (paper["prior"] < 0.05).all() and (paper["diagnosis"] == "-").all(), paper
    tight = dataclasses.replace(PRIORS, asymptote_sigma=0.02)
    fitted = fit(data, small_cells(data), "full", tight, dataclasses.replace(QUICK, warmup=500, draws=500, seed=11))
    held_back = contrasts(sensitivity_table(fitted.posterior, data, tight, "placebo"))
    assert (held_back["prior"] >= 0.05).all() and (held_back["diagnosis"] == "prior-data conflict").all(), held_back


def test_no_drug_model_wins_under_the_null() -> None:
    table = _recover([])["table"]
    assert table.loc["no_drug", "weight_lopo"] > 0.99  # by 9.1 nats
    assert table.loc["no_drug", "elpd_lopo_diff"] == 0.0
    assert table.loc["no_drug", "weight_loo"] > table.loc["full", "weight_loo"]


def test_participant_likelihood_integrates_the_participant_effects(small_fits: dict) -> None:
    """The integrated (a, b exactly, c by quadrature) likelihood equals brute-force Monte Carlo integration."""
    from scipy.special import logsumexp
    from scipy.stats import norm

    data, fitted = small_fits["data"], small_fits["fits"][("bambi", "marginal")]
    draw = fitted.posterior.isel(chain=[0], draw=[5])
    ours = participant_log_likelihood(draw, data)[0]
    rng = np.random.default_rng(1)
    participant = sorted(data["participant"].unique())[2]
    total = 0.0
    for (muscle, emotion), cell in data[data["participant"] == participant].groupby(["muscle", "emotion"]):
        at = {"muscle": muscle, "emotion": emotion}
        values = {
            name: float(draw[name].sel(**at).squeeze())
            if "drug" not in draw[name].dims
            else float(draw[name].sel(drug=cell["drug"].iloc[0], **at).squeeze())
            for name in ("asymptote", "rate", "sd_a", "sd_b", "sd_c")
        }
        m = 200_000
        a = rng.normal(values["asymptote"], values["sd_a"], m)
        b = rng.normal(0.0, values["sd_b"], m)
        c = rng.normal(values["rate"], values["sd_c"], m)
        mu = curve(a[:, None], b[:, None], c[:, None], cell["time"].to_numpy()[None, :])
        log_lik = norm.logpdf(cell["log_emg"].to_numpy()[None, :], mu, float(draw["sigma"].squeeze())).sum(axis=1)
        total += logsumexp(log_lik) - np.log(m)
    assert ours[2] == pytest.approx(total, abs=0.05)


def test_contrast_hdis_cover_the_planted_differences_at_their_nominal_rate() -> None:
    """Over 20 small simulated studies (8 participants per group, short chains), the 95% HDIs of all 16 drug -
    placebo contrasts (2 drugs x asymptote and log rate x 4 cells) cover the planted difference (an effect
    planted on one asymptote and one rate, 0 elsewhere) at 95% +/- 10%."""
    planted = {
        ("amisulpride", "asymptote", "zygomaticus", "AngryToHappy"): -0.1,
        ("naltrexone", "rate", "corrugator", "HappyToAngry"): 0.5,
    }
    effects = [
        {
            "group": g,
            "muscle": m,
            "emotion": e,
            "asymptote": v if p == "asymptote" else 0.0,
            "rate": v if p == "rate" else 0.0,
        }
        for (g, p, m, e), v in planted.items()
    ]
    sampling = dataclasses.replace(QUICK, warmup=300, draws=300)
    covered = []
    for replicate in range(20):
        trials, _ = planted_window_trials(effects, per_group=8, seed=replicate)
        data = model_data(trials, "participant")
        fitted = fit(data, small_cells(data), "full", PRIORS, dataclasses.replace(sampling, seed=replicate))
        contrasts = drug_contrasts(fitted.posterior, "full", "placebo", 0.95, True)
        truth = [planted.get((r.drug, r.parameter, r.muscle, r.emotion), 0.0) for r in contrasts.itertuples()]
        covered += list((contrasts["hdi_low"] <= truth) & (np.asarray(truth) <= contrasts["hdi_high"]))
    assert len(covered) == 20 * 16
    assert 0.85 <= np.mean(covered) <= 1.0, np.mean(covered)


def test_b_intercept_recovers_a_start_below_zero() -> None:
    """With ``b_intercept`` the curve's start gets a population value per muscle x emotion: data whose first
    window sits at -0.2 give a start near -0.2 (without it the model's b is 0 by construction)."""
    windows = small_windows(n_per_group=3)
    windows["log_emg"] -= 0.2
    data = model_data(windows, "participant")
    priors = dataclasses.replace(PRIORS, b_intercept=True)
    fitted = fit(data, small_cells(data), "no_drug", priors, QUICK)
    assert fitted.posterior["start"].dims == ("chain", "draw", "muscle", "emotion")
    assert np.abs(fitted.posterior["start"].mean(("chain", "draw")) + 0.2).max() < 0.05
    assert "muscle:emotion + (0 + muscle:emotion | participant)" in formulas("full", b_intercept=True)["b"]


def test_leave_one_participant_out_gives_the_same_bits_whatever_the_draws_per_step(small_fits: dict) -> None:
    """One draw at a time (the default: its arrays stay in the cache) or many: the same numbers to the bit."""
    data, fitted = small_fits["data"], small_fits["fits"][("bambi", "marginal")]
    draws = fitted.posterior.isel(draw=slice(0, 40))
    assert np.array_equal(participant_log_likelihood(draws, data), participant_log_likelihood(draws, data, chunk=50))


def test_the_rate_only_model_passes_the_gate_when_the_drug_acts_on_the_asymptote() -> None:
    """Issue 29's case on the project's simulator: 36 participants (12 per group), amisulpride lowering the
    zygomaticus AngryToHappy asymptote by 0.4 (log units), so the rate-only model is misspecified for these data.
    Fitted at the default settings it passes the gate (measured on seeds 1 and 2, and at planted effects -0.09
    and -0.2: 0 divergences, R-hat <= 1.0035, bulk ESS >= 2289); the study made elsewhere on which it split into
    modes is what the report's handling of a failed nested model is for."""
    from mimicry.bayes.diagnostics import diagnostics_row, summary
    from mimicry.power.fastpath import floor_ratios, window_values
    from mimicry.settings import Diagnostics, Sampling
    from mimicry.simulate.participants import simulate_participants
    from mimicry.task import load_stimuli

    simulation = simulation_with(
        {
            "seed": 1,
            "participants_per_group": dict.fromkeys(GROUPS, 12),
            "drug_effects": [
                {"group": "amisulpride", "muscle": "zygomaticus", "emotion": "AngryToHappy", "asymptote": -0.4}
            ],
        }
    )
    _, parameters, effects = simulate_participants(simulation, STUDY)
    floor = floor_ratios(parameters, simulation, EMG, MUSCLES)
    stimuli = load_stimuli(ROOT / "resources/stimuli.tsv", STUDY.emotions)
    data = model_data(window_values(effects, stimuli, simulation, EMG, MUSCLES, [1, 3], floor), "participant")
    sampling = Sampling.from_config(BAYES, cores=2)
    gate = Diagnostics.from_config(BAYES["diagnostics"])
    fitted = fit(data, small_cells(data), "rate", PRIORS, sampling)
    row = diagnostics_row(fitted, summary(fitted.posterior, "rate", BAYES["hdi_prob"]), sampling, gate, len(data))
    assert len(small_cells(data).participants) == 36
    assert row["converged"], row["problems"]
