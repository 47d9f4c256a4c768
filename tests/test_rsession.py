"""Fresh R processes: lme4 gives identical numbers for identical input, whatever process fits it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mimicry.lmm import fit_with_fallbacks, result_tables, rt_model_data
from mimicry.rsession import RETRY_STATUS, FreshRError, call_in_fresh_r, lme4_default_ordering, run_in_fresh_r


def test_every_fresh_process_has_the_default_ordering() -> None:
    """Three fresh processes all pass the probe (without the retry each passes with probability 1/2 on Debian's
    lme4)."""
    assert all(call_in_fresh_r(lme4_default_ordering) for _ in range(3))


def test_a_process_asking_for_a_retry_is_started_again(tmp_path: Path) -> None:
    counter = tmp_path / "starts"
    script = (
        f"import sys, pathlib; p = pathlib.Path({str(counter)!r}); n = len(p.read_text()) if p.exists() else 0;"
        f" p.write_text('x' * (n + 1)); sys.exit({RETRY_STATUS} if n < 2 else 0)"
    )
    assert run_in_fresh_r([sys.executable, "-c", script], check=True).returncode == 0
    assert counter.read_text() == "xxx"
    with pytest.raises(subprocess.CalledProcessError):
        run_in_fresh_r([sys.executable, "-c", "raise SystemExit(3)"], check=True)


def test_endless_retries_end_in_an_error_that_says_why() -> None:
    with pytest.raises(FreshRError, match="address-space randomisation"):
        run_in_fresh_r([sys.executable, "-c", f"raise SystemExit({RETRY_STATUS})"], attempts=3)


def test_an_error_in_the_worker_reaches_the_caller() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        call_in_fresh_r(int, "not a number")


def test_a_singular_fit_gives_identical_tables_in_every_process(test_run: Path) -> None:
    """The RT model of the test study is singular: lme4 once stopped at one of two optima depending on the
    process (p 6.0668e-08 or 6.0844e-08). Fitted three more times, every table equals the workflow's, byte for
    byte but the timing."""
    lmm = test_run / "results/statistics/lmm"
    data = rt_model_data(pd.read_parquet(test_run / "results/preprocessing/rt_trials.parquet"))
    info = pd.read_csv(lmm / "rt_info.tsv", sep="\t", keep_default_na=False)
    factors = {"emotion": ["AngryToHappy", "HappyToAngry"], "drug": ["amisulpride", "naltrexone", "placebo"]}
    for _ in range(3):
        result, attempts = fit_with_fallbacks(data, list(info["formula"]), factors)
        tables = result_tables(result, "rt", attempts)
        for name in ("anova", "fixed_effects"):
            assert tables[name].to_csv(sep="\t", index=False) == (lmm / f"rt_{name}.tsv").read_text()
