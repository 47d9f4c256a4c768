"""Statistics as a paper prints them (APA style): the precision a reader sees, which is also the precision at which
two fits of the same model are told apart (``mimicry.lmm_checks``)."""

from __future__ import annotations

from collections.abc import Mapping


def format_p(p: float) -> str:
    """APA style: ``p < .001`` or ``p = .042``."""
    return "p < .001" if p < 0.001 else f"p = {p:.3f}".replace("0.", ".", 1)


#: The last printed digit of an F test's denominator df, F and p (:func:`format_f`).
F_TEST_RESOLUTION = {"den_df": 0.1, "F": 0.01, "p": 0.001}


def format_f(row: Mapping[str, float]) -> str:
    """``F(2, 126.3) = 0.12, p = .887`` from an ANOVA row (num_df, den_df, F, p)."""
    return f"F({row['num_df']:g}, {row['den_df']:.1f}) = {row['F']:.2f}, {format_p(row['p'])}"


def format_p_value(p: float) -> str:
    """A p-value as APA prints it in a table: ``< .001``, ``.044``, ``1.000`` never (``> .999``)."""
    if p < 0.001:
        return "< .001"
    if p > 0.999:
        return "> .999"
    return f"{p:.3f}".removeprefix("0")
