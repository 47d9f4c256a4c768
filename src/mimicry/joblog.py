"""Plumbing shared by the rule scripts: logging to the rule's ``log:`` file."""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path


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
