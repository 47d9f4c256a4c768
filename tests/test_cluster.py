"""The workflow on a real SLURM cluster (one node, brought up on this machine by tools/setup/slurm-cluster.sh):
profiles/slurm gives the results a local run gives, the multiverse runs through it as it is; a failing job is retried
and reported."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from benchlib import TIMING_COLUMNS
from helpers import (
    ROOT,
    TEST_CONFIG,
    copy_dataset,
    copy_project,
    lay_scenario,
    rewrite_recording,
    run_snakemake,
    scenario_config,
)
from mimicry.bayes.model import model_data

CLUSTER_SCRIPT = ROOT / "tools/setup/slurm-cluster.sh"
# The plugin waits 40 s before its first status check (sensible on a busy cluster, slow for a test)
FAST_POLLING = ("--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "2")


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory):
    """A running single-node cluster; yields the environment its clients need, stops it by PID afterwards."""
    assert shutil.which("sbatch"), "SLURM is not installed: make test runs tools/setup/test-system.sh"
    state = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(["bash", str(CLUSTER_SCRIPT), "start", str(state)], capture_output=True, text=True)
    assert started.returncode == 0, started.stderr
    conf = re.search(r"export SLURM_CONF=(\S+)", started.stdout).group(1)
    yield {"SLURM_CONF": conf}
    stopped = subprocess.run(["bash", str(CLUSTER_SCRIPT), "stop", str(state)], capture_output=True, text=True)
    assert stopped.returncode == 0, stopped.stderr


def _comparable(results: Path) -> list[Path]:
    skip = ("benchmarks", "logs", "study_report.html", "findings.tsv")
    return sorted(
        p.relative_to(results)
        for p in results.rglob("*")
        if p.is_file()
        and p.suffix in {".tsv", ".parquet", ".nc", ".edf", ".json", ".md", ".yaml"}
        and not any(part in str(p) for part in skip)
    )


def test_the_slurm_profile_gives_the_local_results(slurm, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """The test configuration through SLURM gives the shared local run's results (asked for only after the SLURM
    run, so that under two test workers the local run is made beside it)."""
    project = copy_project(tmp_path / "project")
    # --cores: what one SLURM job (a group of jobs) may ask for; this node has 2 cores
    result = run_snakemake(
        project,
        "--workflow-profile",
        "profiles/slurm",
        "--cores",
        "2",
        *FAST_POLLING,
        "--configfile",
        TEST_CONFIG,
        env=slurm,
    )
    log = result.stdout + result.stderr
    assert "has been submitted with SLURM jobid" in log
    assert len(set(re.findall(r"submitted with SLURM jobid (\d+)", log))) >= 10
    assert "group_participant" in log  # participants' jobs were packed into group jobs

    local, cluster = request.getfixturevalue("test_run") / "results", project / "results"
    files = _comparable(local)
    assert files == _comparable(cluster) and len(files) > 100
    differing = [f for f in files if (local / f).read_bytes() != (cluster / f).read_bytes()]
    assert all(name.suffix == ".tsv" for name in differing), differing
    for name in differing:  # only a timing column may differ
        a, b = (
            pd.read_csv(root / name, sep="\t").drop(columns=list(TIMING_COLUMNS), errors="ignore")
            for root in (local, cluster)
        )
        pd.testing.assert_frame_equal(a, b, obj=str(name))


def test_the_multiverse_runs_through_the_slurm_profile(slurm, test_run: Path, tmp_path: Path) -> None:
    """The multiverse from a finished run through profiles/slurm as it is (four universes: the tiny multiverse's
    notch and window forks): the participants' jobs packed into a group job, the main analysis's universe equal
    to the main analysis's participant means to the bit, and a second run has nothing to do."""
    project = tmp_path / "project"
    shutil.copytree(test_run, project, symlinks=True, ignore=shutil.ignore_patterns("conda", "singularity"))
    config = scenario_config("tiny_multiverse")
    config["multiverse"].update(permutations=20, bayes_universes=[])
    for fork in ("outliers", "baseline"):
        del config["multiverse"]["forks"][fork]
    overlay = project / "config/multiverse_slurm.yaml"
    overlay.write_text(yaml.safe_dump(config))
    arguments = ("--workflow-profile", "profiles/slurm", "--cores", "2", *FAST_POLLING, "--configfile", str(overlay))
    result = run_snakemake(project, "multiverse", *arguments, env=slurm)
    log = result.stdout + result.stderr
    assert "group_multiverse" in log and "has been submitted with SLURM jobid" in log
    means = pd.read_parquet(project / "results/multiverse/means.parquet")
    assert sorted(means["universe"].unique()) == [1, 2, 3, 4]
    main = pd.read_parquet(project / "results/preprocessing/emg_windows.parquet")
    mine = means[means["universe"] == 1].sort_values(["participant", "muscle", "emotion", "window"])
    assert np.array_equal(mine["response"].to_numpy(), model_data(main, "participant")["log_emg"].to_numpy())
    assert len(pd.read_csv(project / "results/multiverse/joint_test.tsv", sep="\t")) == 6 * 3
    again = run_snakemake(project, "multiverse", "-n", *arguments, env=slurm)
    assert "Nothing to be done" in again.stdout + again.stderr


def test_a_failing_cluster_job_is_retried_and_reported(slurm, test_run: Path, tmp_path: Path) -> None:
    """sub-002's zygomaticus channel is flat and bad recordings fail: its job is submitted twice (retries: 1 in
    the profile), the error names the rule and the participant, and sub-001 finishes (--keep-going)."""
    dataset = copy_dataset(test_run, tmp_path / "dataset")

    def flat(data, sfreq):
        data[1] = 0.0
        return data, sfreq

    rewrite_recording(dataset, "002", flat)
    project = copy_project(tmp_path / "project")
    overlay = lay_scenario(project, "own_bids", "fail_bad_recordings", dataset=dataset)
    targets = [f"results/preprocessing/emg/sub-{label}_windows.parquet" for label in ("001", "002")]
    result = run_snakemake(
        project,
        "--workflow-profile",
        "profiles/slurm",
        "--cores",
        "2",
        *FAST_POLLING,
        "--group-components",
        "participant=1",
        "--keep-going",
        *targets,
        "--configfile",
        overlay,
        env=slurm,
        check=False,
    )
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert (project / targets[0]).is_file() and not (project / targets[1]).exists()
    # submitted, failed, submitted again (the profile's retries: 1), failed, reported with its SLURM log
    assert log.count("Trying to restart job") == 1
    assert len(re.findall(r"submitted with SLURM jobid \d+", log)) == 3  # sub-001 once, sub-002 twice
    assert "Error in group participant" in log and "results/logs/preprocess_emg/sub-002.log" in log
    slurm_logs = "\n".join(p.read_text() for p in (project / ".snakemake/slurm_logs").rglob("*.log"))
    assert "participant sub-002" in slurm_logs and "channel ZM is flat" in slurm_logs
    assert "channel ZM is flat" in (project / "results/logs/preprocess_emg/sub-002.log").read_text()
