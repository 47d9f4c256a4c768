"""The asymptotic mimicry curve: the one definition that the simulator plants, the models fit and the figures
draw (pure NumPy, or PyTensor through ``xp``)."""

from __future__ import annotations

from typing import Any

import numpy as np


def curve(a: Any, b: Any, c: Any, t: Any, xp: Any = np) -> Any:
    """The asymptotic curve a - (a - b) exp(-exp(c) t), t = window - 1 (broadcasting; ``xp``: numpy or
    pytensor.tensor): ``a`` the asymptote, ``b`` the value at the first window, ``exp(c)`` the rate."""
    return a - (a - b) * xp.exp(-xp.exp(c) * t)
