"""Tables as the study report prints them: numbers at the precision a journal prints them (APA style for tests),
every missing value said in words, long tables folded with their first rows shown, and a table of contents."""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from mimicry.apa import format_f, format_p_value

#: What a missing value means when the table does not say (a column of a row it does not apply to).
NOT_APPLICABLE = "n/a"
#: Rows a long table shows before the rest is folded away.
SHOWN_ROWS = 10


def _decimals(column: str) -> int | None:
    """Decimals for a numeric column, by what it holds (None: as an integer)."""
    name = column.lower()
    if re.search(r"(^|_)(ess|n|trials|rows|observations|participants|replicates|detections|divergences)($|_)", name):
        return None
    if re.search(r"(^|_)(f|t|z|statistic|chi2)($|_)", name):
        return 2
    if re.search(r"percent|pct|(^|_)share($|_)", name):
        return 1
    return 3


def _is_p(column: str) -> bool:
    return re.fullmatch(r"p|p_.*|.*_p|p_value|pvalue", column.lower()) is not None


def _is_df(column: str) -> bool:
    return re.search(r"(^|_)df($|\d|_)", column.lower()) is not None


def format_value(column: str, value: Any, missing: str) -> str:
    """One cell as the report prints it."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT:
        return missing
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return value if value.strip() else missing
    if isinstance(value, int) and not _is_p(column):
        return f"{value:d}"
    number = float(value)
    if _is_p(column):
        return format_p_value(number)
    if _is_df(column):
        return f"{number:.1f}".removesuffix(".0")
    decimals = _decimals(column)
    if decimals is None and number.is_integer():
        return f"{number:.0f}"
    return f"{number:.{3 if decimals is None else decimals}f}"


def presentable(table: pd.DataFrame, missing: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``table`` as text, cell by cell (:func:`format_value`); a missing value says what is missing:
    ``missing[column]`` where given, else ``n/a`` (the column does not apply to that row)."""
    missing = missing or {}
    out = pd.DataFrame(index=table.index)
    for column in table.columns:
        said = missing.get(str(column), NOT_APPLICABLE)
        values = table[column].astype(object)
        out[column] = [format_value(str(column), value, said) for value in values]
    return out


def with_f_tests(anova: pd.DataFrame) -> pd.DataFrame:
    """An ANOVA table (term, num_df, den_df, F, p) with each test written as a paper prints it:
    ``F(1, 127.1) = 97.62, p < .001``."""
    return anova.assign(test=[format_f(row) for _, row in anova.iterrows()])


def table_html(table: pd.DataFrame) -> str:
    """An HTML table of text cells, no row numbers."""
    header = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
    rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
        for row in table.itertuples(index=False)
    )
    return f'<table class="report-table"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>'


def folded_html(table: pd.DataFrame, source: str, what: str, shown: int = SHOWN_ROWS) -> str:
    """A long table (already :func:`presentable`) as its first ``shown`` rows, the whole of it folded behind a
    disclosure, and the file it comes from; a short one whole."""
    if len(table) <= shown:
        return table_html(table) + f"<p><small>Source: <code>{html.escape(source)}</code></small></p>"
    return (
        table_html(table.head(shown))
        + f"<details><summary>{html.escape(what)}: all {len(table)} rows (the first {shown} shown above)</summary>"
        + table_html(table)
        + "</details>"
        + f"<p><small>Source: <code>{html.escape(source)}</code></small></p>"
    )


def anchor(title: str) -> str:
    """The anchor a section title gets in the report's table of contents."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def contents(titles: Sequence[str]) -> str:
    """The report's table of contents: one linked line per section."""
    return "**Contents**\n\n" + "\n".join(f"{k}. [{t}](#{anchor(t)})" for k, t in enumerate(titles, start=1))


def heading(title: str) -> str:
    """A section heading the table of contents links to."""
    return f'<a id="{anchor(title)}"></a>\n\n## {title}'
