"""The multiverse in words: one finding per estimand for the report, and the methods paragraph of the multiverse
that ran (its forks, universes, estimands, permutations and results)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from mimicry.apa import format_p
from mimicry.multiverse.joint import JOINT_STATISTICS


def joint_findings(joint: pd.DataFrame, specifications: pd.DataFrame, alpha: float) -> list[str]:
    """Per estimand: the main analysis's universe, how many universes are significant, the median standardised
    estimate and Stouffer's Z with their permutation p-values, and whether the universes together depart from the
    null (Stouffer's Z, the one joint test decided on: the other two describe)."""
    out = []
    universes = specifications["universe"].nunique()
    for estimand, part in joint.groupby("estimand", sort=False):
        rows = part.set_index("statistic")
        specs = specifications[specifications["estimand"] == estimand]
        main = specs[specs["universe"] == 1].iloc[0]
        omnibus = main["kind"] == "omnibus"
        said = (
            f"F({int(main['df_num'])}, {int(main['df_den'])}) = {main['statistic']:.2f}, {format_p(main['p'])}"
            if omnibus
            else f"{main['estimate']:.3g} [{main['ci_low']:.3g}, {main['ci_high']:.3g}] {main['unit']}, "
            f"{format_p(main['p'])}"
        )
        median, count, stouffer = (rows.loc[name] for name in JOINT_STATISTICS)
        holds = stouffer["p"] < alpha
        direction = "" if omnibus else " in one direction"
        out.append(
            f"{estimand}: in the main analysis's universe {said}; {int(count['observed'])} of {universes} universes "
            f"significant{direction} (permutation {format_p(count['p'])}); median estimate "
            f"{median['observed']:.2f} {'(eta squared)' if omnibus else 'SD units'} ({format_p(median['p'])}), "
            f"Stouffer's Z {stouffer['observed']:.2f} ({format_p(stouffer['p'])}): "
            + (
                "the universes together depart from the null"
                if holds
                else "the universes together are consistent with the null"
            )
            + f" ({int(median['permutations'])} permutations: {median['null']})."
        )
    return out


def methods_paragraph(
    forks: Mapping[str, Mapping[str, Any]],
    exclusions: Sequence[Mapping[str, str]],
    collapsed: Sequence[str],
    universes: int,
    estimands: Sequence[str],
    permutations: int,
    alpha: float,
) -> str:
    """The multiverse's methods, in the words of the study that ran (``forks``: ``multiverse.forks``)."""
    described = "; ".join(
        f"{name} ({', '.join(fork['options'])}; the main analysis: {fork['main']})" for name, fork in forks.items()
    )
    left_out = (
        f" Combinations left out as not meaningful: {'; '.join(' with '.join(rule.values()) for rule in exclusions)}."
        if exclusions
        else ""
    )
    moot = (
        f" The recordings are amplitude envelopes, so the forks on the signal ({', '.join(collapsed)}) kept their "
        "main option."
        if collapsed
        else ""
    )
    return (
        "**Multiverse.** To ask whether the conclusions hold under other defensible preprocessing choices "
        "(Steegen et al., 2016), every participant's recording was preprocessed under every combination of the "
        f"options of {len(forks)} decisions: {described}.{left_out}{moot} This gave {universes} universes, one of "
        "them the main analysis. In each, the participant means per muscle, emotion and window were summarised per "
        "participant by least-squares time slopes (per second), and these estimands computed: "
        f"{'; '.join(estimands)}. Drug effects are each drug's mean slope minus the reference group's, with t tests "
        "on the pooled within-group variance; the omnibus tests are F tests of drug on each participant's "
        "emotion contrast of slopes; the positive controls are that contrast's mean, with a t test. On complete "
        "participant means these equal the corresponding LMMs on participant means. Estimates are also given in SD "
        "units of their participant summaries, comparable across baselines. Inference across universes followed "
        "Simonsohn, Simmons and Nelson (2020): the median standardised estimate, the number of universes "
        f"significant at alpha = {alpha:g} in the dominant direction, and Stouffer's Z over universes, each "
        f"against {permutations} permutations of the drug labels between participants (for the positive controls, "
        "random sign flips of each participant's contrast), every universe recomputed under each."
    )
