"""The multiverse's plan: its forks (each a preprocessing decision with equally defensible options), the universes
they span, and what keeps them from running (planning only: the workflow builds its DAG with this module).

A fork's option is a set of overrides of ``preprocessing.emg`` (the main analysis's settings) and of the choices
only the multiverse has (:data:`UNIVERSE_CHOICES`). One option per fork is the main analysis's own (the paper's,
in the default), so the universe of every main option is the main analysis. Universes are all combinations of
options, in the config's order, less those ``multiverse.exclude`` names; in a study of envelope recordings the
forks on the signal (band-pass, notch, envelope) do not apply and keep their main option.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from mimicry.config import merge, schema_problems

#: The choices a universe has beyond ``preprocessing.emg``, with the main analysis's value of each (the paper's):
#: the envelope by a moving RMS instead of rectification and low-pass, the baseline removed by subtraction or a
#: z-score instead of as a proportion, trials rejected by their range instead of the 2-SD rules.
UNIVERSE_CHOICES: dict[str, Any] = {
    "type": "object",
    "properties": {
        "smoothing": {
            "type": "object",
            "default": {},
            "properties": {
                "method": {"enum": ["lowpass", "rms"], "default": "lowpass"},
                "rms_window_s": {"type": "number", "exclusiveMinimum": 0, "default": 0.1},
            },
        },
        "baseline": {"enum": ["log_proportion", "subtract", "zscore"], "default": "log_proportion"},
        "rejection": {
            "type": "object",
            "default": {},
            "properties": {
                "method": {"enum": ["sd", "range"], "default": "sd"},
                "range_factor": {"type": "number", "exclusiveMinimum": 1, "default": 3.0},
            },
        },
    },
}
#: The settings of the signal, before the epochs: forks that set only these do not apply to envelope recordings.
SIGNAL_SETTINGS = ("bandpass", "notch_harmonics", "smoothing")


@dataclass(frozen=True)
class Fork:
    """One decision: its options (label: overrides of the universe's settings), the main analysis's option and
    why the options are equally defensible (the report shows it)."""

    name: str
    rationale: str
    main: str
    options: Mapping[str, Mapping[str, Any]]

    @property
    def on_signal(self) -> bool:
        """Whether the fork decides only how the signal becomes an envelope (moot for envelope recordings)."""
        return all(set(overrides) <= set(SIGNAL_SETTINGS) for overrides in self.options.values())


@dataclass(frozen=True)
class Universe:
    """One combination of options: its number (1 is the main analysis), the option of every fork, and the
    preprocessing settings it runs with (``preprocessing.emg`` with :data:`UNIVERSE_CHOICES`)."""

    number: int
    choices: Mapping[str, str]
    settings: Mapping[str, Any]


def forks(config: Mapping[str, Any]) -> list[Fork]:
    """The forks ``multiverse.forks`` declares, in its order."""
    return [
        Fork(name, fork["rationale"], fork["main"], dict(fork["options"]))
        for name, fork in config["multiverse"]["forks"].items()
    ]


def main_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """The main analysis's settings in a universe's terms: ``preprocessing.emg`` with the paper's value of each
    of :data:`UNIVERSE_CHOICES`."""
    settings = copy.deepcopy(dict(config["preprocessing"]["emg"]))
    for name, choice in UNIVERSE_CHOICES["properties"].items():
        if "properties" in choice:
            group = settings.setdefault(name, {})
            for key, value in choice["properties"].items():
                group.setdefault(key, value["default"])
        else:
            settings.setdefault(name, choice["default"])
    return settings


def _paths(overrides: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every leaf of nested overrides, as (key path, value)."""
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            yield from _paths(value, (*prefix, key))
        else:
            yield (*prefix, key), value


def _at(settings: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        settings = settings[key]
    return settings


def universe_schema(config_schema: Mapping[str, Any]) -> dict[str, Any]:
    """What a universe's settings must match: ``preprocessing.emg``'s schema with :data:`UNIVERSE_CHOICES`."""
    emg = copy.deepcopy(config_schema["properties"]["preprocessing"]["properties"]["emg"])
    for name, choice in UNIVERSE_CHOICES["properties"].items():
        if name in emg["properties"]:
            emg["properties"][name]["properties"].update(choice["properties"])
        else:
            emg["properties"][name] = choice
    return emg


def fork_problems(config: Mapping[str, Any], config_schema: Mapping[str, Any]) -> list[str]:
    """Everything wrong with ``multiverse.forks`` and ``multiverse.exclude``, each naming the fork, option and
    key, and the fix (empty: the multiverse can run)."""
    declared = forks(config)
    if not declared:
        return ["multiverse.forks declares no fork: run with --configfile config/multiverse.yaml, or declare yours"]
    base = main_settings(config)
    schema = universe_schema(config_schema)
    problems = []
    owner: dict[tuple[str, ...], str] = {}
    for fork in declared:
        where = f"multiverse.forks.{fork.name}"
        if fork.main not in fork.options:
            problems.append(f"{where}.main is {fork.main!r}, not one of its options ({', '.join(fork.options)})")
        for label, overrides in fork.options.items():
            for path, value in _paths(overrides):
                key = ".".join(path)
                try:
                    current = _at(base, path)
                except (KeyError, TypeError):
                    problems.append(
                        f"{where}.options.{label!r} sets {key}, which is not a preprocessing setting "
                        "(config/README.md lists what an option may set)"
                    )
                    continue
                if owner.setdefault(path, fork.name) != fork.name:
                    problems.append(f"{where} and multiverse.forks.{owner[path]} both set {key}: one fork per setting")
                if label == fork.main and value != current:
                    problems.append(
                        f"{where}: its main option {label!r} sets {key} to {value!r}, but the main analysis has "
                        f"{current!r} (preprocessing.emg.{key}): the main option must be the main analysis's choice"
                    )
            problems += [
                f"{where}.options.{label!r}: {problem}" for problem in schema_problems(merge(base, overrides), schema)
            ]
    options = {fork.name: set(fork.options) for fork in declared}
    for k, rule in enumerate(config["multiverse"]["exclude"]):
        for name, label in rule.items():
            if name not in options:
                problems.append(f"multiverse.exclude[{k}] names fork {name!r}, which is not declared")
            elif label not in options[name]:
                problems.append(f"multiverse.exclude[{k}]: fork {name} has no option {label!r}")
        if all(rule.get(fork.name, fork.main) == fork.main for fork in declared if fork.name in rule):
            problems.append(f"multiverse.exclude[{k}] excludes the main analysis's universe")
    return list(dict.fromkeys(problems))


def collapsed_forks(config: Mapping[str, Any]) -> list[str]:
    """The forks that do not apply to this study: those on the signal when the recordings are envelopes."""
    if config["preprocessing"]["emg"]["input"] != "envelope":
        return []
    return [fork.name for fork in forks(config) if fork.on_signal]


def universes(config: Mapping[str, Any]) -> list[Universe]:
    """Every universe, numbered from 1 in the order of the forks' options (the main analysis's universe first),
    without those ``multiverse.exclude`` names; forks that do not apply keep their main option."""
    declared = forks(config)
    moot = set(collapsed_forks(config))
    choices = [[fork.main] if fork.name in moot else list(fork.options) for fork in declared]
    base = main_settings(config)
    main = {fork.name: fork.main for fork in declared}
    combinations = [dict(zip(main, labels, strict=True)) for labels in itertools.product(*choices)]
    combinations.sort(key=lambda chosen: chosen != main)  # stable: the main analysis first, the rest in order
    out: list[Universe] = []
    for chosen in combinations:
        if any(all(chosen[name] == label for name, label in rule.items()) for rule in config["multiverse"]["exclude"]):
            continue
        settings = base
        for fork in declared:
            settings = merge(settings, fork.options[chosen[fork.name]])
        out.append(Universe(len(out) + 1, chosen, settings))
    return out


def bayes_universes(config: Mapping[str, Any], found: list[Universe]) -> tuple[list[int], list[str]]:
    """The universes ``multiverse.bayes_universes`` names (each a fork: option mapping, the other forks at their
    main option), by number, and what is wrong with them: forks or options that do not exist, a universe left
    out, the main analysis (whose contrasts are its own), a baseline other than the log proportion (the model's
    priors are on that scale)."""
    declared = {fork.name: fork for fork in forks(config)}
    by_choices = {tuple(sorted(universe.choices.items())): universe for universe in found}
    numbers, problems = [], []
    for k, chosen in enumerate(config["multiverse"]["bayes_universes"]):
        where = f"multiverse.bayes_universes[{k}]"
        wrong = [
            f"{name}: {label}"
            for name, label in chosen.items()
            if label not in getattr(declared.get(name), "options", {})
        ]
        if wrong:
            problems.append(f"{where}: no such fork and option ({', '.join(wrong)})")
            continue
        choices = {name: chosen.get(name, fork.main) for name, fork in declared.items()}
        universe = by_choices.get(tuple(sorted(choices.items())))
        if universe is None:
            problems.append(f"{where} is excluded (multiverse.exclude) or collapsed for this study")
        elif universe.number == 1:
            problems.append(f"{where} is the main analysis, whose Bayesian contrasts are its own")
        elif universe.settings["baseline"] != "log_proportion":
            problems.append(
                f"{where} has the baseline {universe.settings['baseline']}: the asymptotic model's priors are on "
                "the log-proportion scale; choose a universe with that baseline"
            )
        else:
            numbers.append(universe.number)
    return numbers, problems


def multiverse_problems(config: Mapping[str, Any], from_tables: bool) -> list[str]:
    """What keeps ``snakemake multiverse`` from running on this study (it alone fails on them)."""
    import yaml

    from mimicry.config import SCHEMA

    if from_tables:
        return [
            "the multiverse preprocesses the recordings, and this study starts from trial tables (dataset.tables): "
            "point dataset.bids_root at the recordings"
        ]
    if config["study"]["design"]["drug"] == "within":
        return [
            "the multiverse's estimands compare groups of participants; a crossover (study.design.drug: within) has "
            "no multiverse yet (docs/crossover.md)"
        ]
    if not config["multiverse"]["forks"]:  # a plain run: said without reading the schema (every job start plans)
        return fork_problems(config, {})
    problems = fork_problems(config, yaml.safe_load(SCHEMA.read_text(encoding="utf-8")))
    return problems or bayes_universes(config, universes(config))[1]


def plan(emg: Mapping[str, Any], multiverse: Mapping[str, Any]) -> dict[str, Any]:
    """What :func:`universes` reads of the config: ``preprocessing.emg`` and ``multiverse``'s forks and exclusions
    (a job's params carry these, a few kB, not the universes themselves: 0.4 MB of Snakemake metadata per output
    for the default's 432)."""
    return {
        "preprocessing": {"emg": emg},
        "multiverse": {"forks": multiverse["forks"], "exclude": multiverse["exclude"]},
    }
