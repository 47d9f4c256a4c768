"""Every rule names a pinned conda env in envs/, and those pins equal requirements.lock (the venv route)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from helpers import ROOT

RULE_FILES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))
# conda-forge names that differ from the PyPI names in requirements.lock
R_PINS = {"r-base": "4.2.2", "r-lme4": "1.1_31", "r-lmertest": "3.1_3", "r-emmeans": "1.8.4"}
CONDA_TO_PYPI = {"mne-base": "mne", "matplotlib-base": "matplotlib"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_normalise(name)] = version
    return pins


def _rules() -> list[tuple[Path, str, str]]:
    found = []
    for path in RULE_FILES:
        blocks = re.split(r"^rule (\w+):", path.read_text(), flags=re.MULTILINE)
        found += [(path, name, body) for name, body in zip(blocks[1::2], blocks[2::2], strict=True)]
    return found


def test_rules_exist() -> None:
    assert len(_rules()) >= 3


@pytest.mark.parametrize(("path", "rule", "body"), _rules(), ids=[rule for _, rule, _ in _rules()])
def test_every_rule_names_an_existing_env_and_a_log(path: Path, rule: str, body: str) -> None:
    conda = re.search(r'conda:\s*\n\s*"([^"]+)"', body)
    assert conda, f"rule {rule} in {path.name} has no conda: directive"
    # a rule that runs in every environment in turn names them by wildcard: envs/{environment}.yaml
    envs = sorted((path.parent / conda.group(1)).parent.glob(re.sub(r"\{\w+\}", "*", Path(conda.group(1)).name)))
    assert envs, f"rule {rule}: {conda.group(1)} names no file"
    for env in envs:
        assert env.resolve().parent == (ROOT / "envs").resolve(), f"rule {rule}: {env} is not a file in envs/"
    assert re.search(r"^\s+log:", body, flags=re.MULTILINE), f"rule {rule} has no log:"
    assert re.search(r"^\s+threads:", body, flags=re.MULTILINE) and "mem_mb=" in body, f"rule {rule}: no resources"


@pytest.mark.parametrize("env", sorted((ROOT / "envs").glob("*.yaml")), ids=lambda p: p.name)
def test_env_pins_equal_the_lock(env: Path) -> None:
    lock = _lock()
    spec = yaml.safe_load(env.read_text())
    assert "conda-forge" in spec["channels"]
    checked = 0
    for dependency in spec["dependencies"]:
        if isinstance(dependency, dict):  # the pip: section uses PyPI names and ==
            pins = [tuple(entry.split("==")) for entry in dependency["pip"]]
        elif dependency == "pip":  # the installer for the pip: section
            continue
        else:
            name, _, version = dependency.partition("=")
            pins = [(CONDA_TO_PYPI.get(name, name), version)]
        for name, version in pins:
            assert version, f"{env.name}: {name} is not pinned"
            if name == "python":
                assert version == "3.12"
                continue
            if name.startswith("r-"):  # R packages: pinned to Debian 12's versions, which the venv route uses
                assert version == R_PINS[name], f"{env.name}: {name}={version}, Debian has {R_PINS[name]}"
                continue
            assert _normalise(name) in lock, f"{env.name}: {name} is not in requirements.lock"
            assert lock[_normalise(name)] == version, f"{env.name}: {name}={version}, lock has {lock[_normalise(name)]}"
            checked += 1
    assert checked > 0


def test_lock_pins_what_the_facts_require() -> None:
    lock = _lock()
    assert lock["pymer4"] == "0.8.2" and lock["rpy2"] == "3.5.17" and lock["pandas"].startswith("2.")
    assert lock["snakemake"] == "9.27.1" and lock["bambi"] == "0.21.0"
