"""Inference across universes (Simonsohn, Simmons and Nelson 2020): each universe's estimates, what they say
together (the median standardised estimate, the universes significant in the dominant direction, Stouffer's Z),
how often the same summary arises when the null is true (the drug labels permuted between participants, every
universe recomputed under each permutation; for the positive control, each participant's mimicry contrast
sign-flipped), and which forks move the estimates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mimicry.multiverse.estimands import SPECIFICATION_COLUMNS, Estimand, Summaries, indicators, statistics

#: The joint statistics, in the order ``joint_test.tsv`` lists them.
JOINT_STATISTICS = ("median estimate (SD units)", "significant universes (dominant direction)", "Stouffer's Z")
#: Columns of ``joint_test.tsv``.
JOINT_COLUMNS = [
    "estimand",
    "statistic",
    "observed",
    "null_mean",
    "null_low",
    "null_high",
    "p",
    "permutations",
    "null",
]


def _codes(summaries: Summaries, estimand: Estimand, reference: str) -> tuple[int, int]:
    names = summaries.group_names
    return (names.index(estimand.drug) if estimand.drug else -1), names.index(reference)


def specifications(summaries: Summaries, estimands: Sequence[Estimand], reference: str, alpha: float) -> pd.DataFrame:
    """``specifications.tsv``: one row per universe x estimand (:data:`SPECIFICATION_COLUMNS`)."""
    groups = indicators(summaries.groups, len(summaries.group_names))
    rows = []
    for estimand in estimands:
        drug, ref = _codes(summaries, estimand, reference)
        found = statistics(summaries.values[estimand.summary], groups, estimand.kind, drug, ref)
        table = pd.DataFrame(found)
        table.insert(0, "universe", summaries.universes)
        table.insert(1, "estimand", estimand.name)
        table.insert(2, "kind", estimand.kind)
        table.insert(3, "muscle", estimand.muscle)
        table.insert(4, "contrast", estimand.contrast)
        table["significant"] = table["p"] < alpha
        table["unit"] = "eta squared" if estimand.kind == "omnibus" else table["universe"].map(summaries.units)
        rows.append(table)
    out = pd.concat(rows, ignore_index=True)
    return out.astype({"participants": "int64", "df_num": "int64", "df_den": "int64"})[SPECIFICATION_COLUMNS]


def joint_statistics(found: dict[str, np.ndarray], kind: str, alpha: float) -> dict[str, np.ndarray]:
    """The three joint statistics over the universes (last axis) of :func:`statistics`' arrays."""
    from scipy import stats

    p, estimate = found["p"], found["estimate_sd"]
    significant = p < alpha
    if kind == "omnibus":
        count = significant.sum(axis=-1)
        z = stats.norm.isf(p)
    else:
        count = np.maximum((significant & (estimate > 0)).sum(axis=-1), (significant & (estimate < 0)).sum(axis=-1))
        z = np.sign(estimate) * stats.norm.isf(p / 2)
    return {
        JOINT_STATISTICS[0]: np.median(estimate, axis=-1),
        JOINT_STATISTICS[1]: count,
        JOINT_STATISTICS[2]: z.sum(axis=-1) / np.sqrt(z.shape[-1]),
    }


def _extreme(null: np.ndarray, observed: float, one_sided: bool) -> float:
    """The permutation p-value: the share of the null as extreme as observed, the observed counted in."""
    beyond = null >= observed if one_sided else np.abs(null) >= abs(observed)
    return float((1 + beyond.sum()) / (1 + len(null)))


def joint_tests(
    summaries: Summaries,
    estimands: Sequence[Estimand],
    reference: str,
    permutations: int,
    seed: int,
    alpha: float,
    batch: int = 100,
) -> pd.DataFrame:
    """``joint_test.tsv``: per estimand and joint statistic, the observed value, its null distribution's mean and
    central 95% range over ``permutations`` draws, and the permutation p-value (one-sided for the omnibus test and
    the count of significant universes, two-sided otherwise). Deterministic per ``seed``."""
    n_groups = len(summaries.group_names)
    observed_groups = indicators(summaries.groups, n_groups)
    rng = np.random.default_rng(seed)
    labels = rng.permuted(np.tile(summaries.groups, (permutations, 1)), axis=1)
    flips = rng.choice([-1.0, 1.0], size=(permutations, len(summaries.participants)))
    rows = []
    for estimand in estimands:
        drug, ref = _codes(summaries, estimand, reference)
        x = summaries.values[estimand.summary]
        observed = joint_statistics(statistics(x, observed_groups, estimand.kind, drug, ref), estimand.kind, alpha)
        nulls: dict[str, list[np.ndarray]] = {name: [] for name in JOINT_STATISTICS}
        for start in range(0, permutations, batch):
            part = slice(start, start + batch)
            if estimand.kind == "control":  # the mimicry effect's null: no effect, each contrast's sign at random
                groups = np.broadcast_to(observed_groups, (len(flips[part]), *observed_groups.shape))
                found = statistics(x, groups, estimand.kind, drug, ref, flips=flips[part])
            else:  # a drug effect's null: the drug labels exchangeable between participants
                found = statistics(x, indicators(labels[part], n_groups), estimand.kind, drug, ref)
            for name, values in joint_statistics(found, estimand.kind, alpha).items():
                nulls[name].append(values)
        for name in JOINT_STATISTICS:
            null = np.concatenate(nulls[name]).astype(float)
            one_sided = estimand.kind == "omnibus" or name == JOINT_STATISTICS[1]
            rows.append(
                {
                    "estimand": estimand.name,
                    "statistic": name,
                    "observed": float(observed[name]),
                    "null_mean": float(null.mean()),
                    "null_low": float(np.quantile(null, 0.025)),
                    "null_high": float(np.quantile(null, 0.975)),
                    "p": _extreme(null, float(observed[name]), one_sided),
                    "permutations": permutations,
                    "null": "sign flips" if estimand.kind == "control" else "drug labels permuted",
                }
            )
    return pd.DataFrame(rows, columns=JOINT_COLUMNS)


def decisions(specifications: pd.DataFrame, universe_table: pd.DataFrame, forks: Sequence[str]) -> pd.DataFrame:
    """``decisions.tsv``: per estimand, fork and option, the median standardised estimate and the share of
    universes significant; per estimand and fork, the share of the standardised estimates' variance over the
    universes that the fork's options explain (between-option over total sum of squares; in a full factorial
    the forks' shares are orthogonal, and what they leave is their interactions)."""
    table = specifications.merge(universe_table[["universe", *forks]], on="universe")
    rows = []
    for estimand, part in table.groupby("estimand", sort=False):
        total = ((part["estimate_sd"] - part["estimate_sd"].mean()) ** 2).sum()
        for fork in forks:
            by_option = part.groupby(fork, sort=False)["estimate_sd"]
            between = (by_option.transform("mean") - part["estimate_sd"].mean()).pow(2).sum()
            for option, values in by_option:
                rows.append(
                    {
                        "estimand": estimand,
                        "fork": fork,
                        "option": option,
                        "variance_share": between / total if total > 0 else np.nan,
                        "median_estimate_sd": values.median(),
                        "significant_share": part.loc[values.index, "significant"].mean(),
                        "universes": len(values),
                    }
                )
    return pd.DataFrame(rows)
