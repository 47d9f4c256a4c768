"""The documentation a newcomer reads: a README that is a landing page, every relative link in it and in docs/
resolving (to a file, and to a heading where it names one), and config/README.md's tables rendering as tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from helpers import ROOT

DOCUMENTS = sorted(
    [ROOT / "README.md", ROOT / "config/README.md", ROOT / "tests/configs/README.md", *(ROOT / "docs").glob("*.md")]
)
PARSER = MarkdownIt("commonmark").enable("table")


def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(document: Path) -> set[str]:
    tokens = PARSER.parse(document.read_text(encoding="utf-8"))
    headings = {_slug(tokens[k + 1].content) for k, token in enumerate(tokens) if token.type == "heading_open"}
    explicit = set(re.findall(r'<a id="([^"]+)"', document.read_text(encoding="utf-8")))
    return headings | explicit


def _links(document: Path) -> list[str]:
    """Every link and image target of a Markdown document."""
    found = []
    for token in PARSER.parse(document.read_text(encoding="utf-8")):
        for child in token.children or []:
            if child.type == "link_open":
                found.append(str(child.attrs["href"]))
            elif child.type == "image":
                found.append(str(child.attrs["src"]))
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken = []
    for link in _links(document):
        if re.match(r"[a-z]+:", link):  # https:, mailto:: outside the repository
            continue
        path, _, fragment = link.partition("#")
        target = (document.parent / path).resolve() if path else document
        if not target.exists():
            broken.append(f"{link}: no {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}")
        elif fragment and target.suffix == ".md" and fragment not in _anchors(target):
            broken.append(f"{link}: no heading #{fragment} in {target.name}")
    assert not broken, broken


def test_the_readme_is_a_landing_page() -> None:
    """Title, a sentence, then the two commands in their own one-line fenced blocks; under 150 lines; every
    document in docs/ reachable from it or from docs/README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) < 150, len(lines)
    assert lines[0].startswith("# ")
    blocks = re.findall(r"^```\n(.*?)\n```$", text, flags=re.M | re.S)
    assert blocks[:2] == ["make run", "make test"]
    assert text.index("make run") < text.index("\n## ")  # before any section
    linked = {
        Path(link.partition("#")[0]).name
        for doc in (ROOT / "README.md", ROOT / "docs/README.md")
        for link in _links(doc)
    }
    assert {p.name for p in (ROOT / "docs").glob("*.md")} - {"README.md"} <= linked


def test_the_config_readme_renders_every_key_row_as_a_table_row() -> None:
    """Each line that documents a key is a row of a rendered table (a blank line inside a table would turn the rows
    after it into plain text)."""
    text = (ROOT / "config/README.md").read_text(encoding="utf-8")
    key_lines = [line for line in text.splitlines() if line.startswith("| `")]
    html = PARSER.render(text)
    rendered_rows = re.findall(r"<tr>\s*<td><code>([^<]+)</code>", html)
    assert len(key_lines) > 100
    assert rendered_rows == [re.match(r"\| `([^`]+)`", line).group(1) for line in key_lines]
