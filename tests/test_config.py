"""The configuration: one default per key (the schema), filled in and validated; config/README.md documents every
key with that default; the package's settings take every value from the validated config."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helpers import DEFAULT, ROOT, TEST_CONFIG, write_schema_with_defaults
from mimicry.config import SCHEMA, ConfigError, load_config, validate_config
from mimicry.settings import Diagnostics, EmgSettings, Priors, Sampling
from mimicry.study import PAPERS_WORDING, Study

SHIPPED = yaml.safe_load((ROOT / "config/config.yaml").read_text())
# the schema's defaults alone: only the study keys the schema requires given
REQUIRED_STUDY = yaml.safe_load(SCHEMA.read_text())["properties"]["study"]["required"]
SCHEMA_DEFAULTS = validate_config({"study": {key: SHIPPED["study"][key] for key in REQUIRED_STUDY}})
# keys whose children are data (muscle, emotion, group or fork names): documented as one value
DATA_KEYS = {
    "study.channels",
    "simulation.participants_per_group",
    "calibration.participants_per_group",
    "simulation.response",
    "simulation.emg.baseline_amplitude_uv",
    "multiverse.forks",
}


def _keys(node: dict, prefix: str = "") -> dict[str, object]:
    """Dotted key -> value of every setting (data keys as one value)."""
    keys = {}
    for key, value in node.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and path not in DATA_KEYS:
            keys |= _keys(value, f"{path}.")
        else:
            keys[path] = value
    return keys


def _documented() -> dict[str, str]:
    """Dotted key -> the default column of its row in config/README.md (markdown's escaped pipes unescaped)."""
    rows = {}
    for line in (ROOT / "config/README.md").read_text().splitlines():
        cells = [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 4 and re.fullmatch(r"`[\w.]+`", cells[0]):
            rows[cells[0].strip("`")] = cells[2]
    return rows


def test_the_shipped_config_states_only_the_study() -> None:
    assert set(SHIPPED) == {"study"}


def test_defaults_fill_every_section_and_the_test_config_is_valid() -> None:
    assert DEFAULT["statistics"]["bayes"]["diagnostics"]["on_failure"] == "fail"
    assert DEFAULT["preprocessing"]["emg"]["bandpass"]["l_freq"] == 20.0
    small = load_config(ROOT / TEST_CONFIG)
    assert small["simulation"]["participants_per_group"] == {"amisulpride": 2, "naltrexone": 2, "placebo": 2}
    assert small["simulation"]["seed"] == DEFAULT["simulation"]["seed"]  # the rest stays the default


def test_a_wrong_type_is_named_by_its_key() -> None:
    with pytest.raises(ConfigError, match=r"simulation\.seed: 'forty-two' is not of type 'integer'"):
        load_config({"simulation": {"seed": "forty-two"}})
    with pytest.raises(ConfigError, match=r"statistics\.bayes: Additional properties .*'chain' was unexpected"):
        load_config({"statistics": {"bayes": {"chain": 4}}})


def test_one_key_of_a_group_can_be_set_and_its_siblings_keep_their_defaults() -> None:
    config = load_config(
        {"statistics": {"bayes": {"priors": {"rate": {"sigma": 0.9}}}, "emg": {"fallbacks": ["y ~ x"]}}}
    )
    assert config["statistics"]["bayes"]["priors"]["rate"] == {"mu": -1.0, "sigma": 0.9}
    assert config["statistics"]["emg"]["formula"] == DEFAULT["statistics"]["emg"]["formula"]


@pytest.mark.parametrize("key", sorted(_keys(DEFAULT)))
def test_every_key_is_documented_with_its_default(key: str) -> None:
    documented = _documented()
    assert key in documented, f"{key} is not in config/README.md"
    cell = documented[key]
    assert re.fullmatch(r"`[^`]+`", cell), f"{key}: the default column should be one `value`, not {cell!r}"
    assert yaml.safe_load(cell.strip("`")) == _keys(SCHEMA_DEFAULTS)[key], f"{key}: README says {cell}"


def test_every_documented_key_exists() -> None:
    assert set(_documented()) <= set(_keys(DEFAULT))


def test_a_default_changed_in_the_schema_reaches_the_settings(tmp_path: Path) -> None:
    """The settings classes have no defaults of their own: a default changed in the schema is what they get."""
    schema = write_schema_with_defaults(
        SCHEMA,
        tmp_path / "config.schema.yaml",
        {"preprocessing.emg.bandpass.l_freq": 25.0, "statistics.bayes.iterations": 3000},
    )
    config = validate_config({"study": SHIPPED["study"]}, schema)
    assert EmgSettings.from_config(config["preprocessing"]["emg"]).l_freq == 25.0
    sampling = Sampling.from_config(config["statistics"]["bayes"], cores=1)
    assert (sampling.warmup, sampling.draws, sampling.iterations) == (2500, 500, 3000)
    default = Sampling.from_config(DEFAULT["statistics"]["bayes"], cores=1)
    assert default.draws == 2500 and default.iterations == 5000  # the paper's
    assert Priors.from_config(DEFAULT["statistics"]["bayes"]).rate_mu == -1.0
    assert Diagnostics.from_config(DEFAULT["statistics"]["bayes"]["diagnostics"]).on_failure == "fail"


def test_the_config_check_skips_jsonschemas_slow_optional_parser_and_leaves_it_importable() -> None:
    """Checking the config does not import rfc3987-syntax (a grammar built on import, 1.3 s of every
    ``snakemake -n``); the module can still be imported afterwards, and the check still rejects a bad key."""
    code = (
        "import sys\n"
        "from mimicry.config import ConfigError, load_config, validate_config\n"
        "load_config()\n"
        "assert 'rfc3987_syntax' not in sys.modules\n"
        "import rfc3987_syntax\n"
        "try:\n"
        "    validate_config({'statistics': {'alpha': 'high'}})\n"
        "except ConfigError as error:\n"
        "    assert 'alpha' in str(error)\n"
        "else:\n"
        "    raise SystemExit('a bad key passed')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------------------------------------------------------
# A lab's study in its own words


def test_a_labs_study_that_sets_no_words_of_its_own_is_stopped_naming_the_keys() -> None:
    """Analysing data of its own, a config laid over config/config.yaml inherits the paper's title and stimulus,
    and one used as a module's config (no config/config.yaml beneath it) has none: both stop, naming the keys."""
    own_data = {"simulation": {"enabled": False}, "dataset": {"bids_root": "data/bids"}}
    with pytest.raises(ConfigError, match=r"study\.title, study\.stimulus: a study of your own"):
        load_config(own_data)
    alone = {"study": {key: SHIPPED["study"][key] for key in REQUIRED_STUDY}, **own_data}
    with pytest.raises(ConfigError, match=r"study\.title, study\.stimulus"):
        validate_config(alone)
    worded = Study.from_config(
        load_config(own_data, {"study": {"title": "Our replication", "stimulus": "morphing faces"}})["study"]
    )
    assert (worded.title, worded.stimulus) == ("Our replication", "morphing faces")


def test_the_papers_words_describe_only_the_papers_simulated_study() -> None:
    """The simulated study of the paper's design gets the paper's words, even from a config that leaves them out;
    a simulated study of another design must give its own."""
    alone = Study.from_config(
        validate_config({"study": {key: SHIPPED["study"][key] for key in REQUIRED_STUDY}})["study"]
    )
    assert (alone.title, alone.stimulus) == (PAPERS_WORDING["title"], PAPERS_WORDING["stimulus"])
    other_design = {"study": {"groups": ["oxytocin", "placebo"]}, "simulation": {"participants_per_group": {}}}
    with pytest.raises(ConfigError, match=r"study\.title, study\.stimulus"):
        load_config(other_design)


def test_the_template_for_a_labs_own_study_is_valid_and_in_its_own_words() -> None:
    template = load_config(ROOT / "config/examples/own-study.yaml")
    assert not template["simulation"]["enabled"]
    assert template["study"]["title"] != PAPERS_WORDING["title"]
