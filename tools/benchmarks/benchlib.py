"""Summaries of Snakemake ``benchmark:`` files: wall time, CPU time and peak memory per rule."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from pathlib import Path

import pandas as pd


def read_benchmarks(folder: str | Path) -> pd.DataFrame:
    """Every benchmark TSV under ``folder`` (``<folder>/<rule>/<job>.tsv``), a row per job, with its rule."""
    rows = []
    for path in sorted(Path(folder).rglob("*.tsv")):
        table = pd.read_csv(path, sep="\t")
        rows.append(table.assign(rule=path.relative_to(folder).parts[0], job=path.stem))
    return (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame(columns=["rule", "job", "s", "max_rss", "cpu_time"])
    )


def summarize(benchmarks: pd.DataFrame) -> pd.DataFrame:
    """Per rule: jobs, mean and max wall seconds, mean CPU seconds, mean and max peak RSS (MB)."""
    grouped = benchmarks.groupby("rule")
    return pd.DataFrame(
        {
            "jobs": grouped.size(),
            "wall_mean_s": grouped["s"].mean(),
            "wall_max_s": grouped["s"].max(),
            "cpu_mean_s": grouped["cpu_time"].mean(),
            "rss_mean_mb": grouped["max_rss"].mean(),
            "rss_max_mb": grouped["max_rss"].max(),
        }
    ).round(2)


#: The workflow's stages, by the rules that make them up (a rule not listed here counts as "report").
STAGES = {
    "simulation": ("simulate_participants", "simulate_recording"),
    "validation": ("validate_dataset",),
    "preprocessing": ("preprocess_emg", "preprocess_rt", "gather_emg", "gather_rt", "import_emg", "import_rt"),
    "lmm": ("lmm_emg", "lmm_rt"),
    "tables and figures": ("table1", "figure1", "figure_s2", "rejection_rates", "rejections_by_group"),
    "bayes": ("bayes_fit", "bayes_compare", "bayes_figures"),
    "provenance and methods": ("software_versions", "provenance", "methods_text"),
}
_TIMESTAMP = re.compile(r"^\[(\w{3} \w{3} +\d+ \d\d:\d\d:\d\d \d{4})\]$")
_STARTED = re.compile(r"^(?:local)?(?:rule|checkpoint) (\w+):$")
_JOBID = re.compile(r"^\s+jobid: (\d+)$")
_FINISHED = re.compile(r"^Finished jobid: (\d+) \(Rule: (\w+)\)$")


def job_times(log: str) -> pd.DataFrame:
    """Start and finish (seconds from the first start) of every job in a Snakemake log: rule, jobid, start_s, end_s.

    Snakemake stamps each job's start and finish to the second; the log is ``.snakemake/log/<run>.snakemake.log``.
    """
    stamp, rule, starts, rows = None, None, {}, []
    for line in log.splitlines():
        if match := _TIMESTAMP.match(line):
            stamp = datetime.strptime(match[1], "%a %b %d %H:%M:%S %Y")
        elif match := _STARTED.match(line):
            rule = match[1]
        elif (match := _JOBID.match(line)) and rule is not None:
            starts[int(match[1])] = (rule, stamp)
            rule = None
        elif (match := _FINISHED.match(line)) and int(match[1]) in starts:
            job_rule, started = starts.pop(int(match[1]))
            rows.append({"rule": job_rule, "jobid": int(match[1]), "start": started, "end": stamp})
    jobs = pd.DataFrame(rows, columns=["rule", "jobid", "start", "end"])
    origin = jobs["start"].min()
    return jobs.assign(
        start_s=(jobs["start"] - origin).dt.total_seconds(), end_s=(jobs["end"] - origin).dt.total_seconds()
    ).drop(columns=["start", "end"])


def stage_of(rule: str) -> str:
    """The stage a rule belongs to (:data:`STAGES`); any other rule is part of the report."""
    return next((stage for stage, rules in STAGES.items() if rule in rules), "report")


def stage_walls(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per stage: jobs, first start and last finish (s from the run's first job) and the wall between them."""
    grouped = jobs.assign(stage=jobs["rule"].map(stage_of)).groupby("stage", sort=False)
    table = pd.DataFrame({"jobs": grouped.size(), "first_start_s": grouped["start_s"].min()})
    table["last_end_s"] = grouped["end_s"].max()
    table["wall_s"] = table["last_end_s"] - table["first_start_s"]
    return table.sort_values("first_start_s")


#: The study's group tables (under results/): what a faster workflow must reproduce to the bit.
GROUP_TABLES = (
    "dataset/*.tsv",
    "preprocessing/*.tsv",
    "preprocessing/*.parquet",
    "statistics/**/*.tsv",
    "statistics/*.md",
    "bayes/**/*.tsv",
    "bayes/**/*.parquet",
    "bayes/*.md",
)
#: Columns that record how long a step took: they differ between runs, nothing else may.
TIMING_COLUMNS = ("seconds", "sampling_seconds", "ess_bulk_per_s", "check_seconds")


def table_checksums(results: str | Path) -> pd.Series:
    """SHA-256 of every group table under ``results`` (relative path -> digest), timing columns left out: TSVs
    as their text (read as strings, so no number is re-printed), Parquet and Markdown as their bytes."""
    results = Path(results)
    digests = {}
    for path in sorted({path for pattern in GROUP_TABLES for path in results.glob(pattern)}):
        if path.suffix == ".tsv":
            table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
            content = table.drop(columns=[c for c in TIMING_COLUMNS if c in table]).to_csv(sep="\t", index=False)
            data = content.encode()
        else:
            data = path.read_bytes()
        digests[path.relative_to(results).as_posix()] = hashlib.sha256(data).hexdigest()
    return pd.Series(digests, name="sha256").rename_axis("table")


def changed_tables(recorded: pd.Series, found: pd.Series) -> list[str]:
    """The group tables whose digest differs from the recorded one, or that only one of the two has."""
    tables = recorded.index.union(found.index)
    return [table for table in tables if recorded.get(table) != found.get(table)]
