"""Provenance of a run: the configuration used and its hash, checksums of the input files, and the versions of
the software each environment actually ran with (next to the versions its `envs/*.yaml` pins)."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

SOFTWARE_COLUMNS = ["environment", "kind", "package", "pinned", "found"]
#: conda package names whose Python distribution has another name
CONDA_TO_PYTHON = {"matplotlib-base": "matplotlib", "mne-base": "mne"}
#: conda's r-<name> is lower case; R's package names are not
CONDA_TO_R = {"lmertest": "lmerTest"}


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 of the configuration as canonical JSON (keys sorted): equal configs, equal hashes."""
    canonical = json.dumps(config, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def file_sha256(path: str | Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def input_checksums(paths: Iterable[str | Path]) -> pd.DataFrame:
    """One row per input file (sorted by path): path, size in bytes, SHA-256."""
    rows = [
        {"path": str(path), "bytes": Path(path).stat().st_size, "sha256": file_sha256(path)}
        for path in sorted({str(p) for p in paths})
    ]
    return pd.DataFrame(rows, columns=["path", "bytes", "sha256"]).astype({"bytes": "int64"})


def pinned_packages(env_file: str | Path) -> list[dict[str, str]]:
    """The packages a conda environment file pins: kind (python | R | conda), package, pinned version."""
    spec = yaml.safe_load(Path(env_file).read_text())
    packages = []
    for dependency in spec.get("dependencies", []):
        if isinstance(dependency, dict):  # the pip: section
            for requirement in dependency.get("pip", []):
                name, _, version = requirement.partition("==")
                packages.append({"kind": "python", "package": name, "pinned": version})
            continue
        name, _, version = str(dependency).partition("=")
        if name == "pip":
            continue
        if name == "python":
            packages.append({"kind": "python", "package": "python", "pinned": version})
        elif name == "r-base":
            packages.append({"kind": "R", "package": "R", "pinned": version})
        elif name.startswith("r-"):
            # conda writes R's "1.1-31" as "1.1_31"
            name = name.removeprefix("r-")
            packages.append({"kind": "R", "package": CONDA_TO_R.get(name, name), "pinned": version.replace("_", "-")})
        else:
            packages.append({"kind": "python", "package": CONDA_TO_PYTHON.get(name, name), "pinned": version})
    return packages


def python_version(package: str) -> str:
    if package == "python":
        return platform.python_version()
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def r_versions(packages: list[str], rscript: str = "Rscript") -> dict[str, str]:
    """Versions of R itself ("R") and of R packages, asked of ``Rscript`` in one call."""
    names = [p for p in packages if p != "R"]
    code = (
        "cat('R', paste(R.version$major, R.version$minor, sep = '.'), sep = '\\t'); cat('\\n');"
        f"for (p in c({', '.join(repr(n) for n in names)})) "
        "cat(p, tryCatch(packageDescription(p)$Version, warning = function(w) 'not installed'), sep = '\\t', "
        "fill = TRUE)"
    )
    try:
        output = subprocess.run([rscript, "-e", code], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return {p: "not installed" for p in packages}
    found = dict(line.strip().split("\t", 1) for line in output.splitlines() if "\t" in line)
    return {p: found.get(p, "not installed") for p in packages}


def software_versions(environment: str, env_file: str | Path) -> pd.DataFrame:
    """What ``env_file`` pins beside what this process finds installed (SOFTWARE_COLUMNS), plus Snakemake and
    the `mimicry` package itself (the project's code, found by path in every environment)."""
    import mimicry

    packages = pinned_packages(env_file)
    packages.append({"kind": "python", "package": "snakemake", "pinned": ""})
    r_found = (
        r_versions([p["package"] for p in packages if p["kind"] == "R"])
        if any(p["kind"] == "R" for p in packages)
        else {}
    )
    rows = [
        {
            "environment": environment,
            **p,
            "found": r_found[p["package"]] if p["kind"] == "R" else python_version(p["package"]),
        }
        for p in packages
    ]
    rows.append(
        {
            "environment": environment,
            "kind": "python",
            "package": "mimicry",
            "pinned": mimicry.__version__,
            "found": mimicry.__version__,
        }
    )
    return pd.DataFrame(rows, columns=SOFTWARE_COLUMNS)
