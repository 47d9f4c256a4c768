"""Response-time cleaning, as in Korb et al. (2023).

Within each participant, response times of correct trials are z-scored (as mousetrap's ``scale_within``: mean
and SD with ddof=1 over the participant's trials) and trials beyond ``n_sd`` SDs are flagged as outliers.
Trials whose response is not ``correct`` (miss, wrong_button, multiple) are excluded from the RT analysis.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from mimicry.table_columns import RT_DTYPES


def clean_response_times(trials: pd.DataFrame, participant: str, n_sd: float) -> pd.DataFrame:
    """One row per experimental trial (RT_DTYPES); ``rt_included`` marks the trials the RT models use."""
    correct = (trials["response"] == "correct") & trials["response_time"].notna()
    rt = trials["response_time"].where(correct)
    z = (rt - rt.mean()) / rt.std(ddof=1)
    outlier = (z.abs() > n_sd).fillna(False).astype(bool)
    return pd.DataFrame(
        {
            "participant": participant,
            "trial": trials["trial"].to_numpy(),
            "video": trials["video"].to_numpy(),
            "face": trials["face"].to_numpy(),
            "block": trials["block"].to_numpy(),
            "emotion": trials["trial_type"].to_numpy(),
            "response": trials["response"].to_numpy(),
            "response_time": trials["response_time"].to_numpy(float),
            "rt_z": z.to_numpy(float),
            "rt_outlier": outlier.to_numpy(),
            "rt_included": (correct & ~outlier).to_numpy(),
        }
    ).astype(RT_DTYPES)


def summarize_response_times(table: pd.DataFrame) -> pd.DataFrame:
    """Per recording (participant, and session where the table has one): trials, counts per response category,
    RT outliers and trials kept for the RT models."""
    keys = ["participant", "session"] if "session" in table.columns else ["participant"]
    counts = table.groupby(keys)["response"].value_counts().unstack(fill_value=0)
    for category in ("correct", "miss", "wrong_button", "multiple"):
        if category not in counts:
            counts[category] = 0
    grouped = table.groupby(keys)
    return pd.DataFrame(
        {
            "trials": grouped.size(),
            **{category: counts[category] for category in ("correct", "miss", "wrong_button", "multiple")},
            "rt_outliers": grouped["rt_outlier"].sum(),
            "rt_included": grouped["rt_included"].sum(),
            "mean_rt_s": grouped["response_time"].apply(lambda x: float(np.nanmean(x)) if x.notna().any() else np.nan),
        }
    ).reset_index()
