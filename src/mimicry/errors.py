"""Errors for bad input: each names the file, the participant and the problem."""

from __future__ import annotations

import re
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


#: participants named in a grouped line before "and N more"
NAMED = 3


def _file_pattern(problem: InputError) -> str | None:
    """The problem's file with its participant's label as ``sub-<id>`` (and a session's as ``ses-<id>``), so that
    one problem of many recordings reads the same."""
    if problem.file is None or problem.participant is None:
        return problem.file
    file = problem.file.replace(f"sub-{problem.participant.removeprefix('sub-')}", "sub-<id>")
    return re.sub(r"ses-[0-9A-Za-z]+", "ses-<id>", file)


def grouped_lines(problems: Iterable[InputError]) -> list[str]:
    """One line per problem, except that a problem repeated across participants (the same words, the same file
    of each recording) is one line that counts and names them: ``36 participants (sub-001, sub-002, sub-003
    and 33 more): sub-<id>/emg/...: channel 'CS' is not in the recording ...``. First-seen order."""
    groups: dict[tuple[str, str | None], list[InputError]] = {}
    for problem in problems:
        groups.setdefault((problem.problem, _file_pattern(problem)), []).append(problem)
    lines = []
    for (words, file), members in groups.items():
        named = [member.participant for member in members if member.participant]
        who = list(dict.fromkeys(named))  # a participant once, however many of their sessions
        if len(who) == 1 or len(named) < len(members):
            lines += [str(member) for member in members]
            continue
        names = ", ".join(who[:NAMED]) + (f" and {len(who) - NAMED} more" if len(who) > NAMED else "")
        lines.append(": ".join(part for part in (f"{len(who)} participants ({names})", file, words) if part))
    return lines


class DatasetError(ValueError):
    """All problems found while validating a dataset: one line each, a problem that repeats across participants
    once (``problems`` keeps every one)."""

    def __init__(self, problems: Iterable[InputError], subject: str = "the dataset") -> None:
        self.problems = list(problems)
        lines = grouped_lines(self.problems)
        kinds = f", {len(lines)} distinct" if len(lines) < len(self.problems) else ""
        listing = "\n".join(f"  - {line}" for line in lines)
        super().__init__(f"{subject} has {len(self.problems)} problem(s){kinds}:\n{listing}")
