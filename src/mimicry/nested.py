"""Table 2's nested asymptotic models: which non-linear parameters carry drug effects, their labels and their
brms-style formulas. Light on purpose: the workflow, the methods text and the report name the models without
importing the Bayesian stack."""

from __future__ import annotations

#: The nested models of Table 2: which non-linear parameters carry drug effects.
NESTED_MODELS: dict[str, tuple[str, ...]] = {
    "full": ("asymptote", "rate"),
    "asymptote": ("asymptote",),
    "rate": ("rate",),
    "no_drug": (),
}
MODEL_LABELS = {
    "full": "Full",
    "asymptote": "Drug effects asymptote only",
    "rate": "Drug effects rate only",
    "no_drug": "No effect of drug",
}


def formulas(model: str) -> dict[str, str]:
    """The brms-style formulas of a nested model, as the Bambi implementation uses them."""
    drug_terms = NESTED_MODELS[model]
    random = "(0 + muscle:emotion | participant)"
    fixed = {p: "drug:muscle:emotion" if p in drug_terms else "muscle:emotion" for p in ("asymptote", "rate")}
    return {"a": f"0 + {fixed['asymptote']} + {random}", "b": f"0 + {random}", "c": f"0 + {fixed['rate']} + {random}"}
