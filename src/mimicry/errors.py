"""Errors for bad input: each names the file, the participant and the problem."""

from __future__ import annotations

from collections.abc import Iterable
from os import PathLike


class InputError(ValueError):
    """One problem with the study's input.

    The message reads ``participant <id>: <file>: <problem>`` (parts that do not apply are left out), so a
    user sees at once which recording to fix.
    """

    def __init__(
        self, problem: str, *, file: str | PathLike[str] | None = None, participant: str | None = None
    ) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.participant = participant
        where = [part for part in (participant and f"participant {participant}", self.file) if part]
        super().__init__(": ".join([*where, problem]))


class DatasetError(ValueError):
    """All problems found while validating a dataset, one line each."""

    def __init__(self, problems: Iterable[InputError]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"the dataset has {len(self.problems)} problem(s):\n{lines}")
