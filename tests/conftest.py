"""Shared fixtures (helpers live in helpers.py) and the test tiers.

Tiers (``-m``): ``validation`` fits models to planted or simulated data (minutes), ``workflow`` runs the
workflow or reads the shared run, ``cluster`` needs the single-node SLURM cluster, ``browser`` Debian's chromium;
``unit`` is everything else (no workflow run, no root, about a minute in all). A test that uses one of the
fixtures below, directly or through another fixture, gets its tier from it; any other says so with its marker.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock

from helpers import TEST_CONFIG, copy_dataset, copy_project, lay_scenario, run_snakemake

TIER_OF_FIXTURE = {
    "slurm": "cluster",
    "test_run": "workflow",
    "small_fits": "validation",
    "planted_effect": "validation",
}
TIERS = ("validation", "workflow", "cluster", "browser")


@pytest.hookimpl(tryfirst=True)  # before -m deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, tier in TIER_OF_FIXTURE.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(tier)
        if not any(item.get_closest_marker(tier) for tier in TIERS):
            item.add_marker("unit")
    # The cluster tests first: they are the longest file and mostly wait on SLURM, so under two workers (make test,
    # --no-loadscope-reorder) the shared test run is made beside them rather than after them.
    items.sort(key=lambda item: item.get_closest_marker("cluster") is None)


@pytest.fixture(scope="session")
def test_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """The project copied once and run end to end on config/test/config.yaml (6 simulated participants), shared by
    every test that only reads it (tests that change a run work on a copy). Under pytest-xdist (``make test``: two
    workers) the first worker to ask runs it in their shared temporary folder; the other waits for it."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent
    project, finished = shared / "run" / "project", shared / "run" / "finished"
    with FileLock(shared / "run.lock"):
        if not finished.exists():
            shutil.rmtree(project, ignore_errors=True)  # a worker's failed attempt: start afresh
            run_snakemake(copy_project(project), "--cores", "2", "--configfile", TEST_CONFIG)
            finished.touch()
    return project


@pytest.fixture
def own_dataset(test_run: Path, tmp_path: Path) -> Path:
    """A copy of the test run's simulated BIDS dataset, for a test to analyse (or break) as a lab's own."""
    return copy_dataset(test_run, tmp_path / "dataset")


@pytest.fixture
def scenario(tmp_path: Path) -> Callable[..., tuple[Path, str]]:
    """Lay named scenarios (tests/configs) over a fresh copy of the project: ``scenario("own_bids",
    dataset=...)`` gives the project and the path its ``--configfile`` takes."""

    def lay(*names: str, **values: object) -> tuple[Path, str]:
        project = copy_project(tmp_path / "project")
        return project, lay_scenario(project, *names, **values)

    return lay
