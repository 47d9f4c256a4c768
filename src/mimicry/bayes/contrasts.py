"""Each drug against the reference group: the posterior of the difference in asymptote (a) and in log rate (c) per
muscle x emotion, with its HDI and probability of direction. The question the study asks, answered from the
posterior rather than from which nested model wins a comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

#: The population parameters of the tidy posterior (``mimicry.bayes.sampling.tidy_posterior``): ``start`` where the
#: model has b's intercept.
POPULATION_PARAMETERS = ("asymptote", "rate", "start", "sd_a", "sd_b", "sd_c", "sigma")
#: Columns of contrasts.tsv.
CONTRAST_COLUMNS = [
    "model",
    "parameter",
    "drug",
    "reference",
    "muscle",
    "emotion",
    "mean",
    "hdi_low",
    "hdi_high",
    "prob_direction",
    "direction",
    "excludes_zero",
    "converged",
]
#: The fixed effects a contrast is taken of, as the report names them.
PARAMETER_LABELS = {"asymptote": "asymptote", "rate": "log rate"}


def drug_contrasts(posterior: xr.Dataset, model: str, reference: str, hdi_prob: float, converged: bool) -> pd.DataFrame:
    """One row per drug (not the reference) x parameter carrying the drug x muscle x emotion: mean difference
    drug - reference, its HDI, the probability of direction (the posterior share on the side of the median,
    0.5 to 1), its direction (``higher`` or ``lower``), whether the HDI excludes 0 and the model's convergence
    verdict. Empty for a model without drug terms."""
    import arviz as az

    rows = []
    for parameter in PARAMETER_LABELS:
        if parameter not in posterior or "drug" not in posterior[parameter].dims:
            continue
        values = posterior[parameter]
        for drug in values["drug"].values:
            if drug == reference:
                continue
            difference = values.sel(drug=drug) - values.sel(drug=reference)
            hdi = az.hdi(difference, prob=hdi_prob)
            for muscle in difference["muscle"].values:
                for emotion in difference["emotion"].values:
                    sample = difference.sel(muscle=muscle, emotion=emotion).values.ravel()
                    low = float(hdi.sel(muscle=muscle, emotion=emotion, ci_bound="lower"))
                    high = float(hdi.sel(muscle=muscle, emotion=emotion, ci_bound="upper"))
                    above = float(np.mean(sample > 0))
                    rows.append(
                        {
                            "model": model,
                            "parameter": parameter,
                            "drug": str(drug),
                            "reference": reference,
                            "muscle": str(muscle),
                            "emotion": str(emotion),
                            "mean": float(sample.mean()),
                            "hdi_low": low,
                            "hdi_high": high,
                            "prob_direction": max(above, 1.0 - above),
                            "direction": "higher" if np.median(sample) > 0 else "lower",
                            "excludes_zero": bool(low > 0 or high < 0),
                            "converged": converged,
                        }
                    )
    return pd.DataFrame(rows, columns=CONTRAST_COLUMNS)


def describe_contrasts(contrasts: pd.DataFrame, hdi_prob: float) -> list[str]:
    """One sentence per contrast whose HDI excludes 0, naming drug, parameter, muscle, emotion and direction."""
    sentences = []
    for row in contrasts[contrasts["excludes_zero"]].itertuples():
        sentences.append(
            f"{row.drug} vs {row.reference}: {PARAMETER_LABELS[row.parameter]} of the {row.muscle} in "
            f"{row.emotion} {row.direction} by {abs(row.mean):.3f} ({hdi_prob:.0%} HDI [{row.hdi_low:.3f}, "
            f"{row.hdi_high:.3f}], probability of direction {row.prob_direction:.3f}; {row.model} model)"
        )
    return sentences


def population_and_contrasts(dataset: xr.Dataset, reference: str) -> xr.Dataset:
    """The population parameters and each drug's contrast with the reference group (``asymptote_contrast``,
    ``rate_contrast``, where the model has the drug; on their own dim ``treatment``: on ``drug`` they would be
    aligned with the reference group's absent contrast). What the model checks assess."""
    chosen = dataset[[name for name in POPULATION_PARAMETERS if name in dataset]]
    for name in ("asymptote", "rate"):
        values = dataset[name]
        if "drug" in values.dims:
            others = [drug for drug in values["drug"].values if drug != reference]
            contrast = values.sel(drug=others) - values.sel(drug=reference)
            chosen[f"{name}_contrast"] = contrast.rename(drug="treatment")
    return chosen


def with_cell_columns(table: pd.DataFrame) -> pd.DataFrame:
    """A table of :func:`population_and_contrasts`' elements with ``drug`` (a contrast's treatment), ``muscle`` and
    ``emotion`` columns, empty where a quantity has no such dim."""
    table = table.copy()
    if "treatment" in table:
        table["drug"] = table["treatment"].combine_first(table["drug"]) if "drug" in table else table["treatment"]
    for column in ("drug", "muscle", "emotion"):
        table[column] = table[column].fillna("") if column in table else ""
    return table
