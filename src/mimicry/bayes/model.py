"""The model: the paper's Bayesian asymptotic regression of log EMG over the five 1-s windows (Korb et al. 2023).

    y = a - (a - b) * exp(-exp(c) * t),   t = window - 1 (0 .. 4 s)

The paper prints the curve as ``a - (a - b) e^(-exp(c) t - 1)`` and calls b "the starting value at t = 1"; only the
reading ``exp(-exp(c) (t - 1))`` with t the window number makes b the value at the first window, so the model
uses ``time = window - 1``. a is the asymptote, c the log rate (the rate exp(c) is always positive), and b, the
start, has no fixed effect (log EMG is relative to the baseline) but a participant effect:

    a ~ 0 + drug:muscle:emotion + (0 + muscle:emotion | participant)
    b ~ 0 + (0 + muscle:emotion | participant)
    c ~ 0 + drug:muscle:emotion + (0 + muscle:emotion | participant)

Two implementations share the data, priors and outputs:

- ``bambi``: a custom Bambi family with distributional parameters a, b, c (independent participant effects, as
  Bambi has no correlated group-level priors), sampled with nutpie by default;
- ``brms``: the same model in PyMC with one LKJ-correlated participant-effect matrix per parameter, as brms
  builds it by default, so the paper's model can be matched exactly.

The nested models of the paper's Table 2 drop the drug from the asymptote, the rate, or both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mimicry.bayes_specs import NESTED_MODELS, formulas
from mimicry.curve import curve
from mimicry.errors import InputError
from mimicry.settings import Priors

#: Columns of the model data (one row per participant x muscle x emotion x window, or per trial x ... ).
DATA_COLUMNS = ["participant", "drug", "muscle", "emotion", "window", "time", "log_emg"]

# ---------------------------------------------------------------------------------------------------------------
# Data


def model_data(windows: pd.DataFrame, level: str) -> pd.DataFrame:
    """The model's rows from the EMG window table (kept trials only).

    ``participant``: the mean log EMG per participant x muscle x emotion x window (the paper's ~2600 rows);
    ``trial``: every kept trial's window value (``trial`` column added). A crossover's table (a ``session``
    column) gives rows per participant x session, the ``session`` column after ``participant``.
    """
    kept = windows.loc[~windows["rejected"]]
    if kept.empty:
        raise InputError("the EMG window table has no kept trials: nothing to model")
    # a crossover's rows are per recording: its session beside the participant
    keys = ["participant", *(["session"] if "session" in kept.columns else []), "group", "muscle", "emotion", "window"]
    if level == "participant":
        data = kept.groupby(keys, observed=True, as_index=False, sort=True)["log_emg"].mean()
    elif level == "trial":
        data = kept[[*keys, "trial", "log_emg"]].sort_values([*keys, "trial"]).reset_index(drop=True)
    else:
        raise InputError(f"statistics.bayes.data_level must be participant or trial, not {level!r}")
    data = data.rename(columns={"group": "drug"})
    for column in ("participant", "drug", "muscle", "emotion", *(["session"] if "session" in data.columns else [])):
        data[column] = data[column].astype(str)
    data["time"] = (data["window"] - 1).astype(float)
    columns = DATA_COLUMNS if level == "participant" else [*DATA_COLUMNS[:5], "trial", *DATA_COLUMNS[5:]]
    if "session" in data.columns:
        columns = [columns[0], "session", *columns[1:]]
    return data[columns].reset_index(drop=True)


@dataclass
class Cells:
    """Integer codes of the model data's factors (levels in the study's order)."""

    drugs: list[str]
    muscles: list[str]
    emotions: list[str]
    participants: list[str]
    drug: np.ndarray = field(repr=False)
    cell: np.ndarray = field(repr=False)  #: muscle x emotion, muscle-major
    participant: np.ndarray = field(repr=False)
    #: a crossover's session labels (sorted; empty without sessions) and each row's session code
    sessions: list[str] = field(default_factory=list)
    session: np.ndarray | None = field(default=None, repr=False)

    @property
    def crossover(self) -> bool:
        """The data has sessions: the drug within participants."""
        return bool(self.sessions)

    @classmethod
    def of(cls, data: pd.DataFrame, drugs: Sequence[str], muscles: Sequence[str], emotions: Sequence[str]) -> Cells:
        participants = sorted(data["participant"].unique())
        cell = data["muscle"].map({m: i for i, m in enumerate(muscles)}) * len(emotions) + data["emotion"].map(
            {e: i for i, e in enumerate(emotions)}
        )
        sessions = sorted(data["session"].unique()) if "session" in data.columns else []
        return cls(
            list(drugs),
            list(muscles),
            list(emotions),
            participants,
            data["drug"].map({d: i for i, d in enumerate(drugs)}).to_numpy(),
            cell.to_numpy(),
            data["participant"].map({p: i for i, p in enumerate(participants)}).to_numpy(),
            sessions,
            data["session"].map({s: i for i, s in enumerate(sessions)}).to_numpy() if sessions else None,
        )

    @property
    def names(self) -> list[str]:
        return [f"{m}:{e}" for m in self.muscles for e in self.emotions]


# ---------------------------------------------------------------------------------------------------------------
# Models


def _categorical(data: pd.DataFrame, cells: Cells) -> pd.DataFrame:
    """Factors as categoricals in the study's level order, so the posterior's coordinates follow it."""
    data = data.copy()
    for column, levels in (
        ("drug", cells.drugs),
        ("muscle", cells.muscles),
        ("emotion", cells.emotions),
        ("participant", cells.participants),
    ):
        data[column] = pd.Categorical(data[column], categories=levels)
    return data


def bambi_model(data: pd.DataFrame, cells: Cells, model: str, priors: Priors) -> Any:
    """The asymptotic model as a Bambi model with a custom family (distributional parameters a, b, c).

    Bambi has no non-linear formulas, so the likelihood computes the curve from a, b, c; time is the data's
    ``time`` column, fixed at build time (the model is only evaluated on its own rows).
    """
    import bambi as bmb
    import pymc as pm
    import pytensor.tensor as pt

    time_s = data["time"].to_numpy(dtype=float)

    def asymptotic_normal(name: str, a: Any, b: Any, c: Any, sigma: Any, **kwargs: Any) -> Any:
        return pm.Normal(name, mu=curve(a, b, c, time_s, pt), sigma=sigma, **kwargs)

    likelihood = bmb.Likelihood("AsymptoticNormal", params=["a", "b", "c", "sigma"], parent="a", dist=asymptotic_normal)
    family = bmb.Family("asymptotic", likelihood, link={"a": "identity", "b": "identity", "c": "identity"})
    terms = formulas(model, priors.b_intercept)
    formula = bmb.Formula(f"log_emg ~ {terms['a']}", f"b ~ {terms['b']}", f"c ~ {terms['c']}")
    random_sd = bmb.Prior("HalfNormal", sigma=priors.random_sd)
    random = bmb.Prior("Normal", mu=0.0, sigma=random_sd, noncentered=True)  # as brms's Stan code
    fixed = {p: "drug:muscle:emotion" if p in NESTED_MODELS[model] else "muscle:emotion" for p in ("asymptote", "rate")}
    prior_spec = {
        fixed["asymptote"]: bmb.Prior("Normal", mu=priors.asymptote_mu, sigma=priors.asymptote_sigma),
        "muscle:emotion|participant": random,
        "b": {
            "muscle:emotion|participant": random,
            **(
                {"muscle:emotion": bmb.Prior("Normal", mu=priors.asymptote_mu, sigma=priors.asymptote_sigma)}
                if priors.b_intercept
                else {}
            ),
        },
        "c": {
            fixed["rate"]: bmb.Prior("Normal", mu=priors.rate_mu, sigma=priors.rate_sigma),
            "muscle:emotion|participant": random,
        },
        "sigma": bmb.Prior("HalfNormal", sigma=priors.residual_sd),
    }
    # Unknown prior keys would be ignored with a mere warning: make that an error.
    bmb.config["UNUSED_PRIORS"] = "error"
    return bmb.Model(formula, _categorical(data, cells), family=family, priors=prior_spec)


def population_parameters(model: str, priors: Priors) -> dict[str, Any]:
    """Inside a PyMC model with coords drug and cell: the fixed effects of a (``asymptote``) and c (``rate``), by
    drug x cell where the nested model has the drug, else by cell, and b's intercept by cell (``start``, only with
    ``priors.b_intercept``; its prior is the asymptote's)."""
    import pymc as pm

    drug_terms = NESTED_MODELS[model]
    parameters = {}
    for parameter, mu, sigma in (
        ("asymptote", priors.asymptote_mu, priors.asymptote_sigma),
        ("rate", priors.rate_mu, priors.rate_sigma),
        ("start", priors.asymptote_mu, priors.asymptote_sigma),
    ):
        if parameter == "start" and not priors.b_intercept:
            continue
        dims = ("drug", "cell") if parameter in drug_terms else ("cell",)
        parameters[parameter] = pm.Normal(f"{parameter}_fixed", mu, sigma, dims=dims)
    return parameters


def lkj_cholesky(parameter: str, n_cells: int, priors: Priors) -> Any:
    """Inside a PyMC model: the Cholesky factor of one parameter's LKJ-correlated participant-effect covariance
    (half-normal SDs, as brms's defaults), its SDs and correlations kept in the trace."""
    import pymc as pm

    chol, _, _ = pm.LKJCholeskyCov(
        f"chol_{parameter}",
        n=n_cells,
        eta=priors.lkj_eta,
        sd_dist=pm.HalfNormal.dist(priors.random_sd, shape=n_cells),
        compute_corr=True,
        store_in_trace=True,
    )
    return chol


def brms_model(data: pd.DataFrame, cells: Cells, model: str, priors: Priors) -> Any:
    """The asymptotic model as brms builds it: one LKJ-correlated participant matrix per parameter (PyMC).

    Participant effects are non-centred (z times the Cholesky factor), as in brms's Stan code.
    """
    import pymc as pm
    import pytensor.tensor as pt

    coords = {"drug": cells.drugs, "cell": cells.names, "participant": cells.participants}
    with pm.Model(coords=coords) as pymc_model:
        fixed = {
            name: values[cells.drug, cells.cell] if values.ndim == 2 else values[cells.cell]
            for name, values in population_parameters(model, priors).items()
        }
        participant_effects = {}
        for parameter in ("a", "b", "c"):
            chol = lkj_cholesky(parameter, len(cells.names), priors)
            z = pm.Normal(f"z_{parameter}", 0.0, 1.0, dims=("participant", "cell"))
            effects = pm.Deterministic(f"effect_{parameter}", pt.dot(z, chol.T), dims=("participant", "cell"))
            participant_effects[parameter] = effects[cells.participant, cells.cell]
        a = fixed["asymptote"] + participant_effects["a"]
        b = fixed.get("start", 0.0) + participant_effects["b"]
        c = fixed["rate"] + participant_effects["c"]
        sigma = pm.HalfNormal("sigma", priors.residual_sd)
        time_s = data["time"].to_numpy(dtype=float)
        pm.Normal("log_emg", mu=curve(a, b, c, time_s, pt), sigma=sigma, observed=data["log_emg"].to_numpy(dtype=float))
    return pymc_model


def crossover_model(data: pd.DataFrame, cells: Cells, model: str, priors: Priors) -> Any:
    """A crossover's asymptotic model with every effect sampled (PyMC): the participant effects of a, b and c per
    muscle x emotion shared by the participant's sessions, each session's own deviation of a (participant x
    session x cell, its SD ``sd_a_session`` per cell), the drug of each row's session. Independent effects, as
    the Bambi variant's; the integrated model (:func:`mimicry.bayes.marginal.marginal_model`) is this model with
    a's and b's effects integrated out. It gives the prior predictive distribution."""
    import pymc as pm
    import pytensor.tensor as pt

    coords = {"drug": cells.drugs, "cell": cells.names, "participant": cells.participants, "session": cells.sessions}
    with pm.Model(coords=coords) as pymc_model:
        fixed = {
            name: values[cells.drug, cells.cell] if values.ndim == 2 else values[cells.cell]
            for name, values in population_parameters(model, priors).items()
        }
        effects = {}
        for parameter in ("a", "b", "c"):
            sd = pm.HalfNormal(f"sd_{parameter}", priors.random_sd, dims="cell")
            z = pm.Normal(f"z_{parameter}", 0.0, 1.0, dims=("participant", "cell"))
            effect = pm.Deterministic(f"effect_{parameter}", z * sd, dims=("participant", "cell"))
            effects[parameter] = effect[cells.participant, cells.cell]
        sd_session = pm.HalfNormal("sd_a_session", priors.random_sd, dims="cell")
        z_session = pm.Normal("z_a_session", 0.0, 1.0, dims=("participant", "session", "cell"))
        deviation = pm.Deterministic(
            "effect_a_session", z_session * sd_session, dims=("participant", "session", "cell")
        )
        a = fixed["asymptote"] + effects["a"] + deviation[cells.participant, cells.session, cells.cell]
        b = fixed.get("start", 0.0) + effects["b"]
        c = fixed["rate"] + effects["c"]
        sigma = pm.HalfNormal("sigma", priors.residual_sd)
        time_s = data["time"].to_numpy(dtype=float)
        pm.Normal("log_emg", mu=curve(a, b, c, time_s, pt), sigma=sigma, observed=data["log_emg"].to_numpy(dtype=float))
    return pymc_model
