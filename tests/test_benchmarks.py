"""The benchmark helpers: stage wall times read from a Snakemake log, and the scheduler workaround."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

from benchlib import job_times, stage_of, stage_walls
from mimicry.plumbing.scheduling import bayes_threads, coalesce_wakeups

# The shape of Snakemake 9's log: a stamp, then the job's rule and id; a stamp, then "Finished jobid".
LOG = """Building DAG of jobs...
[Mon Nov 30 04:25:40 2026]
localrule simulate_participants:
    output: results/simulated/bids/participants.tsv
    jobid: 3
[Mon Nov 30 04:25:42 2026]
Finished jobid: 3 (Rule: simulate_participants)
[Mon Nov 30 04:25:42 2026]
rule simulate_recording:
    wildcards: participant=001
    jobid: 7
[Mon Nov 30 04:25:43 2026]
rule preprocess_emg:
    jobid: 8
[Mon Nov 30 04:25:45 2026]
Finished jobid: 7 (Rule: simulate_recording)
[Mon Nov 30 04:25:50 2026]
Finished jobid: 8 (Rule: preprocess_emg)
[Mon Nov 30 04:26:00 2026]
localrule study_report_html:
    jobid: 0
[Mon Nov 30 04:26:03 2026]
Finished jobid: 0 (Rule: study_report_html)
"""


def test_job_times_and_stage_walls_read_a_snakemake_log() -> None:
    jobs = job_times(LOG)
    assert jobs.set_index("jobid")[["start_s", "end_s"]].to_dict("index") == {
        3: {"start_s": 0.0, "end_s": 2.0},
        7: {"start_s": 2.0, "end_s": 5.0},
        8: {"start_s": 3.0, "end_s": 10.0},
        0: {"start_s": 20.0, "end_s": 23.0},
    }
    stages = stage_walls(jobs)
    assert list(stages.index) == ["simulation", "preprocessing", "report"]
    assert stages.loc["simulation", ["jobs", "wall_s"]].tolist() == [2, 5.0]
    assert stages.loc["preprocessing", ["first_start_s", "last_end_s"]].tolist() == [3.0, 10.0]
    assert stage_of("bayes_fit") == "bayes" and stage_of("anything_else") == "report"


def test_scheduler_wakeups_are_coalesced_to_one_pending_per_delay() -> None:
    """The pinned Snakemake still has the method the workaround replaces; once patched, fifty requests for a
    wake-up within the delay wake the scheduler once, and a request after that wakes it again."""
    from snakemake.scheduling.job_scheduler import JobScheduler

    coalesce_wakeups()
    assert getattr(JobScheduler._schedule_reevalutation, "_mimicry_one_wakeup", False)
    assert not coalesce_wakeups()  # patching twice changes nothing
    scheduler = SimpleNamespace(_open_jobs=threading.Semaphore(0))

    def wakeups_after(requests: int) -> int:
        for _ in range(requests):
            JobScheduler._schedule_reevalutation(scheduler, 0.05)
        time.sleep(0.5)
        woken = 0
        while scheduler._open_jobs.acquire(blocking=False):
            woken += 1
        return woken

    assert wakeups_after(50) == 1
    assert wakeups_after(1) == 1


def test_table_checksums_leave_out_timing_and_see_any_other_change(tmp_path) -> None:
    """Two runs that differ only in how long they took have the same digests; a changed number, a table gone or
    a table added is named."""
    import pandas as pd

    from benchlib import changed_tables, table_checksums

    (tmp_path / "statistics/lmm").mkdir(parents=True)
    info = tmp_path / "statistics/lmm/rt_info.tsv"
    info.write_text("model\tconverged\tseconds\nrt\tTrue\t2.98\n")
    pd.DataFrame({"log_emg": [0.1, 0.25]}).to_parquet(tmp_path / "preprocessing.parquet")  # not a group table
    first = table_checksums(tmp_path)
    assert list(first.index) == ["statistics/lmm/rt_info.tsv"]
    info.write_text("model\tconverged\tseconds\nrt\tTrue\t3.51\n")
    assert changed_tables(first, table_checksums(tmp_path)) == []
    info.write_text("model\tconverged\tseconds\nrt\tFalse\t3.51\n")
    assert changed_tables(first, table_checksums(tmp_path)) == ["statistics/lmm/rt_info.tsv"]
    (tmp_path / "statistics/table1.md").write_text("| a |\n")
    assert "statistics/table1.md" in changed_tables(first, table_checksums(tmp_path))


def test_a_bayesian_model_gets_its_chains_threads_on_at_most_half_the_cores() -> None:
    """Two models run at once (each leaves cores idle while it starts and compiles); never less than one thread,
    never more than its chains; without a core count (none given to Snakemake) one per chain."""
    assert [bayes_threads(4, cores) for cores in (1, 2, 3, 4, 6, 8, 64)] == [1, 1, 1, 2, 3, 4, 4]
    assert bayes_threads(2, 16) == 2 and bayes_threads(4, None) == 4
