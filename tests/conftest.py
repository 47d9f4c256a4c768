"""Shared fixtures: a throw-away copy of the project and one workflow run on the test configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
PROJECT_PARTS = ("Snakefile", "workflow", "config", "envs", "profiles", "resources", "src")


def copy_project(destination: Path) -> Path:
    """Copy what the workflow needs (not results/, not .venv/) so a test can run and break it in isolation."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, destination / part, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(source, destination / part)
    return destination


def snakemake_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Snakemake runs in: the venv's bin/ first, as an activated venv has it (the notebook rule
    runs papermill, the report rule jupyter), plus ``extra``."""
    return {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
            "PATH": f"{Path(SNAKEMAKE).parent}{os.pathsep}{os.environ.get('PATH', '')}", **(extra or {})}


def run_snakemake(project: Path, *args: str, check: bool = True,
                  env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run Snakemake in ``project`` (``env`` added to the environment); with ``check``, fail the test with
    Snakemake's output if it fails."""
    env = snakemake_env(env)
    result = subprocess.run([SNAKEMAKE, *args], cwd=project, capture_output=True, text=True, env=env)
    if check and result.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def planted_window_trials(drug_effects: list[dict], per_group: int = 30,
                          muscle: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trial x window log EMG straight from planted participant curves (the simulator's ``window_trials``, no EMG),
    for ``per_group`` participants per group of the default study, and the planted a, b, c per condition."""
    import copy

    from mimicry import simulate
    from mimicry.design import load_stimuli
    from mimicry.study import Study

    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    simulation = copy.deepcopy(config["simulation"])
    study = Study.from_config(config["study"])
    simulation["participants_per_group"] = {g: per_group for g in study.groups}
    simulation["drug_effects"] = drug_effects
    _, _, effects = simulate.simulate_participants(simulation, study)
    if muscle:
        effects = effects[effects["muscle"] == muscle]
    stimuli = load_stimuli(ROOT / "resources/stimuli.tsv", study.emotions)
    trials = simulate.window_trials(effects, stimuli, repetitions=1, trial_response_sd=simulation["trial_response_sd"],
                                    noise_sd=0.15, seed=1)
    return trials, simulate.planted_conditions(simulation, study)


def _merge(base: dict, overlay: dict) -> dict:
    merged = dict(base)
    for key, value in overlay.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def write_overlay(project: Path, name: str, overlay: dict) -> str:
    """A config file for ``--configfile``: the test configuration (small study, short Bayesian runs) with
    ``overlay`` laid over it."""
    test_config = yaml.safe_load((project / "config/test/config.yaml").read_text())
    path = project / "config" / name
    path.write_text(yaml.safe_dump(_merge(test_config, overlay)), encoding="utf-8")
    return str(path.relative_to(project))


@pytest.fixture(scope="session")
def test_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project copied once and run end to end on config/test/config.yaml (6 simulated participants)."""
    project = copy_project(tmp_path_factory.mktemp("run") / "project")
    run_snakemake(project, "--cores", "2", "--configfile", "config/test/config.yaml")
    return project


@pytest.fixture(scope="session")
def test_config() -> dict:
    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    overlay = yaml.safe_load((ROOT / "config" / "test" / "config.yaml").read_text())
    config["simulation"].update(overlay["simulation"])
    return config
