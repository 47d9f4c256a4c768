"""Change-aware reruns and faults: after a complete run, a change reruns exactly what depends on it; a killed run
resumes with only the remaining jobs."""

from __future__ import annotations

import modulefinder
import os
import re
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from benchlib import changed_tables, table_checksums
from helpers import (
    ROOT,
    SNAKEMAKE,
    TEST_CONFIG,
    copy_dataset,
    copy_project,
    lay_scenario,
    run_snakemake,
    snakemake_env,
    write_overlay,
    write_schema_with_defaults,
)

REPORT_JOBS = {"provenance", "methods_text", "study_notebook", "study_report_html"}
BAYES_JOBS = {"bayes_fit", "bayes_compare", "bayes_figures"}


def planned_jobs(project: Path, *args: str) -> dict[str, int]:
    """Rule -> number of jobs that ``snakemake -n`` would run (empty when nothing is to be done)."""
    result = run_snakemake(project, "-n", *args)
    text = result.stdout + result.stderr
    if "Nothing to be done" in text:
        return {}
    table = text[text.index("Job stats:") :].split("\n\n")[0]
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", table, flags=re.MULTILINE))
    return {rule: int(n) for rule, n in counts.items() if rule not in ("all", "total")}


@pytest.fixture
def finished(test_run: Path, tmp_path: Path) -> Path:
    """A copy of the completed test run, with Snakemake's records (.snakemake/) and file times kept."""
    project = tmp_path / "finished"
    shutil.copytree(test_run, project, symlinks=True, ignore=shutil.ignore_patterns("conda", "singularity"))
    return project


def test_nothing_changed_means_nothing_to_do(finished: Path) -> None:
    assert planned_jobs(finished, "--configfile", TEST_CONFIG) == {}


def test_the_faster_paths_give_the_same_tables_as_the_plain_ones(finished: Path) -> None:
    """The speed-ups change no number: everything rerun on one core (so leave-one-participant-out runs after the
    summaries, not beside them) with MNE's numba kernels on gives every group table of the shared run (two cores,
    numba off) to the bit, timing columns left out."""
    shared = table_checksums(finished / "results")
    assert len(shared) > 40
    run_snakemake(finished, "--cores", "1", "--forceall", "--configfile", TEST_CONFIG, env={"MNE_USE_NUMBA": "true"})
    assert changed_tables(shared, table_checksums(finished / "results")) == []


def test_an_emg_filter_change_reruns_the_emg_branch_not_the_rt_branch(finished: Path) -> None:
    overlay = write_overlay(finished, "filter.yaml", {"preprocessing": {"emg": {"bandpass": {"l_freq": 25.0}}}})
    jobs = planned_jobs(finished, "--configfile", overlay)
    assert jobs["preprocess_emg"] == 6 and jobs["gather_emg"] == 1
    assert jobs["lmm_emg"] == 3 and jobs["bayes_fit"] == 4 and REPORT_JOBS <= set(jobs)
    for untouched in (
        "simulate_participants",
        "simulate_recording",
        "validate_dataset",
        "preprocess_rt",
        "gather_rt",
        "lmm_rt",
        "table1",
        "software_versions",
    ):
        assert untouched not in jobs, untouched
    # Snakemake says why: preprocess_emg's params changed (the rest follows from its outputs)
    dry = run_snakemake(finished, "-n", "--configfile", overlay).stdout
    assert dry.count("reason: Params have changed since last execution") == 6 + 1  # + provenance (the config)


def test_a_prior_change_reruns_only_the_bayesian_models_and_the_report(finished: Path) -> None:
    overlay = write_overlay(finished, "prior.yaml", {"statistics": {"bayes": {"priors": {"rate": {"sigma": 0.9}}}}})
    jobs = planned_jobs(finished, "--configfile", overlay)
    assert set(jobs) == BAYES_JOBS | REPORT_JOBS
    assert jobs["bayes_fit"] == 4


def test_a_default_changed_in_the_schema_reruns_what_the_same_key_in_config_would(finished: Path) -> None:
    """The schema is the one place a default lives: changing the band-pass edge or a prior there plans exactly
    the jobs that setting the key in a config file plans."""
    for key, value in (("preprocessing.emg.bandpass.l_freq", 25.0), ("statistics.bayes.priors.random_sd", 0.2)):
        section, *middle, leaf = key.split(".")
        nested: dict = {leaf: value}
        for part in reversed(middle):
            nested = {part: nested}
        by_config = planned_jobs(finished, "--configfile", write_overlay(finished, "key.yaml", {section: nested}))
        schema = finished / "workflow/schemas/config.schema.yaml"
        write_schema_with_defaults(schema, schema, {key: value})
        by_schema = planned_jobs(finished, "--configfile", TEST_CONFIG)
        assert by_schema == by_config and by_schema, key
        shutil.copy2(ROOT / "workflow/schemas/config.schema.yaml", finished / "workflow/schemas/config.schema.yaml")
    assert planned_jobs(finished, "--configfile", TEST_CONFIG) == {}


def test_an_edited_rule_script_reruns_that_rules_jobs(finished: Path) -> None:
    script = finished / "workflow/scripts/preprocess_rt.py"
    script.write_text(script.read_text() + "# edited\n")
    jobs = planned_jobs(finished, "--configfile", TEST_CONFIG)
    assert jobs["preprocess_rt"] == 6 and jobs["gather_rt"] == 1 and jobs["lmm_rt"] == 1
    assert "preprocess_emg" not in jobs and "lmm_emg" not in jobs and "bayes_fit" not in jobs
    changes = run_snakemake(finished, "--list-changes", "code", "--configfile", TEST_CONFIG).stdout
    assert "results/preprocessing/rt/sub-001_rt.parquet" in changes


def test_a_participant_added_runs_only_its_jobs_and_the_group_stages(test_run: Path, tmp_path: Path) -> None:
    """A user's BIDS dataset analysed without sub-006, then with it: only sub-006's jobs and the group stages."""
    dataset, held_back = copy_dataset(test_run, tmp_path / "dataset"), tmp_path / "sub-006"
    shutil.move(dataset / "sub-006", held_back)
    participants = (dataset / "participants.tsv").read_text()
    (dataset / "participants.tsv").write_text(
        "".join(line for line in participants.splitlines(keepends=True) if not line.startswith("sub-006"))
    )
    project = copy_project(tmp_path / "project")
    overlay = lay_scenario(project, "own_bids", dataset=dataset)
    # the per-participant stage and its gathers: what adding a participant must not redo for the others
    gathered = (
        "results/dataset/validation.tsv",
        "results/preprocessing/emg_windows.parquet",
        "results/preprocessing/rt_trials.parquet",
    )
    run_snakemake(project, "--cores", "2", *gathered, "--configfile", overlay)
    assert len(pd.read_csv(project / "results/dataset/validation.tsv", sep="\t")) == 5

    shutil.move(held_back, dataset / "sub-006")
    (dataset / "participants.tsv").write_text(participants)
    assert planned_jobs(project, *gathered, "--configfile", overlay) == {
        "validate_dataset": 1,
        "preprocess_emg": 1,
        "preprocess_rt": 1,
        "gather_emg": 1,
        "gather_rt": 1,
    }
    jobs = planned_jobs(project, "--configfile", overlay)
    assert jobs["preprocess_emg"] == 1 and jobs["preprocess_rt"] == 1
    assert {"table1", "lmm_emg", "bayes_fit"} <= set(jobs)
    dry = run_snakemake(project, "-n", "--configfile", overlay).stdout
    assert "wildcards: participant=006" in dry and "participant=005" not in dry


def _finished_jobs(log: str, rule: str) -> int:
    return len(re.findall(rf"^Finished jobid: \d+ \(Rule: {rule}\)", log, flags=re.MULTILINE))


def test_a_killed_run_resumes_with_only_the_remaining_jobs(test_run: Path, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project")
    target = "results/preprocessing/emg_windows.parquet"
    log_path = tmp_path / "killed.log"
    with open(log_path, "w") as log:
        run = subprocess.Popen(
            [SNAKEMAKE, "--cores", "2", target, "--configfile", TEST_CONFIG],
            cwd=project,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=snakemake_env(),
            start_new_session=True,
        )
        deadline = time.monotonic() + 300
        while (
            _finished_jobs(log_path.read_text(), "preprocess_emg") < 2
            and run.poll() is None
            and time.monotonic() < deadline
        ):
            time.sleep(0.1)
        assert run.poll() is None, "the run ended before it could be killed"
        os.killpg(run.pid, signal.SIGKILL)  # as a crash or an out-of-memory kill: no clean-up at all
        run.wait()
    killed = log_path.read_text()
    done_before = _finished_jobs(killed, "preprocess_emg")
    assert 0 < done_before < 6

    # a killed Snakemake leaves its lock behind: --unlock (the README says so), then the same command again
    run_snakemake(project, "--unlock", "--configfile", TEST_CONFIG)
    resumed = run_snakemake(project, "--cores", "2", target, "--configfile", TEST_CONFIG)
    log = resumed.stdout + resumed.stderr
    # each job that finished before the kill is not run again; the ones cut off are redone from scratch
    assert _finished_jobs(log, "preprocess_emg") == 6 - done_before
    assert _finished_jobs(log, "simulate_recording") == 6 - _finished_jobs(killed, "simulate_recording")
    for name in ("emg_windows.parquet", "emg_rejections.tsv"):
        assert (project / "results/preprocessing" / name).read_bytes() == (
            test_run / "results/preprocessing" / name
        ).read_bytes(), name


def _scripts_by_rule(project: Path) -> dict[str, Path]:
    """Rule -> the script or notebook it runs, read from the rule files."""
    found = {}
    for rules in (project / "workflow/rules").glob("*.smk"):
        for block in re.split(r"(?m)^(?=rule )", rules.read_text())[1:]:
            script = re.search(r'(?:script|notebook):\n\s+"([^"]+)"', block)
            if script:
                found[block.split()[1].rstrip(":")] = (rules.parent / script.group(1)).resolve()
    return found


def _runs(script: Path, package: Path) -> set[Path]:
    """What ``script`` runs of the package, found by the standard library's ModuleFinder (not the workflow's
    own walker): its modules, and the package's other files that one of them names."""
    if script.suffix == ".ipynb":
        import json

        cells = json.loads(script.read_text())["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        script = script.with_suffix(".notebook.py")
        script.write_text(code)
    finder = modulefinder.ModuleFinder(path=[str(package.parent)])
    finder.run_script(str(script))
    modules = {Path(m.__file__) for name, m in finder.modules.items() if name.split(".")[0] == package.name}
    named = {
        data
        for data in package.iterdir()
        if data.suffix != ".py" and any(data.name in module.read_text() for module in modules)
    }
    return modules | named


def _jobs(dry_run: str) -> list[dict]:
    """The jobs of a ``snakemake -n`` listing: rule, inputs and outputs of each."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \w+:)", dry_run)[1:]:
        fields = dict(re.findall(r"^\s+(input|output|log): (.*)$", block, flags=re.MULTILINE))
        jobs.append(
            {
                "rule": re.match(r"(?:local)?rule (\w+):", block).group(1),
                "input": {f.strip() for f in fields.get("input", "").split(",") if f.strip()},
                # a job's log can be another job's input (the executed notebook)
                "output": {
                    f.strip() for f in f"{fields.get('output', '')},{fields.get('log', '')}".split(",") if f.strip()
                },
            }
        )
    return jobs


def _with_downstream(jobs: list[dict], first: list[int]) -> dict[str, int]:
    """Rule -> jobs among ``first`` and every job that consumes their outputs, directly or not."""
    chosen, pending = set(), list(first)
    while pending:
        index = pending.pop()
        if index not in chosen:
            chosen.add(index)
            pending += [i for i, job in enumerate(jobs) if job["input"] & jobs[index]["output"]]
    return dict(Counter(jobs[i]["rule"] for i in chosen if jobs[i]["rule"] != "all"))


def test_editing_a_package_file_reruns_exactly_the_jobs_that_run_it(finished: Path) -> None:
    """Each module, in subpackages too (and the R probe): every job lists it among its inputs exactly when its
    script runs it, directly or through other modules (the standard library's ModuleFinder says which). Then, for
    one module per distinct set of jobs that run one (so every rule's code, and code that no job runs), an edit
    plans exactly those jobs and what depends on their outputs, nothing else."""
    package = finished / "src/mimicry"
    scripts = _scripts_by_rule(finished)
    runs_of = {script: _runs(script, package.resolve()) for script in set(scripts.values())}
    jobs = _jobs(run_snakemake(finished, "-n", "-F", "--configfile", TEST_CONFIG).stdout)
    mismatches = []
    representatives: dict[tuple[int, ...], Path] = {}
    for path in sorted(p for p in package.rglob("*") if p.suffix in {".py", ".R"} and "__pycache__" not in p.parts):
        name = str(path.relative_to(finished))
        runs = [
            i
            for i, job in enumerate(jobs)
            if job["rule"] in scripts and path.resolve() in runs_of[scripts[job["rule"]]]
        ]
        listed = [i for i, job in enumerate(jobs) if name in job["input"]]
        if listed != runs:
            mismatches.append(
                f"{name}: an input of {sorted({jobs[i]['rule'] for i in listed})}, "
                f"run by {sorted({jobs[i]['rule'] for i in runs})}"
            )
        representatives.setdefault(tuple(runs), path)
    assert len(representatives) > 5
    for runs, path in representatives.items():
        # an edit, not a touch: Snakemake reruns for a newer input only when its checksum changed
        original, before = path.read_bytes(), path.stat()
        path.write_bytes(original + b"\n# edited\n")
        planned = planned_jobs(finished, "--configfile", TEST_CONFIG)
        path.write_bytes(original)
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        expected = _with_downstream(jobs, list(runs))
        if planned != expected:
            mismatches.append(f"{path.relative_to(finished)}: edited, plans {planned}, expected {expected}")
    assert not mismatches, "\n".join(mismatches)
    assert planned_jobs(finished, "--configfile", TEST_CONFIG) == {}


def test_the_group_models_start_longest_first(test_run: Path) -> None:
    """Once the window table is made, the whole-study EMG models (fit and convergence check: the longest jobs)
    start first, then the Bayesian models, then the follow-up and RT models, which fill the cores at the end."""
    result = run_snakemake(test_run, "-n", "-F", "--configfile", TEST_CONFIG)
    priorities: dict[str, dict[str, int]] = {"long": {}, "bayes": {}, "short": {}}
    rule = model = None
    for line in (result.stdout + result.stderr).splitlines():
        if found := re.match(r"rule (\w+):", line):
            rule, model = found[1], None
        elif found := re.match(r"\s+wildcards: model=(\w+)", line):
            model = found[1]
        elif (found := re.match(r"\s+priority: (\d+)", line)) and model and rule in ("lmm_emg", "lmm_rt", "bayes_fit"):
            kind = "bayes" if rule == "bayes_fit" else "long" if re.fullmatch(r"emg_[a-z]+", model) else "short"
            priorities[kind][model] = int(found[1])
    assert [len(models) for models in priorities.values()] == [2, 4, 2], priorities
    assert min(priorities["long"].values()) > max(priorities["bayes"].values())
    assert min(priorities["bayes"].values()) > max(priorities["short"].values())
