"""The Bayesian asymptotic regression, unit by unit: its data and curve, the nested models' formulas, WAIC / LOO /
weights against hand computations and ArviZ, thinning, the diagnostics gate, the drug contrasts and the summary."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from helpers import (
    BAYES,
    EMOTIONS,
    GROUPS,
    MUSCLES,
    small_windows,
)
from mimicry.bayes.compare import (
    compare_models,
    format_table2,
    ic_weights,
    log_likelihood_draws,
    loo_pointwise,
    normal_logpdf,
    stacking_weights,
    waic_pointwise,
)
from mimicry.bayes.contrasts import CONTRAST_COLUMNS, drug_contrasts
from mimicry.bayes.diagnostics import (
    POPULATION,
    ConvergenceError,
    check_diagnostics,
    enforce_gate,
    failed_classes,
)
from mimicry.bayes.model import DATA_COLUMNS, model_data
from mimicry.bayes.sampling import thin
from mimicry.bayes_specs import FINDINGS_MODELS, NESTED_MODELS, WINDOW_CRITERIA_CAVEAT, formulas
from mimicry.curve import curve
from mimicry.settings import Diagnostics


def test_model_data_averages_kept_trials_and_starts_time_at_the_first_window() -> None:
    windows = small_windows()
    data = model_data(windows, "participant")
    assert list(data.columns) == DATA_COLUMNS
    assert len(data) == 6 * 2 * 2 * 5
    kept = windows[~windows["rejected"]]
    one = kept[
        (kept["participant"] == "100")
        & (kept["muscle"] == "zygomaticus")
        & (kept["emotion"] == "HappyToAngry")
        & (kept["window"] == 3)
    ]
    row = data[
        (data["participant"] == "100")
        & (data["muscle"] == "zygomaticus")
        & (data["emotion"] == "HappyToAngry")
        & (data["window"] == 3)
    ]
    assert row["log_emg"].item() == pytest.approx(one["log_emg"].mean())
    assert sorted(data["time"].unique()) == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert len(model_data(windows, "trial")) == len(kept)
    with pytest.raises(Exception, match="participant or trial"):
        model_data(windows, "window")


def test_curve_starts_at_b_and_approaches_a_at_rate_exp_c() -> None:
    assert curve(0.1, 0.02, 0.25, 0.0) == pytest.approx(0.02)
    assert curve(0.1, 0.0, 0.25, 50.0) == pytest.approx(0.1)
    # after 1/exp(c) seconds, 1 - 1/e of the way from b to a
    assert curve(0.1, 0.0, 0.25, np.exp(-0.25)) == pytest.approx(0.1 * (1 - np.exp(-1)))


def test_nested_model_formulas_drop_the_drug_where_the_paper_does() -> None:
    assert formulas("full")["a"].startswith("0 + drug:muscle:emotion")
    assert formulas("rate")["a"].startswith("0 + muscle:emotion +")
    assert formulas("rate")["c"].startswith("0 + drug:muscle:emotion")
    assert "drug" not in formulas("no_drug")["a"] + formulas("no_drug")["c"]
    assert formulas("full")["b"] == "0 + (0 + muscle:emotion | participant)"


def test_waic_equals_a_hand_computed_value() -> None:
    """Two observations, three draws: lpd_i = log mean exp(ll), p_waic_i = sample variance of ll."""
    log_lik = np.log(np.array([[0.5, 0.2], [0.3, 0.4], [0.4, 0.3]]))
    table = waic_pointwise(log_lik)
    lpd = np.log([0.4, 0.3])
    p_waic = [np.var(np.log([0.5, 0.3, 0.4]), ddof=1), np.var(np.log([0.2, 0.4, 0.3]), ddof=1)]
    np.testing.assert_allclose(table["lpd"], lpd)
    np.testing.assert_allclose(table["p_waic"], p_waic)
    # by hand: lpd = log .4 + log .3 = -2.120264; p_waic = 0.065583 + 0.121269 = 0.186852
    assert table["elpd_waic"].sum() == pytest.approx(-2.307116, abs=1e-6)


def test_waic_and_loo_agree_with_the_exact_leave_one_out_of_a_conjugate_normal_model() -> None:
    """Normal mean with known SD and a flat prior: posterior draws are exact, and exact LOO has a closed form."""
    rng = np.random.default_rng(3)
    y, sigma, n = rng.normal(0.0, 1.0, 50), 1.0, 50
    mu = rng.normal(y.mean(), sigma / np.sqrt(n), size=(4, 2000))
    log_lik = -0.5 * np.log(2 * np.pi * sigma**2) - (y[None, None, :] - mu[..., None]) ** 2 / (2 * sigma**2)
    log_lik = log_lik.reshape(-1, n)
    posterior = xr.Dataset({"mu": (("chain", "draw"), mu)})
    # exact LOO predictive: y_i ~ N(mean(y_-i), sigma^2 (1 + 1/(n-1)))
    loo_mean = (y.sum() - y) / (n - 1)
    exact = -0.5 * np.log(2 * np.pi * sigma**2 * (1 + 1 / (n - 1))) - (y - loo_mean) ** 2 / (
        2 * sigma**2 * (1 + 1 / (n - 1))
    )
    waic = waic_pointwise(log_lik)["elpd_waic"].sum()
    loo = loo_pointwise(log_lik, posterior)
    assert waic == pytest.approx(exact.sum(), abs=0.15)
    assert loo["elpd_loo"].sum() == pytest.approx(exact.sum(), abs=0.15)
    assert loo["pareto_k"].max() < 0.7


def test_the_loo_pit_is_the_exact_leave_one_out_pit_of_a_conjugate_normal_model() -> None:
    """The same model: each observation's LOO-PIT is Phi of its standardised distance from the leave-one-out
    predictive (within 0.01); a model twice as sure of each observation as it should be gives PIT values piled at 0
    and 1, which the uniformity test rejects, while the right one passes (scipy's Kolmogorov-Smirnov test, to 1e-6)."""
    from scipy import stats

    from mimicry.check_findings import uniformity

    rng = np.random.default_rng(4)
    y, sigma, n = rng.normal(0.0, 1.0, 200), 1.0, 200
    mu = rng.normal(y.mean(), sigma / np.sqrt(n), size=(4, 2000)).reshape(-1, 1)
    posterior = xr.Dataset({"mu": (("chain", "draw"), mu.reshape(4, 2000))})
    log_lik = stats.norm.logpdf(y[None, :], mu, sigma)
    pit = loo_pointwise(log_lik, posterior, below=stats.norm.cdf((y[None, :] - mu) / sigma))["loo_pit"]
    loo_mean = (y.sum() - y) / (n - 1)
    exact = stats.norm.cdf((y - loo_mean) / (sigma * np.sqrt(1 + 1 / (n - 1))))
    np.testing.assert_allclose(pit, exact, atol=0.01)
    statistic, p = uniformity(pit.to_numpy())
    reference = stats.kstest(pit, "uniform", method="asymp")
    assert statistic == pytest.approx(reference.statistic, abs=1e-12) and p == pytest.approx(reference.pvalue, abs=1e-6)
    assert p > 0.05
    overconfident = loo_pointwise(log_lik, posterior, below=stats.norm.cdf((y[None, :] - mu) / (sigma / 2)))
    assert uniformity(overconfident["loo_pit"].to_numpy())[1] < 0.001


def test_ic_weights_are_brms_model_weights() -> None:
    """brms: weights = exp(-delta IC / 2), normalised."""
    np.testing.assert_allclose(ic_weights([10.0, 10.0]), [0.5, 0.5])
    weights = ic_weights([100.0, 102.0, 110.0])
    assert weights[0] / weights[1] == pytest.approx(np.e)
    assert weights.sum() == pytest.approx(1.0)


def test_stacking_weights_match_arviz_compare() -> None:
    import arviz as az

    rng = np.random.default_rng(5)
    y = rng.normal(0.3, 1.0, 80)
    trees, elpd = {}, []
    for name, (mean, sd) in {"right": (0.3, 1.0), "shifted": (0.0, 1.0), "wide": (0.3, 2.0)}.items():
        mu = rng.normal(mean, 0.1, size=(2, 500))
        log_lik = -0.5 * np.log(2 * np.pi * sd**2) - (y[None, None, :] - mu[..., None]) ** 2 / (2 * sd**2)
        tree = xr.DataTree.from_dict(
            {
                "posterior": xr.Dataset({"mu": (("chain", "draw"), mu)}),
                "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), log_lik)}),
            }
        )
        trees[name] = tree
        elpd.append(loo_pointwise(log_lik.reshape(-1, 80), tree["posterior"].to_dataset())["elpd_loo"])
    ours = stacking_weights(np.column_stack(elpd))
    reference = az.compare(trees, method="stacking")["weight"].reindex(list(trees)).to_numpy()
    np.testing.assert_allclose(ours, reference, atol=2e-3)
    assert ours.sum() == pytest.approx(1.0)


def test_thinning_keeps_chains_and_bounds_the_log_likelihood_memory() -> None:
    posterior = xr.Dataset({"sigma": (("chain", "draw"), np.arange(4000.0).reshape(4, 1000))})
    thinned = thin(posterior, 1000)
    assert thinned.sizes == {"chain": 4, "draw": 250}
    assert thinned["sigma"].values[1, :2].tolist() == [1000.0, 1004.0]
    assert log_likelihood_draws(2600) >= 20_000  # the paper's data: every draw
    assert log_likelihood_draws(124_800) * 124_800 <= 200_000_000  # trial level: bounded


def _summary(r_hat: float = 1.001, ess: float = 2000.0, effect_r_hat: float = 1.001) -> pd.DataFrame:
    rows = [
        dict(
            model="full",
            parameter=p,
            drug="",
            muscle="zygomaticus",
            emotion="AngryToHappy",
            participant="",
            mean=0.0,
            sd=1.0,
            hdi_low=-2,
            hdi_high=2,
            r_hat=1.001,
            ess_bulk=2000.0,
            ess_tail=2000.0,
        )
        for p in POPULATION
    ]
    rows[0].update(r_hat=r_hat, ess_bulk=ess, drug="placebo")
    rows.append(dict(rows[1], parameter="effect_a", participant="001", r_hat=effect_r_hat))
    return pd.DataFrame(rows)


def test_gate_passes_a_good_fit_and_names_every_failure_by_class() -> None:
    gate = Diagnostics.from_config(BAYES["diagnostics"])
    assert check_diagnostics(_summary(), 0, gate) == []
    assert failed_classes(_summary(), gate) == {}
    problems = check_diagnostics(_summary(r_hat=1.02, ess=150.0, effect_r_hat=1.2), 3, gate)
    assert len(problems) == 4
    assert problems[0].startswith("fixed effects: R-hat >= 1.01") and "1.0200" in problems[0]
    assert "asymptote[placebo, zygomaticus, AngryToHappy]" in problems[0]
    assert problems[1].startswith("fixed effects: bulk ESS < 400") and "150" in problems[1]
    # every recovered participant effect is gated too, named by its class
    assert (
        problems[2].startswith("participant effects: R-hat >= 1.01")
        and "effect_a[zygomaticus, AngryToHappy, 001]" in problems[2]
    )
    assert "3 divergent transitions" in problems[3]
    assert list(failed_classes(_summary(effect_r_hat=1.2), gate)) == ["participant effects"]


def _gate_row(model: str, divergences: int = 0, max_rhat: float = 1.0, problems: str = "") -> dict:
    return {
        "model": model,
        "variant": "independent",
        "parameterization": "non-centered",
        "sampler": "nutpie",
        "divergences": divergences,
        "max_rhat": max_rhat,
        "converged": not problems,
        "problems": problems,
    }


def test_a_failed_comparison_model_is_kept_and_a_failed_findings_model_stops_the_analysis() -> None:
    """Under on_failure: fail, only a model the findings rest on (the full model's contrasts, the no-drug model's
    band) stops the job; a nested model compared in Table 2 only is kept, marked; under mark every one is kept."""
    fail = Diagnostics.from_config(BAYES["diagnostics"] | {"on_failure": "fail"})
    mark = Diagnostics.from_config(BAYES["diagnostics"] | {"on_failure": "mark"})
    assert set(FINDINGS_MODELS) < set(NESTED_MODELS) and enforce_gate(_gate_row("full"), fail) is None
    diverged = dict(divergences=62, problems="62 divergent transitions (at most 0 allowed)")
    for model in FINDINGS_MODELS:
        with pytest.raises(ConvergenceError, match=f"'{model}'.*findings rest on this model"):
            enforce_gate(_gate_row(model, **diverged), fail)
        assert "marked converged = false" in enforce_gate(_gate_row(model, **diverged), mark)
    for model in set(NESTED_MODELS) - set(FINDINGS_MODELS):
        for gate in (fail, mark):
            assert "named as failed in Table 2 and has no weight" in enforce_gate(_gate_row(model, **diverged), gate)


def test_the_gate_advises_by_how_a_fit_failed() -> None:
    """Divergences alone: a smaller step; chains in different modes (R-hat far above 1): not target_accept, which
    made it worse on the study where this happened; too few effective draws: more iterations."""
    mark = Diagnostics.from_config(BAYES["diagnostics"] | {"on_failure": "mark"})
    diverged = enforce_gate(_gate_row("rate", divergences=62, problems="62 divergent transitions"), mark)
    assert "raise statistics.bayes.target_accept" in diverged and "iterations" not in diverged
    split = _gate_row("rate", max_rhat=1.38, problems="fixed effects: R-hat >= 1.01 ...; bulk ESS < 400 ...")
    advice = enforce_gate(split, mark)
    assert "different modes" in advice and "raise statistics.bayes.target_accept" not in advice
    short = enforce_gate(_gate_row("rate", max_rhat=1.02, problems="fixed effects: bulk ESS < 400 ..."), mark)
    assert "raise statistics.bayes.iterations" in short and "target_accept" not in short


def test_a_model_that_failed_the_gate_has_no_weight_and_is_named_in_table2() -> None:
    """The weights are over the models that passed (they sum to 1 without the failed one); the failed model keeps
    its criteria and Table 2 names what failed; when none passed, all are weighed (provisionally)."""
    rng = np.random.default_rng(3)
    names = ["full", "asymptote", "rate", "no_drug"]
    pointwise = {
        name: pd.DataFrame(
            {
                "elpd_waic": e,
                "p_waic": 0.1,
                "lpd": e + 0.1,
                "elpd_loo": e,
                "pareto_k": 0.2,
            }
        )
        for name, e in ((n, rng.normal(-1.0 - 0.01 * i, 0.3, 60)) for i, n in enumerate(names))
    }
    participants = {name: pd.DataFrame({"elpd_lopo": rng.normal(-20, 2, 12), "pareto_k": 0.3}) for name in names}
    converged = {"full": True, "asymptote": True, "rate": False, "no_drug": True}
    table = compare_models(pointwise, 4000, participants, converged).set_index("model")
    weights = ["weight_waic", "weight_loo", "weight_stacking", "weight_lopo", "weight_lopo_stacking"]
    assert table.loc["rate", weights].isna().all() and np.isfinite(table.loc["rate", "waic"])
    np.testing.assert_allclose(table.drop(index="rate")[weights].sum(), 1.0)
    text = format_table2(table.reset_index().assign(failed_classes=["", "", "divergences", ""]))
    rate_row = next(line for line in text.splitlines() if line.startswith("| Drug effects rate only"))
    assert rate_row.count("| — ") == 5 and rate_row.endswith("| NO (divergences) |")
    none_passed = compare_models(pointwise, 4000, participants, dict.fromkeys(names, False))
    np.testing.assert_allclose(none_passed[weights].sum(), 1.0)


def _posterior_with_a_drug_effect() -> xr.Dataset:
    """Draws of asymptote (drug x muscle x emotion) where amisulpride sits 0.2 below placebo in one cell."""
    rng = np.random.default_rng(0)
    shape = (2, 2000, 3, 2, 2)
    values = rng.normal(0.0, 0.05, shape)
    values[:, :, 0, 1, 0] -= 0.2
    coords = {"drug": GROUPS, "muscle": MUSCLES, "emotion": EMOTIONS}
    asymptote = xr.DataArray(values, dims=("chain", "draw", "drug", "muscle", "emotion"), coords=coords)
    rate = xr.DataArray(rng.normal(-1.0, 0.1, (2, 2000, 2, 2)), dims=("chain", "draw", "muscle", "emotion"))
    return xr.Dataset({"asymptote": asymptote, "rate": rate.assign_coords(muscle=MUSCLES, emotion=EMOTIONS)})


def test_contrasts_are_drug_minus_reference_per_cell() -> None:
    contrasts = drug_contrasts(_posterior_with_a_drug_effect(), "asymptote", "placebo", 0.95, True)
    assert list(contrasts.columns) == CONTRAST_COLUMNS
    assert len(contrasts) == 2 * 4 and set(contrasts["parameter"]) == {"asymptote"}  # rate carries no drug here
    hit = contrasts.set_index(["drug", "muscle", "emotion"]).loc[("amisulpride", "zygomaticus", "AngryToHappy")]
    assert hit["mean"] == pytest.approx(-0.2, abs=0.01) and hit["direction"] == "lower"
    assert hit["excludes_zero"] and hit["prob_direction"] > 0.99 and hit["hdi_high"] < 0
    others = contrasts[~((contrasts["drug"] == "amisulpride") & (contrasts["muscle"] == "zygomaticus"))]
    assert others["mean"].abs().max() < 0.02 and others["prob_direction"].between(0.5, 1.0).all()
    assert drug_contrasts(_posterior_with_a_drug_effect().drop_vars("asymptote"), "x", "placebo", 0.95, True).empty


def test_the_summary_names_a_contrast_that_excludes_zero_and_flags_unreliable_criteria() -> None:
    from mimicry.findings import bayes_findings

    contrasts = drug_contrasts(_posterior_with_a_drug_effect(), "full", "placebo", 0.95, True)
    table2 = pd.DataFrame(
        {
            "model": ["full", "no_drug"],
            "label": ["Full", "No effect of drug"],
            **{column: [0.3, 0.7] for column in ("weight_waic", "weight_loo", "weight_stacking")},
            "weight_lopo": [0.9, 0.1],
            "windows_reliable": [False, True],
            "lopo_reliable": [True, True],
        }
    )
    diagnostics = pd.DataFrame(
        {"model": ["full", "no_drug"], "converged": [True, False], "failed_classes": ["", "participant SDs"]}
    ).assign(max_rhat=1.02, min_ess_bulk=300.0)
    statements = bayes_findings(table2, diagnostics, contrasts, 0.95)
    assert (
        "1 of 2 Bayesian models did not pass the convergence gate (No effect of drug: participant SDs)"
        in (statements[0])
    )
    assert "Table 2 weighs only the models that passed" in statements[0]
    assert "amisulpride asymptote of the zygomaticus in AngryToHappy lower" in statements[1]
    assert "naltrexone" not in statements[1]
    assert "WAIC: 'No effect of drug' (0.700, unreliable" in statements[2]
    assert "leave-one-participant-out: 'Full' (0.900)" in statements[2]
    assert statements[3] == WINDOW_CRITERIA_CAVEAT


def test_the_normal_log_density_is_scipys_to_the_bit_in_c_order() -> None:
    """The pointwise log-likelihood's density repeats scipy.stats.norm.logpdf's arithmetic without its per-element
    checks (15 times faster): the same bits, and C order even for a Fortran-ordered mean (WAIC's sums over draws
    add in memory order)."""
    from scipy.stats import norm

    rng = np.random.default_rng(4)
    y = rng.standard_normal((1, 300))
    mu = np.asfortranarray(rng.standard_normal((200, 300)))
    sigma = np.exp(0.5 * rng.standard_normal((200, 1)))
    ours, scipys = normal_logpdf(y, mu, sigma), norm.logpdf(y, loc=mu, scale=sigma)
    assert np.array_equal(ours, scipys) and ours.flags["C_CONTIGUOUS"]
    assert np.array_equal(ours.mean(axis=0), scipys.mean(axis=0))


def test_the_log_prior_is_the_top_level_priors_density_per_draw() -> None:
    """Normal on the fixed effects, half-normal on the SDs and sigma, summed per draw (scipy's densities); the
    participant effects are not part of it."""
    from scipy import stats

    from helpers import PRIORS
    from mimicry.bayes.sensitivity import log_prior

    rng = np.random.default_rng(3)
    posterior = _posterior_with_a_drug_effect()
    cell = ("chain", "draw", "muscle", "emotion")
    for name in ("sd_a", "sd_b", "sd_c"):
        posterior[name] = xr.DataArray(np.abs(rng.normal(0, 0.1, (2, 2000, 2, 2))), dims=cell)
    posterior["sigma"] = xr.DataArray(np.abs(rng.normal(0, 0.3, (2, 2000))), dims=("chain", "draw"))
    posterior["effect_a"] = xr.DataArray(rng.normal(0, 5, (2, 2000, 4)), dims=("chain", "draw", "participant"))
    expected = (
        stats.norm.logpdf(posterior["asymptote"], PRIORS.asymptote_mu, PRIORS.asymptote_sigma).sum(axis=(2, 3, 4))
        + stats.norm.logpdf(posterior["rate"], PRIORS.rate_mu, PRIORS.rate_sigma).sum(axis=(2, 3))
        + sum(stats.halfnorm.logpdf(posterior[f"sd_{p}"], scale=PRIORS.random_sd).sum(axis=(2, 3)) for p in "abc")
        + stats.halfnorm.logpdf(posterior["sigma"], scale=PRIORS.residual_sd)
    )
    np.testing.assert_allclose(log_prior(posterior, PRIORS).transpose("chain", "draw").values, expected, rtol=1e-12)


def test_the_summary_says_whether_a_conclusion_depends_on_the_prior() -> None:
    from mimicry.check_findings import prior_sensitivity_findings

    contrasts = drug_contrasts(_posterior_with_a_drug_effect(), "full", "placebo", 0.95, True)
    keys = contrasts[["drug", "muscle", "emotion"]]
    table = pd.concat(
        [
            keys.assign(quantity="asymptote_contrast", prior=0.01, likelihood=0.3, diagnosis="-"),
            pd.DataFrame([{"quantity": "sigma", "drug": "", "muscle": "", "emotion": "", "prior": 0.07}]),
        ],
        ignore_index=True,
    ).assign(likelihood=0.3)
    held = prior_sensitivity_findings({"full": table}, contrasts)[0]
    assert "none of the 1 drug contrasts whose HDI excludes 0 depends on the prior" in held
    assert "largest contrast sensitivity 0.010" in held and "1 of 1 population parameters" in held and "(sigma)" in held
    hit = (table["drug"] == "amisulpride") & (table["muscle"] == "zygomaticus") & (table["emotion"] == "AngryToHappy")
    table.loc[hit, ["prior", "diagnosis"]] = [0.2, "prior-data conflict"]
    flagged = prior_sensitivity_findings({"full": table}, contrasts)[0]
    assert "DEPENDS ON THE PRIOR: the drug contrasts amisulpride asymptote in zygomaticus AngryToHappy (0.20" in flagged
    no_drug = prior_sensitivity_findings({"no_drug": table.loc[table["quantity"] == "sigma"]}, contrasts)[0]
    assert "no drug term" in no_drug and "largest" not in no_drug
