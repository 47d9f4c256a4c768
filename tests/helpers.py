"""What the tests share: the project's paths, a throw-away copy of the project, Snakemake runs in it, config
overlays, the validated default configuration, planted data and rewritten recordings."""

from __future__ import annotations

import dataclasses
import os
import shutil
import string
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mimicry.bayes.model import Cells
from mimicry.config import load_config, merge
from mimicry.settings import EmgSettings, PowerSettings, Priors, Sampling, SimulationSettings
from mimicry.study import Study

ROOT = Path(__file__).resolve().parents[1]
SNAKEMAKE = str(Path(sys.executable).with_name("snakemake"))
TEST_CONFIG = "config/test/config.yaml"
#: The named scenarios the tests lay over the test configuration (tests/configs/README.md lists them).
SCENARIOS = ROOT / "tests/configs"
PROJECT_PARTS = ("Snakefile", "workflow", "config", "envs", "profiles", "resources", "src")
#: The configuration of a plain run: config/config.yaml with the schema's defaults filled in.
DEFAULT = load_config()
STUDY = Study.from_config(DEFAULT["study"])
SIMULATION = SimulationSettings.from_config(DEFAULT["simulation"])
POWER = PowerSettings.from_config(DEFAULT["power"])
EMG = EmgSettings.from_config(DEFAULT["preprocessing"]["emg"])


def copy_project(destination: Path) -> Path:
    """Copy what the workflow needs (not results/, not .venv/) so a test can run and break it in isolation."""
    destination.mkdir(parents=True, exist_ok=True)
    for part in PROJECT_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(
                source, destination / part, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(source, destination / part)
    return destination


def snakemake_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Snakemake runs in: the venv's bin/ first, as an activated venv has it (the notebook rule
    runs papermill, the report rule jupyter), plus ``extra``."""
    return {
        **os.environ,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": f"{Path(SNAKEMAKE).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        **(extra or {}),
    }


def run_snakemake(
    project: Path, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run Snakemake in ``project`` (``env`` added to the environment); with ``check``, fail the test with
    Snakemake's output if it fails."""
    result = subprocess.run([SNAKEMAKE, *args], cwd=project, capture_output=True, text=True, env=snakemake_env(env))
    if check and result.returncode != 0:
        pytest.fail(f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def write_overlay(project: Path, name: str, overlay: dict) -> str:
    """A config file for ``--configfile``: the test configuration with ``overlay`` laid over it (for a test whose
    subject is the key it changes; fixed scenarios live in tests/configs)."""
    path = project / "config" / name
    path.write_text(yaml.safe_dump(merge(yaml_of(ROOT / TEST_CONFIG), overlay)), encoding="utf-8")
    return str(path.relative_to(project))


def scenario_config(*names: str, over_test_config: bool = True, **values: object) -> dict:
    """The named scenarios (``tests/configs/<name>.yaml``) laid in order over the test configuration (or over
    nothing), each ``${key}`` in them replaced by ``values[key]``."""
    config = yaml_of(ROOT / TEST_CONFIG) if over_test_config else {}
    for name in names:
        text = string.Template((SCENARIOS / f"{name}.yaml").read_text(encoding="utf-8")).substitute(values)
        config = merge(config, yaml.safe_load(text))
    return config


def lay_scenario(project: Path, *names: str, over_test_config: bool = True, **values: object) -> str:
    """Write :func:`scenario_config` into ``project``'s config folder; return the path ``--configfile`` takes."""
    path = project / "config" / f"{'+'.join(names)}.yaml"
    path.write_text(yaml.safe_dump(scenario_config(*names, over_test_config=over_test_config, **values)))
    return str(path.relative_to(project))


#: A lab's analysis repository that uses this workflow as a Snakemake module (README, "Your own study").
LAB_SNAKEFILE = """configfile: "config/config.yaml"


module mimicry:
    snakefile: "{workflow}"
    config: config


use rule * from mimicry as mimicry_*
"""


def lab_repository(folder: Path, workflow: Path, config: dict) -> Path:
    """A lab's own analysis folder at ``folder``: a Snakefile that declares ``workflow`` (a copy of this project,
    as a lab would check out a version of it) as a module, and ``config`` as its config/config.yaml, whole (a
    module's config is the lab's alone: the workflow's config/config.yaml is not read)."""
    (folder / "config").mkdir(parents=True)
    (folder / "Snakefile").write_text(LAB_SNAKEFILE.format(workflow=workflow / "Snakefile"), encoding="utf-8")
    (folder / "config/config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return folder


def copy_dataset(test_run: Path, destination: Path) -> Path:
    """The test run's simulated BIDS dataset copied to ``destination``, to be analysed as a lab's own."""
    shutil.copytree(test_run / "results/simulated/bids", destination)
    return destination


def simulation_with(overlay: dict) -> SimulationSettings:
    """The default simulation with ``overlay`` laid over it."""
    return SimulationSettings.from_config(merge(DEFAULT["simulation"], overlay))


def write_schema_with_defaults(source: Path, destination: Path, defaults: dict[str, object]) -> Path:
    """The config schema at ``source`` with some defaults changed (dotted key -> new default), written to
    ``destination`` in its own key order (the order the filled config gets)."""
    schema = yaml.safe_load(source.read_text())
    for key, value in defaults.items():
        node = schema
        for part in key.split("."):
            node = node["properties"][part]
        node["default"] = value
    destination.write_text(yaml.safe_dump(schema, sort_keys=False))
    return destination


def planted_window_trials(
    drug_effects: list[dict], per_group: int = 30, muscle: str | None = None, seed: int | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Trial x window log EMG straight from planted participant curves (no EMG),
    for ``per_group`` participants per group of the default study, and the planted a, b, c per condition (``seed``:
    another draw of the same study; default: the default simulation's)."""
    from mimicry.curve import curve
    from mimicry.simulate.participants import planted_conditions, simulate_participants
    from mimicry.task import load_stimuli

    config = merge(
        DEFAULT["simulation"],
        {
            "participants_per_group": {g: per_group for g in STUDY.groups},
            "drug_effects": drug_effects,
            **({} if seed is None else {"seed": seed}),
        },
    )
    simulation = SimulationSettings.from_config(config)
    _, _, effects = simulate_participants(simulation, STUDY)
    if muscle:
        effects = effects[effects["muscle"] == muscle]
    stimuli = load_stimuli(ROOT / "resources/stimuli.tsv", STUDY.emotions)
    # each trial the participant's curve times a trial weight N(1, trial_response_sd), plus N(0, 0.15) per window
    rng = np.random.default_rng([1 if seed is None else seed, 2])
    windows = np.arange(1, 6)
    rows = []
    for (participant, group, cell_muscle, emotion), cell in effects.groupby(
        ["participant", "group", "muscle", "emotion"]
    ):
        a, b, c = cell[["a", "b", "c"]].iloc[0]
        means = curve(a, b, c, windows - 1.0)
        for _, video in stimuli[stimuli["trial_type"] == emotion].iterrows():
            values = rng.normal(1.0, simulation.trial_response_sd) * means + rng.normal(0.0, 0.15, len(windows))
            rows += [
                (participant, group, f"{video['video']}-0", video["face"], emotion, cell_muscle, int(w), v)
                for w, v in zip(windows, values, strict=True)
            ]
    columns = ["participant", "group", "trial", "face", "emotion", "muscle", "window", "log_emg"]
    trials = pd.DataFrame(rows, columns=columns).assign(rejected=False)
    return trials, planted_conditions(simulation, STUDY)


def rewrite_recording(root: Path, label: str, change) -> None:
    """Rewrite one participant's EDF after ``change(data, sfreq) -> (data, sfreq)``; sidecars stay consistent."""
    from mimicry.bids.layout import recording_files
    from mimicry.bids.read import read_recording
    from mimicry.bids.write import write_recording

    raw = read_recording(root, label, STUDY).load_data(verbose="error")
    files = recording_files(root, label, STUDY.task)
    events = pd.read_csv(files.events, sep="\t", dtype=str, keep_default_na=False)
    data, sfreq = change(raw.get_data(), raw.info["sfreq"])
    write_recording(files, data, raw.ch_names, list(STUDY.muscles), sfreq, events, task=STUDY.task, line_frequency=50.0)


#: what a run makes only in a study with response times
RT_OUTPUTS = (
    "results/preprocessing/rt_trials.parquet",
    "results/preprocessing/rt_summary.tsv",
    "results/statistics/lmm/rt_anova.tsv",
    "results/statistics/figure_s2.png",
)


def yaml_of(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def windows_with_truth(project: Path, labels: list[str]) -> pd.DataFrame:
    """A simulated run's window table beside each trial's planted log gain and artefact (one row per trial x
    muscle x window)."""
    windows = pd.read_parquet(project / "results/preprocessing/emg_windows.parquet")
    truth = pd.concat(
        pd.read_parquet(project / f"results/simulated/ground_truth/trials/sub-{label}_trials.parquet")
        for label in labels
    )
    keys = ["participant", "trial", "muscle", "window"]
    return windows.merge(truth[[*keys, "planted_log_gain", "artefact"]], on=keys, validate="one_to_one")


def assert_window_means_track_the_planted_response(with_truth: pd.DataFrame) -> pd.DataFrame:
    """Per muscle x emotion, the kept trials' window means change from the first window to the last as the
    planted curve does (same sign, within 0.05), and correlate above 0.9 with it over all cells. Returns the
    cell means (log_emg, planted_log_gain by muscle, emotion, window)."""
    kept = with_truth[~with_truth["rejected"]]
    cells = kept.groupby(["muscle", "emotion", "window"])[["log_emg", "planted_log_gain"]].mean()
    for (muscle, emotion), cell in cells.groupby(level=["muscle", "emotion"]):
        change = cell["log_emg"].iloc[-1] - cell["log_emg"].iloc[0]
        planted_change = cell["planted_log_gain"].iloc[-1] - cell["planted_log_gain"].iloc[0]
        assert np.sign(change) == np.sign(planted_change), (muscle, emotion)
        assert abs(change - planted_change) < 0.05, (muscle, emotion, change, planted_change)
    assert np.corrcoef(cells["log_emg"], cells["planted_log_gain"])[0, 1] > 0.9
    return cells


def assert_rules_catch_the_planted_artefacts(with_truth: pd.DataFrame) -> None:
    """More than half the trials with a planted artefact rejected; fewer than 8% of clean trials rejected for
    their own sake (with scope trial a clean trial is also lost when the other muscle had an artefact)."""
    trials = with_truth[with_truth["window"] == 1]
    planted = trials["artefact"] != "none"
    own = trials["reason"].str.len().gt(0) & ~trials["reason"].str.startswith("in ")
    assert trials.loc[planted, "rejected"].mean() > 0.5
    assert own[~planted].mean() < 0.08


#: The Bayesian tests' design (the paper's), settings and priors (the paper's), and a quick sampling run.
GROUPS = ["amisulpride", "naltrexone", "placebo"]
MUSCLES = ["corrugator", "zygomaticus"]
EMOTIONS = ["AngryToHappy", "HappyToAngry"]
BAYES = DEFAULT["statistics"]["bayes"]
PRIORS = Priors.from_config(BAYES)
QUICK = dataclasses.replace(Sampling.from_config(BAYES, cores=2), chains=2, warmup=300, draws=300, seed=7)


def small_windows(n_per_group: int = 2, seed: int = 0) -> pd.DataFrame:
    """A small window table: every participant x muscle x emotion x window, 3 trials each, one rejected."""
    rng = np.random.default_rng(seed)
    rows = []
    for g, group in enumerate(GROUPS):
        for p in range(n_per_group):
            participant = f"{g}{p:02d}"
            for trial in range(3):
                for muscle in MUSCLES:
                    for emotion in EMOTIONS:
                        for window in range(1, 6):
                            number = 1 + trial + 3 * EMOTIONS.index(emotion)  # unique within a participant
                            rows.append(
                                (
                                    participant,
                                    group,
                                    number,
                                    emotion,
                                    muscle,
                                    window,
                                    0.1 * np.tanh(window - 1) + rng.normal(0, 0.05),
                                    trial == 2,
                                )
                            )
    return pd.DataFrame(
        rows, columns=["participant", "group", "trial", "emotion", "muscle", "window", "log_emg", "rejected"]
    )


def small_cells(data: pd.DataFrame) -> Cells:
    return Cells.of(data, GROUPS, MUSCLES, EMOTIONS)
