"""The asymptotic model in other universes: a universe's participant means as the model's data, and its drug
contrasts beside the main analysis's."""

from __future__ import annotations

import pandas as pd

from mimicry.bayes.model import DATA_COLUMNS


def universe_model_data(means: pd.DataFrame, universe: int, window_s: float) -> pd.DataFrame:
    """The asymptotic model's rows (``mimicry.bayes.model.model_data``'s, participant level) from one universe's
    means: ``time`` in seconds from the first window (for 1-s windows the main analysis's ``window - 1``), so that
    the rate means the same in universes with other windows."""
    part = means.loc[means["universe"] == universe]
    data = part.rename(columns={"group": "drug", "response": "log_emg"})
    for column in ("participant", "drug", "muscle", "emotion"):
        data[column] = data[column].astype(str)
    data["time"] = (data["window"] - 1).astype(float) * window_s
    order = ["participant", "drug", "muscle", "emotion", "window"]
    return data.sort_values(order)[DATA_COLUMNS].reset_index(drop=True)
