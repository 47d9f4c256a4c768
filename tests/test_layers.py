"""The package's layers read top-down: a module imports only from its own layer or the ones below (function-level
imports count), no import cycle, and the workflow plans its DAG with planning code alone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import ROOT
from mimicry.plumbing.codefiles import imported_modules

PACKAGE = ROOT / "src/mimicry"
#: Bottom to top. A module's layer is that of its longest listed prefix.
LAYERS = (
    # foundations: errors, statistics as printed, the curve, the study's design, the config and its typed settings
    ("mimicry.errors", "mimicry.apa", "mimicry.curve", "mimicry.study", "mimicry.config", "mimicry.settings"),
    # data contracts and plumbing: the task, BIDS-EMG, the group tables' columns, job logs, R sessions, Snakemake glue
    ("mimicry.task", "mimicry.bids", "mimicry.table_columns", "mimicry.joblog", "mimicry.rsession", "mimicry.plumbing"),
    # one participant or one table at a time: the simulator, preprocessing, inputs, the model specs
    (
        "mimicry.simulate",
        "mimicry.outliers",
        "mimicry.emg",
        "mimicry.rt",
        "mimicry.qc",
        "mimicry.tables",
        "mimicry.gather",
        "mimicry.crossover",
        "mimicry.inputs",
        "mimicry.lmm_specs",
        "mimicry.bayes_specs",
        "mimicry.calibration_plan",
        "mimicry.multiverse",
    ),
    # inference: the LMMs and the Bayesian asymptotic model
    ("mimicry.lmm", "mimicry.lmm_checks", "mimicry.bayes", "mimicry.multiverse.bayes"),
    # analyses over many simulated studies
    ("mimicry.power", "mimicry.calibration", "mimicry.multiverse.null_studies"),
    # the study's report
    (
        "mimicry.table1",
        "mimicry.figures",
        "mimicry.findings",
        "mimicry.check_findings",
        "mimicry.report_tables",
        "mimicry.methods",
        "mimicry.provenance",
    ),
)
#: What the DAG may be planned with: no simulator, no model fitting, no analysis over studies but its plan.
PLANNING_FORBIDDEN = (
    "mimicry.simulate",
    "mimicry.lmm.",
    "mimicry.bayes.",
    "mimicry.power.",
    "mimicry.emg",
    "mimicry.calibration",
    "mimicry.multiverse.",
)
PLANNING_ALLOWED = ("mimicry.power.planning", "mimicry.calibration_plan", "mimicry.multiverse.forks")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    matches = [
        (len(prefix), k)
        for k, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not matches:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return max(matches)[1]


def _imports(module: str) -> set[str]:
    """The package modules ``module`` imports, packages on the way left out (importing ``mimicry.bids.read`` runs
    ``mimicry/bids/__init__.py``, a docstring)."""
    found = imported_modules(MODULES[module].read_text(encoding="utf-8"), PACKAGE)
    return {name for name in found if name != "mimicry" and not (PACKAGE.parent / name.replace(".", "/")).is_dir()}


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        if module != "mimicry":
            _layer(module)


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m != "mimicry"))
def test_a_module_imports_nothing_from_a_layer_above_its_own(module: str) -> None:
    upward = sorted(name for name in _imports(module) if _layer(name) > _layer(module))
    assert not upward, f"{module} (layer {_layer(module)}) imports {upward} from above"


def test_there_is_no_import_cycle() -> None:
    graph = {module: _imports(module) for module in MODULES if module != "mimicry"}
    state: dict[str, int] = {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for name in sorted(graph.get(module, ())):
            if state.get(name) == 1:
                raise AssertionError(f"import cycle: {' -> '.join([*path, module, name])}")
            if name not in state:
                visit(name, [*path, module])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [])


def test_the_workflow_plans_its_dag_with_planning_code_only() -> None:
    """What common.smk imports, and all that imports in turn, holds no simulator, model fitting or study analysis."""
    common = (ROOT / "workflow/rules/common.smk").read_text(encoding="utf-8")
    pending = sorted(set(re.findall(r"^from (mimicry[\w.]*) import", common, flags=re.M)))
    seen: set[str] = set()
    while pending:
        module = pending.pop()
        if module in seen or module not in MODULES:
            continue
        seen.add(module)
        pending += sorted(_imports(module) - seen)
    heavy = sorted(
        m
        for m in seen
        if m not in PLANNING_ALLOWED and any(m == f.rstrip(".") or m.startswith(f) for f in PLANNING_FORBIDDEN)
    )
    assert "mimicry.power.planning" in seen and not heavy, heavy
