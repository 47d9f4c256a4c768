"""The workflow's configuration: loaded, laid over by the user's files, filled with the schema's defaults and
validated against it.

``workflow/schemas/config.schema.yaml`` is the one place a default lives. The workflow fills the defaults in when
it starts (``validate_config``, from ``common.smk``), tests and tools do the same with ``load_config``, and the
typed settings (:mod:`mimicry.settings`) take every value from the validated config.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from mimicry.study import wording_problems

#: The configuration schema: types, allowed values and every default.
SCHEMA = Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "config.schema.yaml"
#: The shipped configuration: the study's design (defaults fill in the rest).
CONFIG = SCHEMA.parents[2] / "config" / "config.yaml"


class ConfigError(ValueError):
    """A configuration that does not match the schema; the message names every offending key."""


def jsonschema() -> ModuleType:
    """The ``jsonschema`` package, imported without the parser of its optional ``iri`` format checker.

    jsonschema imports rfc3987-syntax (installed for Jupyter) when it can, and that builds a grammar on import:
    1.3 s of every ``snakemake -n`` and of every job Snakemake starts on a cluster. The schemas here use no
    ``format``, so jsonschema is imported with that module blocked; the block is lifted afterwards.
    """
    blocked = "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # None makes its import fail
    try:
        import jsonschema as module
    finally:
        if blocked:
            del sys.modules["rfc3987_syntax"]
    return module


def _with_defaults(validator_class: Any) -> Any:
    """A validator that fills each missing property with a copy of its schema default before checking it."""
    validators = jsonschema().validators

    check_properties = validator_class.VALIDATORS["properties"]

    def fill_defaults(
        validator: Any, properties: Mapping[str, Any], instance: Any, schema: Mapping[str, Any]
    ) -> Iterator[Any]:
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from check_properties(validator, properties, instance, schema)

    return validators.extend(validator_class, {"properties": fill_defaults})


def validate_config(config: dict[str, Any], schema: Path = SCHEMA) -> dict[str, Any]:
    """Fill ``config`` (in place) with the schema's defaults and check it; raise :class:`ConfigError` naming every
    key that is wrong. Returns ``config``."""
    import yaml

    rules = yaml.safe_load(schema.read_text(encoding="utf-8"))
    problems = _described(_with_defaults(jsonschema().Draft202012Validator)(rules).iter_errors(config))
    if problems:
        lines = [f"  {problem}" for problem in problems]
        raise ConfigError(
            f"the configuration does not match {schema.name}:\n"
            + "\n".join(lines)
            + "\nFix those keys (config/README.md documents each, with its default)."
        )
    unworded = wording_problems(config)
    if unworded:
        raise ConfigError(
            f"{', '.join(f'study.{key}' for key in unworded)}: a study of your own is reported in its own words, and "
            "these are unset or still the paper's (Korb et al. 2023). Set study.title (the report's title) and "
            "study.stimulus (what the participants saw, e.g. 'photographs of angry and happy faces') in your config."
        )
    return config


def _described(errors: Iterator[Any]) -> list[str]:
    """Schema validation errors as ``dotted.key: message`` lines, in key order."""
    return [
        f"{'.'.join(map(str, error.path)) or '(top level)'}: {error.message}"
        for error in sorted(errors, key=lambda e: list(e.path))
    ]


def schema_problems(instance: Any, rules: Mapping[str, Any]) -> list[str]:
    """What in ``instance`` does not match the schema ``rules`` (a JSON schema as a mapping), one line per key."""
    return _described(jsonschema().Draft202012Validator(rules).iter_errors(instance))


def merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """``overlay`` laid over ``base``: nested mappings merge, anything else replaces (as ``--configfile`` does)."""
    merged = dict(base)
    for key, value in overlay.items():
        merged[key] = (
            merge(base[key], value) if isinstance(value, Mapping) and isinstance(base.get(key), Mapping) else value
        )
    return merged


def load_config(*overlays: str | Path | Mapping[str, Any]) -> dict[str, Any]:
    """The configuration a run with ``--configfile overlays...`` uses: config/config.yaml, the overlays (files or
    mappings) laid over it in order, the schema's defaults filled in, validated."""
    import yaml

    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    for overlay in overlays:
        if not isinstance(overlay, Mapping):
            overlay = yaml.safe_load(Path(overlay).read_text(encoding="utf-8")) or {}
        config = merge(config, overlay)
    return validate_config(config)
