"""The package code a rule's script or notebook runs, found from its imports, for Snakemake's ``input:``.

Editing a module then reruns exactly the jobs whose scripts import it, directly or through other modules, with
no list to keep by hand. Every ``mimicry`` import counts, also one inside a function (it may run), and so does a
file of the package (such as an R script) whose name a module spells out.
"""

from __future__ import annotations

import ast
import functools
import json
from pathlib import Path

PACKAGE = "mimicry"


def _source(path: Path) -> str:
    """Python source of a script, or of a notebook's code cells (IPython magics and shell lines left out)."""
    if path.suffix != ".ipynb":
        return path.read_text(encoding="utf-8")
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = [line for cell in cells if cell["cell_type"] == "code" for line in "".join(cell["source"]).splitlines()]
    return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))


def _module_file(module: str, package_dir: Path) -> Path | None:
    """The file of a dotted module name of the package (a package's ``__init__.py``), or None if it is none."""
    parts = module.split(".")[1:]
    if not parts:
        return package_dir / "__init__.py"
    relative = package_dir.joinpath(*parts)
    return next((path for path in (relative.with_suffix(".py"), relative / "__init__.py") if path.is_file()), None)


def imported_modules(source: str, package_dir: Path) -> set[str]:
    """Dotted names of the package's modules that ``source`` imports, with every package on the way (importing
    ``mimicry.bayes.compare`` runs ``mimicry/__init__.py`` and ``mimicry/bayes/__init__.py`` too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:  # relative: from .x import y
            base = ".".join(filter(None, [PACKAGE, node.module]))
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] != PACKAGE:
                continue
            for depth in range(1, len(parts) + 1):
                module = ".".join(parts[:depth])
                if _module_file(module, package_dir) is not None:
                    found.add(module)
    return found


def _named_files(source: str, package_dir: Path) -> set[Path]:
    """Non-Python files of the package whose names appear as string constants in ``source``."""
    constants = {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    return {
        path for path in package_dir.iterdir() if path.is_file() and path.suffix != ".py" and path.name in constants
    }


@functools.cache
def _links(path: Path, package_dir: Path, stamp: tuple[int, int]) -> tuple[frozenset[str], frozenset[Path]]:
    """The package modules a module imports and the package files it names; parsed once per version of the file
    (``stamp``: its mtime and size), however many scripts import it (a DAG build asks for every rule's code)."""
    source = path.read_text(encoding="utf-8")
    return frozenset(imported_modules(source, package_dir)), frozenset(_named_files(source, package_dir))


def code_files(script: str | Path, package_dir: str | Path) -> list[Path]:
    """Every file of the package (``package_dir``) that ``script`` (a ``.py`` file or notebook) runs, sorted."""
    package_dir = Path(package_dir)
    pending = sorted(imported_modules(_source(Path(script)), package_dir))
    seen: set[str] = set()
    files: set[Path] = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = _module_file(module, package_dir)
        assert path is not None  # imported_modules keeps only names with a file
        status = path.stat()
        imports, named = _links(path, package_dir, (status.st_mtime_ns, status.st_size))
        files |= {path, *named}
        pending += sorted(imports - seen)
    return sorted(files)
