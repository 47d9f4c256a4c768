"""Table 1 of Korb et al. (2023) as the simulator draws from it: per group, the share of females, mean (SD) of
age, BMI, hours from pill, PANAS change (t1 - t2), the guess probabilities and the nausea scores (1-5) at t1/t2."""

from __future__ import annotations

from typing import Any

TABLE1: dict[str, dict[str, Any]] = {
    "amisulpride": dict(
        female=28 / 42,
        age=(23.7, 4.2),
        bmi=(22.67, 2.56),
        hours=(4.2, 0.2),
        panas_pos_change=(3.5, 4.8),
        panas_neg_change=(1.2, 1.5),
        guess={"placebo": 24 / 42, "amisulpride": 7 / 42, "naltrexone": 11 / 42},
        nausea_t1={2: 0.05},
        nausea_t2={},
    ),
    "naltrexone": dict(
        female=30 / 44,
        age=(22.9, 2.8),
        bmi=(23.01, 2.31),
        hours=(4.2, 0.3),
        panas_pos_change=(5.1, 4.9),
        panas_neg_change=(2.3, 5.5),
        guess={"placebo": 18 / 44, "amisulpride": 13 / 44, "naltrexone": 13 / 44},
        nausea_t1={2: 0.02},
        nausea_t2={2: 0.08, 3: 0.06},
    ),
    "placebo": dict(
        female=29 / 44,
        age=(22.9, 3.6),
        bmi=(22.15, 2.60),
        hours=(4.1, 0.2),
        panas_pos_change=(2.7, 3.7),
        panas_neg_change=(1.0, 1.8),
        guess={"placebo": 22 / 44, "amisulpride": 11 / 44, "naltrexone": 11 / 44},
        nausea_t1={},
        nausea_t2={},
    ),
}
#: Groups a user names that the paper does not have get the paper's pooled figures and uniform guesses.
POOLED: dict[str, Any] = dict(
    female=87 / 130,
    age=(23.2, 3.55),
    bmi=(22.6, 2.49),
    hours=(4.2, 0.25),
    panas_pos_change=(3.7, 4.6),
    panas_neg_change=(1.44, 3.5),
    guess=None,
    nausea_t1={},
    nausea_t2={},
)
#: The share of missing PANAS t2 scores: the paper's PANAS tests have 4-5 fewer df than participants.
PANAS_MISSING = 0.035
