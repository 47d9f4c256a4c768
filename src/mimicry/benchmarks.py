"""Summaries of Snakemake ``benchmark:`` files: wall time, CPU time and peak memory per rule."""

from __future__ import annotations

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
