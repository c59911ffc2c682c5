"""Parse workers: a document that hangs or kills its worker costs that document only."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

from flows.parsepool import ParsePool

pytestmark = pytest.mark.slow


def _run(pool, fn, jobs):
    results = {}
    pool.run(fn, jobs, lambda i, r, e: results.__setitem__(i, (r, e)))
    return results


def test_results_errors_timeouts_and_dead_workers_are_told_apart():
    sys.path.insert(0, str(Path(__file__).parent))  # the workers import the jobs from here too
    import pp_jobs as j

    pool = ParsePool(workers=2, timeout=2.0)
    try:
        assert _run(pool, j.echo, [(1,), (2,), (3,)]) == {0: (1, None), 1: (2, None), 2: (3, None)}
        got = _run(pool, j.boom, [("x",)])
        assert got[0][0] is None and "ValueError: bad x" in got[0][1]
        t0 = time.monotonic()
        got = _run(pool, j.sleep_then, [("slow", 60), ("fast", 0), ("fast2", 0.1)])
        assert time.monotonic() - t0 < 20
        assert got[0][0] is None and "timeout after 2 s" in got[0][1]
        assert got[1] == ("fast", None) and got[2] == ("fast2", None)
        got = _run(pool, j.die, [("a",)])
        assert got[0][0] is None and "died" in got[0][1]
        assert _run(pool, j.echo, [(9,)]) == {0: (9, None)}  # the pool recovers
    finally:
        pool.close()


def _run_off_a_queue(pool, fn):
    """``pool.run`` of ``fn`` over a queue, in a thread (started): the queue, the results as they come, the thread."""
    import queue
    import threading

    jobs: queue.Queue = queue.Queue()
    results: dict = {}
    runner = threading.Thread(target=pool.run, args=(fn, jobs, lambda i, r, e: results.__setitem__(i, (r, e))))
    runner.start()
    return jobs, results, runner


def _wait_for(results: dict, n: int) -> None:
    deadline = time.monotonic() + 20
    while len(results) < n and time.monotonic() < deadline:
        time.sleep(0.01)


def test_jobs_that_arrive_while_others_run():
    """A queue of jobs (parse while fetching): each is run as it arrives, a timeout still applies,
    and the run ends at the queue's None."""
    sys.path.insert(0, str(Path(__file__).parent))
    import pp_jobs as j

    pool = ParsePool(workers=2, timeout=2.0)
    jobs, results, runner = _run_off_a_queue(pool, j.sleep_then)
    try:
        jobs.put(("first", 0))
        _wait_for(results, 1)  # done before the next one is even offered
        assert results == {0: ("first", None)}
        jobs.put(("slow", 60))
        jobs.put(("second", 0.1))
        jobs.put(None)
        runner.join(timeout=30)
        assert not runner.is_alive()
        assert results[1][0] is None and "timeout after 2 s" in results[1][1]
        assert results[2] == ("second", None)
    finally:
        jobs.put(None)
        pool.close()


def test_several_documents_per_task_keep_the_rules_of_each():
    """With a backlog a task carries several documents; each still has its own time limit (counted
    from its own start, not its task's), and a death or a timeout costs that document only."""
    sys.path.insert(0, str(Path(__file__).parent))
    import pp_jobs as j

    from flows import parsepool

    pool = ParsePool(workers=2, timeout=2.0)
    try:
        # 40 jobs, the first 16 of 0.3 s: tasks of up to CHUNK documents, each task longer than one limit would allow
        # if it were timed as a whole (8 x 0.3 s > 2 s)
        jobs = [(f"d{i}", 0.3 if i < 16 else 0.01) for i in range(40)]
        assert pool.timeout < parsepool.CHUNK * 0.3
        got = _run(pool, j.sleep_then, jobs)
        assert got == {i: (f"d{i}", None) for i in range(40)}
        jobs = [(f"d{i}", 60 if i == 5 else 0.01) for i in range(40)]  # inside the first task
        t0 = time.monotonic()
        got = _run(pool, j.sleep_then, jobs)
        assert time.monotonic() - t0 < 20
        assert got[5][0] is None and "timeout after 2 s" in got[5][1]
        assert {i: r for i, r in got.items() if i != 5} == {i: (f"d{i}", None) for i in range(40) if i != 5}
        got = _run(pool, j.die_on, [(f"d{i}", i == 11) for i in range(40)])
        assert got[11][0] is None and "died" in got[11][1]
        assert {i: r for i, r in got.items() if i != 11} == {i: (f"d{i}", None) for i in range(40) if i != 11}
        got = _run(pool, j.boom, [(f"d{i}",) for i in range(20)])
        assert all(r is None and f"ValueError: bad d{i}" == e for i, (r, e) in got.items()) and len(got) == 20
        # a result that cannot be handed back fails its task as a whole: its documents are run again one by
        # one, so that only the document whose result it was fails (and the run ends)
        t0 = time.monotonic()
        got = _run(pool, j.unpicklable_on, [(f"d{i}", i == 3) for i in range(400)])
        assert time.monotonic() - t0 < 60
        assert got[3][0] is None and "pickle" in got[3][1]
        assert {i: r for i, r in got.items() if i != 3} == {i: (f"d{i}", None) for i in range(400) if i != 3}
    finally:
        pool.close()


def test_jobs_off_a_queue_share_tasks_and_workers_leave_pandas_out():
    """Jobs that come one after another on a queue go in tasks of several (one round trip each, not one a job); a
    lone job still goes within MAX_WAIT. A worker builds Arrow arrays from lists without importing pandas."""
    sys.path.insert(0, str(Path(__file__).parent))
    import pp_jobs as j

    from flows import parsepool

    wait_s = parsepool.MAX_WAIT
    pool = ParsePool(workers=2, timeout=20.0)
    jobs, results, runner = _run_off_a_queue(pool, j.echo)
    try:
        jobs.put((0,))
        _wait_for(results, 1)  # alone on the queue: not held for long
        assert results == {0: (0, None)}
        tasks = pool._tokens
        parsepool.MAX_WAIT = 1.0  # (a loaded machine may pause the loop below longer than the 20 ms)
        for i in range(1, 41):  # one at a time, as fetched bodies come: the workers are idle for each
            jobs.put((i,))
            time.sleep(0.002)
        _wait_for(results, 41)
        assert pool._tokens - tasks < 20  # tasks of several jobs (shared by the free workers), not one each
        jobs.put(None)
        runner.join(timeout=30)
        assert not runner.is_alive()
        assert results == {i: (i, None) for i in range(41)}
        assert _run(pool, j.pandas_after_arrow, [("a",), ("b",)]) == {0: (False, None), 1: (False, None)}
    finally:
        jobs.put(None)
        pool.close()
        parsepool.MAX_WAIT = wait_s


def test_a_second_stage_runs_after_the_first_of_every_job_of_the_task_and_keeps_the_rules():
    """``then``: each task's jobs have their first stage, then their second; an error or a timeout in the
    second stage is that document's own."""
    sys.path.insert(0, str(Path(__file__).parent))
    import pp_jobs as j

    pool = ParsePool(workers=1, timeout=2.0)
    try:
        results: dict = {}
        pool.run(j.stamp, [(f"d{i}",) for i in range(8)], lambda i, r, e: results.__setitem__(i, (r, e)), then=j.second)
        assert [r[0][0] for r in map(results.get, range(8))] == [f"d{i}" for i in range(8)]
        firsts = [r[0][1] for r in results.values()]
        seconds = [r[0][2] for r in results.values()]
        assert max(firsts) < min(seconds)  # one task of eight: every first stage before any second
        results.clear()
        pool.run(j.stamp, [("a",), ("bad",), ("hang",), ("b",)], lambda i, r, e: results.__setitem__(i, (r, e)),
                 then=j.second)
        assert results[0][0][0] == "a" and results[3][0][0] == "b"
        assert results[1] == (None, "ValueError: bad in the second stage")
        assert results[2][0] is None and "timeout after 2 s" in results[2][1]
    finally:
        pool.close()
