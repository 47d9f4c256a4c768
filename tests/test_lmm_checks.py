"""lme4's convergence advice as a verdict: refits compared at the precision printed, refits that stopped below the
best likelihood set aside, the boundary components of a singular fit named; and on a real singular fit in R."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import ROOT
from mimicry.check_findings import lmm_convergence_findings
from mimicry.lmm import fit_with_fallbacks, result_tables
from mimicry.lmm_checks import (
    NAN,
    REFIT_COLUMNS,
    WITHOUT_BOUNDARY,
    FitCheck,
    SimplerFit,
    check_summary,
    same_test,
    verdict,
)
from mimicry.rsession import run_in_fresh_r

REPORTED = pd.DataFrame(
    {
        "term": ["emotion", "drug"],
        "num_df": [1.0, 2.0],
        "den_df": [127.04, 126.8],
        "F": [21.234, 0.5358],
        "p": [0.00002, 0.5913],
    }
)


def _check(refits: list[tuple[str, float, float]], loglik: float = -100.0) -> FitCheck:
    """Refits (optimizer, log-likelihood, shift of the tests from the reported ones): as lmm_checks.R gives them,
    df and p only for the one at the best log-likelihood."""
    best = max(range(len(refits)), key=lambda k: refits[k][1])
    rows = [
        {"optimizer": name, "start": "optimum", **term, "loglik": ll, "fixef_difference": 1e-9, "messages": ""}
        | ({} if name == refits[best][0] else {"den_df": NAN, "p": NAN})
        for name, ll, shift in refits
        for term in (
            {"term": "emotion", "num_df": 1.0, "den_df": 127.04 + shift, "F": 21.234 + shift, "p": 0.00002},
            {"term": "drug", "num_df": 2.0, "den_df": 126.8, "F": 0.5358, "p": 0.5913 + shift / 10},
        )
    ]
    return FitCheck(refits=pd.DataFrame(rows, columns=REFIT_COLUMNS), loglik=loglik, boundary=[])


def test_two_tests_agree_when_they_differ_by_less_than_half_a_printed_digit() -> None:
    row = REPORTED.iloc[1]
    assert same_test(row, row.to_dict() | {"F": 0.5358 + 0.0049, "den_df": 126.84, "p": 0.5917})
    assert not same_test(row, row.to_dict() | {"F": 0.5358 + 0.0051})
    assert not same_test(row, row.to_dict() | {"den_df": 126.86})
    assert not same_test(row, row.to_dict() | {"p": 0.5919})
    tiny = REPORTED.iloc[0]
    assert same_test(tiny, tiny.to_dict() | {"p": 0.0009})  # both print as p < .001


def test_a_warned_fit_is_stable_when_every_refit_at_the_optimum_prints_its_tests_alike() -> None:
    """A refit that stopped below the best likelihood does not count against the reported fit; the best refit's
    test, or another refit's F at the optimum, that differs at the printed precision makes the verdict unstable
    and names the term."""
    stable = _check([("nloptwrap", -100.0, 0.0), ("bobyqa", -100.0, 0.003), ("Nelder_Mead", -100.5, 0.8)])
    assert verdict(REPORTED, stable) == ("stable", [])
    summary = check_summary(REPORTED, stable, warned=True)
    assert summary["refits"] == 3 and summary["refits_below_optimum"] == 1 and summary["loglik_shortfall"] == 0
    assert summary["F_spread"] == pytest.approx(0.003)  # Nelder-Mead's worse optimum left out
    assert summary["den_df_spread"] == 0  # the best refit's df is the reported one
    # another refit's F at the optimum (its df and p are not computed): only the term whose F moved
    unstable = _check([("nloptwrap", -100.0, 0.0), ("nlminbwrap", -100.001, 0.02)])
    assert verdict(REPORTED, unstable) == ("unstable", ["emotion"])
    # the best refit's df and p count too: drug's p moves by .002
    assert verdict(REPORTED, _check([("nloptwrap", -100.0, 0.02)])) == ("unstable", ["emotion", "drug"])
    # the reported fit below a better optimum whose tests print otherwise
    below = _check([("nloptwrap", -99.0, 0.2)], loglik=-100.0)
    assert verdict(REPORTED, below) == ("unstable", ["emotion", "drug"])
    # ... or alike: the verdict is about the tests; the shortfall is recorded
    alike = _check([("nloptwrap", -99.0, 0.001)], loglik=-100.0)
    assert verdict(REPORTED, alike) == ("stable", [])
    assert check_summary(REPORTED, alike, warned=True)["loglik_shortfall"] == pytest.approx(1.0)
    assert check_summary(REPORTED, None, warned=False)["verdict"] == "no warning"
    assert check_summary(REPORTED, None, warned=True)["verdict"] == "not checked"


def test_a_singular_fit_says_which_tests_change_without_its_boundary_components() -> None:
    """The fit without the boundary components is another model: it never enters the verdict, but the summary
    names the terms whose printed test it changes (``none``: all print the same), and optimizers.tsv carries it."""
    simpler_tests = REPORTED.assign(F=[21.234, 0.61])
    check = _check([("nloptwrap", -100.0, 0.0)])
    check.without_boundary = SimplerFit("(1 + time || participant)", simpler_tests, loglik=-103.0, singular=False)
    summary = check_summary(REPORTED, check, warned=True)
    assert summary["verdict"] == "stable" and summary["loglik_shortfall"] == 0
    assert summary["without_boundary"] == "(1 + time || participant)" and summary["without_boundary_differs"] == "drug"
    check.without_boundary = SimplerFit("(1 | face)", REPORTED, loglik=-103.0, singular=True)
    assert check_summary(REPORTED, check, warned=True)["without_boundary_differs"] == "none"
    table = check.table()
    assert list(table.columns) == REFIT_COLUMNS and len(table) == 4
    assert table["messages"].iloc[-1] == "(1 | face) | boundary (singular) fit"
    assert (table["optimizer"] == WITHOUT_BOUNDARY).sum() == 2
    assert check_summary(REPORTED, None, warned=True)["without_boundary"] == ""


def test_the_summary_states_each_warned_models_verdict() -> None:
    """One sentence per warned model: its warning, the verdict, the boundary, the fit without it; where a test
    changes, whether its decision at alpha does (the best refit's p, the simpler fit's p)."""
    info = pd.DataFrame(
        [
            {"model": "emg_corrugator", "used": True, "warnings": "Model failed to converge with max|grad| = 0.007"},
            {"model": "rt", "used": True, "warnings": "boundary (singular) fit: see help('isSingular')"},
            {"model": "emg_zygomaticus", "used": True, "warnings": ""},
        ]
    ).assign(
        refits=6,
        unstable_terms=["", "emotion", ""],
        boundary=["", "face: SD of (Intercept) is 0", ""],
        without_boundary=["", "(1 + emotion | participant)", ""],
        without_boundary_differs=["", "drug", ""],
    )
    info["verdict"] = ["stable", "unstable", "no warning"]
    anova = {model: REPORTED.assign(model=model) for model in info["model"]}
    best = _check([("bobyqa", -100.0, 0.3)]).refits.assign(model="rt")  # emotion's df moves; p stays < .05
    simpler = REPORTED.assign(model="rt", optimizer=WITHOUT_BOUNDARY, p=[0.00002, 0.04])  # drug now < .05
    refits = pd.concat([best, simpler], ignore_index=True)
    statements = lmm_convergence_findings(info, {"rt": "Response times"}, anova, refits, 0.05)
    assert statements[0].startswith("emg_corrugator: lme4 warned (Model failed to converge with max|grad| = 0.007)")
    assert "in 6 refits" in statements[0] and "(stable)" in statements[0]
    assert "Response times: lme4 warned (boundary (singular) fit)" in statements[1]
    assert "UNSTABLE: the tests of emotion changed (no decision at p < 0.05 changed)" in statements[1]
    assert "face: SD of (Intercept) is 0" in statements[1]
    assert (
        "without it ((1 + emotion | participant)) the tests of drug changed (significance at p < 0.05 changed for drug)"
        in statements[1]
    )
    held = lmm_convergence_findings(info.assign(without_boundary_differs="none"), {}, anova, refits, 0.05)
    assert "without it ((1 + emotion | participant)) every reported test printed the same" in held[1]
    assert lmm_convergence_findings(info.assign(verdict="no warning"), {}, anova, refits, 0.05) == [
        "lme4 fitted all 3 linear mixed models without a warning."
    ]


SINGULAR = "response_time ~ emotion * drug + (1 + emotion | participant) + (1 + emotion | face)"
SINGULAR_FACTORS = {"emotion": ["A", "B"], "drug": ["a", "b", "c"]}


def _faceless_response_times() -> pd.DataFrame:
    """30 participants' response times with no face variance at all: a singular fit of ``SINGULAR``."""
    rng = np.random.default_rng(1)
    rows = []
    for participant in range(30):
        offset = rng.normal(0, 0.3)
        for face in range(8):
            for emotion in ("A", "B"):
                for _ in range(4):
                    rows.append(
                        {
                            "participant": f"{participant:03d}",
                            "drug": "abc"[participant % 3],
                            "face": f"f{face}",
                            "emotion": emotion,
                            "response_time": 1 + offset + 0.1 * (emotion == "A") + rng.normal(0, 0.5),
                        }
                    )
    return pd.DataFrame(rows)


@pytest.mark.validation
def test_a_singular_fit_is_refitted_with_every_optimizer_and_its_boundary_named() -> None:
    """Response times with no face variance at all: lme4 calls the fit singular; the check restarts it from its
    optimum with allFit's optimizers installed here (bobyqa, Nelder_Mead, nlminbwrap and nloptwrap's two; optimx
    and dfoptim are not Debian's R packages here) and from off the boundary, every refit reaches the optimum,
    names the face SDs at zero, and fits the model without the face effects: the tests print the same."""
    result, attempts = fit_with_fallbacks(_faceless_response_times(), [SINGULAR], SINGULAR_FACTORS, check_cores=2)
    assert len(result.residuals) == 30 * 8 * 2 * 4 and abs(result.residuals["residual"].mean()) < 0.01
    tables = result_tables(result, "rt", attempts)
    info = tables["info"].iloc[0]
    assert "singular" in info["warnings"] and info["refits_below_optimum"] == 0, info.to_dict()
    # on this flat likelihood the start off the boundary reaches it 1e-4 lower with emotion's F .02 higher: a
    # printed digit, so strictly unstable; the verdict names exactly the terms whose F spread over a printed unit
    assert (info["verdict"] == "unstable") == (info["F_spread"] >= 0.005) == bool(info["unstable_terms"])
    # the five optimizers from the optimum, and the fit's own (nloptwrap) from off the boundary
    assert info["refits"] == 6 and info["refits_failed"] == 0
    assert "face: SD of (Intercept) is 0" in info["boundary"]
    assert "face" not in info["without_boundary"] and info["without_boundary_differs"] == "none", info.to_dict()
    refits = tables["optimizers"]
    assert set(refits["optimizer"]) == {
        "nloptwrap",
        "bobyqa",
        "Nelder_Mead",
        "nlminbwrap",
        "nloptwrap.NLOPT_LN_NELDERMEAD",
        "nloptwrap.NLOPT_LN_BOBYQA",
        WITHOUT_BOUNDARY,
    }
    assert list(refits.columns) == ["model", *REFIT_COLUMNS] and len(refits) == 7 * 3
    assert refits.loc[refits["start"] == "off boundary", "optimizer"].tolist() == ["nloptwrap"] * 3
    assert refits["den_df"].notna().sum() == 2 * 3  # the best refit's tests, and the simpler fit's


@pytest.mark.validation
def test_the_check_agrees_with_the_plain_r_reference(tmp_path: Path) -> None:
    """tools/reference/lmm.R --check does the same check the slow, independent way (lmerTest's own tests for
    every refit, allFit's table as lme4 has it): the same refits reach the same log-likelihoods, the workflow's
    Wald F of each refit is lmerTest's F, the best refit's df and p agree, and so does the verdict."""
    data = _faceless_response_times()
    result, attempts = fit_with_fallbacks(data, [SINGULAR], SINGULAR_FACTORS, check_cores=2)
    tables = result_tables(result, "rt", attempts)
    data.to_csv(tmp_path / "rt.tsv", sep="\t", index=False)
    run_in_fresh_r(
        [
            "Rscript",
            str(ROOT / "tools/reference/lmm.R"),
            "--check",
            str(tmp_path / "rt.tsv"),
            SINGULAR,
            str(tmp_path / "r"),
        ],
        check=True,
        capture_output=True,
    )
    reference = pd.read_csv(tmp_path / "r_refits.tsv", sep="\t").set_index(["optimizer", "start", "term"])
    ours = tables["optimizers"].loc[lambda t: t["optimizer"] != WITHOUT_BOUNDARY]
    ours = ours.set_index(["optimizer", "start", "term"]).loc[reference.index]
    np.testing.assert_allclose(ours["loglik"], reference["loglik"], rtol=1e-9)
    np.testing.assert_allclose(ours["F"], reference["F"], rtol=1e-6)
    best = ours.dropna(subset=["den_df"])
    assert len(best) == 3 and best["loglik"].iloc[0] == ours["loglik"].max()
    np.testing.assert_allclose(best["den_df"], reference.loc[best.index, "den_df"], rtol=1e-4)
    np.testing.assert_allclose(best["p"], reference.loc[best.index, "p"], rtol=1e-3)
    info = tables["info"].iloc[0]
    expected = "stable" if info["verdict"] == "stable" else f"unstable {info['unstable_terms']}"
    assert (tmp_path / "r_verdict.txt").read_text().strip() == expected
