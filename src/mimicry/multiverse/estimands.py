"""What each universe says about the questions a reader of the study asks, at the level of participant means.

Every estimand is a least-squares statistic of one number per participant (a summary), so that it is exact and
fast enough to recompute for every universe under hundreds of permutations (:mod:`mimicry.multiverse.joint`):

- the drug effect on mimicry (the follow-up model's drug x time): per participant, the time slope of the
  follow-up emotion's mean response in the follow-up muscle (e.g. zygomaticus, AngryToHappy); per drug, its
  group mean minus the reference group's, with a t test on the pooled within-group variance (df N - G). With every
  participant's windows complete this is the LMM ``response ~ drug * time + (1 + time | participant)`` on the
  participant means: the same estimate and test (tests/test_multiverse.py checks it against lme4);
- the omnibus emotion x drug x time test per muscle: per participant, the follow-up emotion's slope minus the mean
  slope of the other emotions (the mimicry contrast); an F test of drug on it (df G - 1, N - G); for two emotions
  the LMM's three-way interaction on the participant means;
- the positive control, emotion x time per muscle (the mimicry effect itself): the mimicry contrast's mean over
  the groups' means, with a t test (df N - G).

Slopes are per second (time: the window's end, ``window x length``; the LMM's ``time`` for 1-s windows), so that
universes with other windows estimate the same quantity. Units differ between baselines (log proportion, µV, SD
units): ``estimate_sd`` is every estimate over the pooled within-group SD of its summary, comparable everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mimicry.multiverse.forks import Universe
from mimicry.study import Study

#: The unit of a summary's estimate under each baseline.
UNITS = {"log_proportion": "log proportion / s", "subtract": "µV / s", "zscore": "SD / s"}
#: Columns of ``specifications.tsv``: one row per universe x estimand.
SPECIFICATION_COLUMNS = [
    "universe",
    "estimand",
    "kind",
    "muscle",
    "contrast",
    "estimate",
    "ci_low",
    "ci_high",
    "statistic",
    "df_num",
    "df_den",
    "p",
    "significant",
    "estimate_sd",
    "unit",
    "participants",
]


@dataclass(frozen=True)
class Estimand:
    """One question: its name, its kind (``drug``: a drug minus the reference group; ``omnibus``: an F test
    across the groups; ``control``: the mimicry effect), its summary and, for ``drug``, the drug."""

    name: str
    kind: str
    summary: str
    muscle: str
    contrast: str
    drug: str = ""


@dataclass(frozen=True)
class Summaries:
    """One number per universe x participant for each summary (NaN: the participant has no such mean in that
    universe), the participants' group codes, and each universe's unit."""

    universes: np.ndarray
    participants: list[str]
    groups: np.ndarray
    group_names: list[str]
    values: Mapping[str, np.ndarray]
    units: Mapping[int, str]


def estimands(
    muscles: Sequence[str], groups: Sequence[str], reference: str, followup_muscle: str, followup_emotion: str
) -> list[Estimand]:
    """The estimands of a study: each drug against the reference on the follow-up slope, then per muscle the
    omnibus test and the positive control."""
    out = [
        Estimand(
            f"{drug} - {reference}: {followup_muscle} {followup_emotion} slope",
            "drug",
            "followup",
            followup_muscle,
            f"{drug} - {reference}",
            drug,
        )
        for drug in groups
        if drug != reference
    ]
    for muscle in muscles:
        out.append(
            Estimand(
                f"emotion x drug x time: {muscle}", "omnibus", f"mimicry:{muscle}", muscle, "emotion x drug x time"
            )
        )
        out.append(Estimand(f"emotion x time: {muscle}", "control", f"mimicry:{muscle}", muscle, "emotion x time"))
    return out


def _slopes(cube: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Least-squares slopes over the last axis (complete rows; NaN rows give NaN)."""
    centred = times - times.mean()
    return (cube * centred).sum(axis=-1) / (centred**2).sum()


def summaries(
    means: pd.DataFrame,
    universe_table: pd.DataFrame,
    window_lengths: Mapping[int, float],
    baselines: Mapping[int, str],
    emotions: Sequence[str],
    muscles: Sequence[str],
    groups: Sequence[str],
    followup: tuple[str, str],
) -> Summaries:
    """Every universe's participant summaries from the universe means (``means.parquet`` with ``group``):
    ``followup`` (the follow-up emotion's slope in the follow-up muscle) and ``mimicry:<muscle>`` (the follow-up
    emotion's slope minus the mean slope of the others)."""
    followup_muscle, followup_emotion = followup
    participants = sorted(means["participant"].unique())
    group_of = means.drop_duplicates("participant").set_index("participant")["group"]
    universes = universe_table["universe"].to_numpy()
    index = {u: k for k, u in enumerate(universes)}
    values = {
        name: np.full((len(universes), len(participants)), np.nan)
        for name in ["followup", *[f"mimicry:{m}" for m in muscles]]
    }
    followup_at = list(emotions).index(followup_emotion)
    others = [k for k, emotion in enumerate(emotions) if emotion != followup_emotion]
    muscle_at = list(muscles).index(followup_muscle)
    for count, part in means.groupby(means["window"].groupby(means["universe"]).transform("max")):
        numbers = sorted(part["universe"].unique())
        cube = (
            part.set_index(["universe", "participant", "muscle", "emotion", "window"])["response"]
            .unstack("window")
            .reindex(pd.MultiIndex.from_product([numbers, participants, muscles, emotions]))
        )
        windows = cube.to_numpy().reshape(len(numbers), len(participants), len(muscles), len(emotions), int(count))
        lengths = np.array([window_lengths[u] for u in numbers])
        slopes = _slopes(windows, np.arange(1, int(count) + 1, dtype=float)) / lengths[:, None, None, None]
        rows = [index[u] for u in numbers]
        values["followup"][rows] = slopes[:, :, muscle_at, followup_at]
        for m, muscle in enumerate(muscles):
            values[f"mimicry:{muscle}"][rows] = slopes[:, :, m, followup_at] - slopes[:, :, m, others].mean(axis=-1)
    codes = np.array([list(groups).index(group_of[p]) for p in participants])
    return Summaries(universes, participants, codes, list(groups), values, {u: UNITS[baselines[u]] for u in universes})


def study_summaries(
    means: pd.DataFrame,
    universe_table: pd.DataFrame,
    found: Sequence[Universe],
    study: Study,
    followup: Mapping[str, str],
) -> tuple[Summaries, list[Estimand]]:
    """What a multiverse's statistics start from: every universe's participant summaries (:func:`summaries`, each
    universe's window length and baseline from its settings) and the study's estimands (:func:`estimands`)."""
    found_summaries = summaries(
        means,
        universe_table,
        {u.number: u.settings["windows"]["length_s"] for u in found},
        {u.number: u.settings["baseline"] for u in found},
        study.emotions,
        study.muscles,
        study.groups,
        (followup["muscle"], followup["emotion"]),
    )
    questions = estimands(study.muscles, study.groups, study.reference_group, followup["muscle"], followup["emotion"])
    return found_summaries, questions


def indicators(codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Participants x groups 0/1 matrix of group codes; over a leading axis of codes (permutations) too."""
    return (codes[..., None] == np.arange(n_groups)).astype(float)


def statistics(
    x: np.ndarray,
    groups: np.ndarray,
    kind: str,
    drug: int = -1,
    reference: int = -1,
    flips: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """An estimand's estimate, 95% interval, test and standardised estimate in every universe, from its summary
    ``x`` (universes x participants, NaN where missing), the group indicators ``groups`` (participants x groups,
    with a leading axis of permutations if any: :func:`indicators`) and, for the positive control's null, sign
    flips (permutations x participants). ``kind``: :class:`Estimand`'s; ``drug`` and ``reference``: group codes of
    a ``drug`` estimand. Arrays over (permutations,) universes; the omnibus estimate is eta squared (the share of
    the summary's variance between the groups).
    """
    from scipy import stats

    valid = ~np.isnan(x)
    filled = np.where(valid, x, 0.0)
    if flips is None:
        sums = np.einsum("up,...pg->...ug", filled, groups)
    else:
        sums = np.einsum("up,...p,...pg->...ug", filled, flips, groups)
    n = np.einsum("up,...pg->...ug", valid.astype(float), groups)
    means = sums / n
    n_groups = groups.shape[-1]
    df = n.sum(axis=-1) - n_groups
    within = (filled**2).sum(axis=-1) - (sums**2 / n).sum(axis=-1)
    variance = within / df
    sd = np.sqrt(variance)
    critical = stats.t.ppf(0.975, df)
    if kind == "omnibus":
        grand = sums.sum(axis=-1) / n.sum(axis=-1)
        between = (n * (means - grand[..., None]) ** 2).sum(axis=-1)
        f = between / (n_groups - 1) / variance
        eta = between / (between + within)
        nan = np.full_like(f, np.nan)
        return {
            "estimate": eta,
            "ci_low": nan,
            "ci_high": nan,
            "statistic": f,
            "df_num": np.full_like(f, n_groups - 1),
            "df_den": df,
            "p": stats.f.sf(f, n_groups - 1, df),
            "estimate_sd": eta,
            "participants": n.sum(axis=-1),
        }
    if kind == "drug":
        estimate = means[..., drug] - means[..., reference]
        se = sd * np.sqrt(1 / n[..., drug] + 1 / n[..., reference])
    else:
        estimate = means.mean(axis=-1)
        se = sd * np.sqrt((1 / n).sum(axis=-1)) / n_groups
    t = estimate / se
    return {
        "estimate": estimate,
        "ci_low": estimate - critical * se,
        "ci_high": estimate + critical * se,
        "statistic": t,
        "df_num": np.ones_like(t),
        "df_den": df,
        "p": 2 * stats.t.sf(np.abs(t), df),
        "estimate_sd": estimate / sd,
        "participants": n.sum(axis=-1),
    }
