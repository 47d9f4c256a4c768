"""Plumbing shared by the rule scripts: logging to the rule's ``log:`` file, and the hash seed every job starts with."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

#: the string-hash seed every job's Python starts with (see ``fix_job_hash_seed``)
JOB_HASH_SEED = "0"


def fix_job_hash_seed() -> None:
    """Give every job this process starts (local or, through the environment, on SLURM) the same string-hash seed.

    Python salts string hashes per process unless PYTHONHASHSEED is set, and PyTensor's graph rewrites iterate over
    hashed sets: without a fixed seed the compiled Bayesian model's order of floating-point operations, and with it
    the draws of the same sampler seed, differ from one process to the next. Set, not required of the user: it is
    the workflow's choice, so Snakemake's ``envvars:`` (which asserts a variable the user must provide) does not fit.
    """
    os.environ.update(PYTHONHASHSEED=JOB_HASH_SEED)


@contextlib.contextmanager
def job_log(path: str | Path, name: str) -> Iterator[logging.Logger]:
    """Log to ``path`` (the rule's ``log:``), with warnings and any uncaught error and its traceback.

    The error is re-raised, so Snakemake marks the job failed and removes its outputs.
    """
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.captureWarnings(True)
    warnings.simplefilter("default")
    logger = logging.getLogger(name)
    try:
        yield logger
    except BaseException:
        logger.exception("job failed")
        raise
    finally:
        root.removeHandler(handler)
        handler.close()
        sys.stderr.flush()
