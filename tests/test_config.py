"""The shipped configurations are valid, and config/README.md documents every key."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

from conftest import ROOT

SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
DEFAULT = yaml.safe_load((ROOT / "config/config.yaml").read_text())
# keys whose children are data (muscle, emotion or group names), documented by pattern
DATA_KEYS = {"study.channels", "simulation.participants_per_group", "simulation.response",
             "simulation.emg.baseline_amplitude_uv", "simulation.participant_sd"}


def _keys(node: dict, prefix: str = "") -> list[str]:
    keys = []
    for key, value in node.items():
        path = f"{prefix}{key}"
        keys.append(path)
        if isinstance(value, dict) and path not in DATA_KEYS:
            keys += _keys(value, f"{path}.")
    return keys


def test_default_and_test_configs_are_valid() -> None:
    jsonschema.validate(DEFAULT, SCHEMA)
    overlay = yaml.safe_load((ROOT / "config/test/config.yaml").read_text())
    jsonschema.validate({**DEFAULT, "simulation": {**DEFAULT["simulation"], **overlay["simulation"]}}, SCHEMA)


def test_schema_rejects_a_wrong_type() -> None:
    broken = {**DEFAULT, "simulation": {**DEFAULT["simulation"], "seed": "forty-two"}}
    with pytest.raises(jsonschema.ValidationError, match="forty-two"):
        jsonschema.validate(broken, SCHEMA)


@pytest.mark.parametrize("key", _keys(DEFAULT))
def test_every_key_is_documented(key: str) -> None:
    readme = (ROOT / "config/README.md").read_text()
    parent = key.rsplit(".", 1)[0]
    assert f"`{key}" in readme or (parent in DATA_KEYS and f"`{parent}." in readme), f"{key} undocumented"
