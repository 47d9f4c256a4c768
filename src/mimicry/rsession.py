"""Fresh R processes in which lme4 gives the same numbers for the same input.

Debian 12's lme4 orders its sparse Cholesky factor by a value that depends on where the process's address-space
randomisation put lme4's code (``lme4_ordering.R`` says why): in about half the processes it keeps CHOLMOD's
default ordering (AMD, what a correctly built lme4 always does), in the others another one, and on a nearly
singular fit the optimizer then stops at a different optimum (the RT model's p-values moved by 0.3%). So every
lme4 fit runs in a fresh process that first checks the ordering on a probe design and, when it is not the
default, exits with ``RETRY_STATUS`` so that another process is started (each has an even chance). On a
correctly built lme4 the first process always passes.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: The probe: defines ``lme4_default_ordering()`` and ``LME4_RETRY_STATUS`` (``source()`` it from R scripts).
PROBE = Path(__file__).resolve().with_name("lme4_ordering.R")
#: Exit status of a process whose lme4 did not get the default ordering (EX_TEMPFAIL): start another.
RETRY_STATUS = 75
#: Processes started before giving up: with address-space randomisation each passes with probability 1/2.
ATTEMPTS = 16


class FreshRError(RuntimeError):
    """No fresh process got lme4's default ordering, or the worker process itself failed."""


def lme4_default_ordering() -> bool:
    """Whether lme4, in this process's embedded R, orders with CHOLMOD's default (see the module docstring)."""
    import rpy2.robjects as ro

    ro.r["source"](str(PROBE))
    return bool(ro.r("lme4_default_ordering()")[0])


def run_in_fresh_r(command: Sequence[str], attempts: int = ATTEMPTS, **run: Any) -> subprocess.CompletedProcess:
    """Run ``command`` (an R or Python process that exits with ``RETRY_STATUS`` when its lme4 did not get the
    default ordering) until it exits otherwise; ``run`` goes to ``subprocess.run`` (``check`` to the last run)."""
    check = run.pop("check", False)
    for _ in range(attempts):
        done = subprocess.run(list(command), **run)
        if done.returncode != RETRY_STATUS:
            if check:
                done.check_returncode()
            return done
    raise FreshRError(
        f"{attempts} fresh processes in a row had lme4 order its sparse Cholesky factor differently from "
        "CHOLMOD's default, so its results would depend on the process. This happens when lme4 was compiled "
        "against another CHOLMOD than the Matrix package runs (Debian 12's r-cran-lme4) and address-space "
        "randomisation is off (e.g. under `setarch -R` or a debugger). Fix: turn it back on "
        "(/proc/sys/kernel/randomize_va_space = 2), or install lme4 built against the installed Matrix "
        "(R: install.packages('lme4', type = 'source'))."
    )


def call_in_fresh_r[T](function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` (a module-level function) in a fresh Python process whose embedded R has
    lme4's default ordering; its return value or exception comes back by pickle."""
    package_parent = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_parent, os.environ.get("PYTHONPATH")]))}
    with tempfile.TemporaryDirectory(prefix="mimicry-r-") as scratch:
        request, result = Path(scratch) / "request.pickle", Path(scratch) / "result.pickle"
        request.write_bytes(pickle.dumps((function.__module__, function.__qualname__, args, kwargs)))
        done = run_in_fresh_r(
            [sys.executable, "-m", "mimicry.rsession", str(request), str(result)],
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode != 0 or not result.is_file():
            raise FreshRError(f"the R worker process failed (exit status {done.returncode}):\n{done.stderr[-4000:]}")
        outcome, value = pickle.loads(result.read_bytes())
    if outcome == "error":
        raise value
    return value


def _worker(request: Path, result: Path) -> int:
    from rpy2.robjects.packages import importr

    importr("lme4")
    if not lme4_default_ordering():
        return RETRY_STATUS
    module, name, args, kwargs = pickle.loads(request.read_bytes())
    try:
        outcome = ("value", getattr(importlib.import_module(module), name)(*args, **kwargs))
    except Exception as error:  # handed to the caller, who raises it
        try:
            pickle.dumps(error)
        except Exception:
            error = FreshRError(f"{type(error).__name__}: {error}")
        outcome = ("error", error)
    result.write_bytes(pickle.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(_worker(Path(sys.argv[1]), Path(sys.argv[2])))


# ---------------------------------------------------------------------------------------------------------------
# Inside an R process: its console, its data frames


@contextlib.contextmanager
def r_messages() -> Iterator[list[str]]:
    """Collect what R writes to its console (warnings, messages) instead of printing it."""
    from rpy2.rinterface_lib import callbacks

    collected: list[str] = []
    saved = callbacks.consolewrite_warnerror, callbacks.consolewrite_print
    callbacks.consolewrite_warnerror = collected.append
    callbacks.consolewrite_print = collected.append
    try:
        yield collected
    finally:
        callbacks.consolewrite_warnerror, callbacks.consolewrite_print = saved


#: R console lines that carry no information about the fit: warning headers, call echoes, and the note that
#: Debian's empty /usr/local site library has no packages.
_NOISE = re.compile(r"^(Warning messages?:|(\d+: )?In .*|\d+:|.*contains no packages|SS Type III.*|\(NOTE:.*)$")


def clean_messages(raw: Sequence[str]) -> list[str]:
    """The informative lines of what R printed, once each, in order."""
    lines = [line.strip() for line in "".join(raw).splitlines()]
    return list(dict.fromkeys(line for line in lines if line and not _NOISE.match(line)))


def to_pandas(r_frame: Any) -> pd.DataFrame:
    """An R data frame as a pandas one."""
    import rpy2.robjects as ro
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    with localconverter(ro.default_converter + pandas2ri.converter):
        return ro.conversion.get_conversion().rpy2py(r_frame)
