"""How the workflow shares the machine: one pending scheduler wake-up instead of hundreds (a workaround for
Snakemake's job-rate limiter), how many threads one Bayesian model gets, and which group-level job starts first.

Snakemake 9 (measured on 9.27) limits job submissions (``--max-jobs-per-timespan``, default 100/1s, always on)
and, to honour the limit, ends *every* scheduling round by starting a timer that wakes the scheduler one
timespan later. The woken round starts another timer, so each round that a finished job triggers leaves a chain
of wake-ups behind that lasts to the end of the run: after a few hundred finished jobs the scheduler re-plans
hundreds of times a second, checking the size of every ready job's inputs each time (upstream: snakemake#3744).
On this workflow's 419 jobs that was 508 s of CPU in a 1008-s run on 2 cores, half a core taken from the jobs.

One pending wake-up per delay does what the timers are for (look again once the timespan has passed); the rate
limit itself is unchanged. The timers are daemon threads, so the run also ends without waiting for the last.
"""

from __future__ import annotations

import threading
from typing import Any

_PATCHED = "_mimicry_one_wakeup"


def coalesce_wakeups() -> bool:
    """Patch Snakemake's scheduler so that at most one wake-up per delay is pending. Returns whether it patched
    (False where this Snakemake has no such method, or it is patched already)."""
    try:
        from snakemake.scheduling.job_scheduler import JobScheduler
    except ImportError:
        return False
    original = getattr(JobScheduler, "_schedule_reevalutation", None)  # sic: upstream's spelling
    if original is None or getattr(original, _PATCHED, False):
        return False

    def schedule_once(self: Any, delay: float) -> None:
        pending: set[float] = self.__dict__.setdefault("_mimicry_pending_wakeups", set())
        lock: threading.Lock = self.__dict__.setdefault("_mimicry_wakeup_lock", threading.Lock())
        with lock:
            if delay in pending:
                return
            pending.add(delay)

        def wake() -> None:
            with lock:
                pending.discard(delay)
            self._open_jobs.release()

        timer = threading.Timer(delay, wake)
        timer.daemon = True
        timer.start()

    setattr(schedule_once, _PATCHED, True)
    JobScheduler._schedule_reevalutation = schedule_once
    return True


def bayes_threads(chains: int, cores: int | None) -> int:
    """Threads for one Bayesian model: one per chain, but at most half of ``cores`` (Snakemake's ``--cores``), so
    that two models run at once.

    A model's job is partly serial: start-up and compiling the model (about 15 s on one core), then the chains in
    parallel, then the summaries and criteria on one or two threads. The nested models are ready together; two at
    a time fill the cores that one leaves idle. Measured on 2 cores, the paper's four models: 208 s one after
    another with 2 threads each, 159 s two at a time with 1 thread each (the same draws: each chain has its own
    seed). With as many cores as two models have chains, each gets all its chains' threads.
    """
    if cores is None:
        return chains
    return max(1, min(chains, cores // 2))


#: Priorities of the group-level models (higher starts first once the window table is made): longest first, so that
#: the cores stay busy to the end. A whole-study EMG model (its fit and, where lme4 warns, its convergence check:
#: 100-160 s on the default study), then each Bayesian model (about 95 s on one core), then the short models (one
#: cell's follow-up model, the RT model: 15-35 s), which fill the gaps. The Bayesian models after the long LMMs and
#: before the short ones: with every LMM first, the default study's last Bayesian model ran alone for 76 s.
PRIORITY_LONG_LMM, PRIORITY_BAYES, PRIORITY_SHORT_LMM = 30, 20, 10


def lmm_priority(whole_study: bool) -> int:
    """A linear mixed model's job priority: a whole-study model is long, a model of one cell or of the response
    times short (:data:`PRIORITY_LONG_LMM`)."""
    return PRIORITY_LONG_LMM if whole_study else PRIORITY_SHORT_LMM
