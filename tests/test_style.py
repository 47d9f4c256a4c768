"""The house rules, checked by tools: ruff (lint and format), snakefmt, mypy over the package; the Layout of
docs/development.md and tools/README.md name what exists; nothing refers to a path outside the repository."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT

BIN = Path(sys.executable).parent
STYLED = ["src", "workflow/scripts", "workflow/notebooks", "tests", "tools"]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize(
    "command",
    [
        ("ruff", "check", *STYLED),
        ("ruff", "format", "--check", *STYLED),
        ("snakefmt", "--check", "Snakefile", "workflow/rules"),
        ("mypy",),
    ],
    ids=["ruff-check", "ruff-format", "snakefmt", "mypy"],
)
def test_style_tool_passes(command: tuple[str, ...]) -> None:
    done = _run(str(BIN / command[0]), *command[1:])
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout}\n{done.stderr}"


def _layout() -> list[str]:
    """The paths the Layout block of docs/development.md names (first column)."""
    readme = (ROOT / "docs/development.md").read_text()
    block = readme[readme.index("## Layout") :].split("```")[1]
    return [line.split()[0] for line in block.strip().splitlines()]


def test_the_layout_names_every_module_and_rule_file_and_nothing_else() -> None:
    named = set(_layout())
    assert all((ROOT / path).exists() or path == "results/" for path in named), sorted(
        p for p in named if not (ROOT / p).exists()
    )
    modules = {
        str(p.relative_to(ROOT))
        for p in (ROOT / "src/mimicry").rglob("*")
        if p.suffix in {".py", ".R"} and p.name != "__init__.py"
    }
    rules = {f"workflow/rules/{p.name}" for p in (ROOT / "workflow/rules").glob("*.smk")}
    assert modules <= named, sorted(modules - named)
    assert rules <= named, sorted(rules - named)


def test_the_tools_index_lists_every_tool() -> None:
    index = (ROOT / "tools/README.md").read_text()
    tools = {str(p.relative_to(ROOT / "tools")) for p in (ROOT / "tools").rglob("*") if p.is_file()} - {"README.md"}
    assert all(f"`{tool}`" in index for tool in tools), sorted(t for t in tools if f"`{t}`" not in index)
    listed = set(re.findall(r"`([\w-]+/[\w.-]+)`", index))
    assert listed <= tools, sorted(listed - tools)


def test_nothing_refers_to_a_path_outside_the_repository() -> None:
    tracked = [name for name in _run("git", "ls-files").stdout.split() if name != "tests/test_style.py"]
    outside = re.compile(r"\.\./shared|\.\./\.\./\.\.|/work/")
    found = [
        f"{name}:{number}"
        for name in tracked
        if (ROOT / name).is_file() and (ROOT / name).suffix not in {".png", ".pdf", ".edf"}
        for number, line in enumerate((ROOT / name).read_text(errors="ignore").splitlines(), 1)
        if outside.search(line)
    ]
    assert not found, found
