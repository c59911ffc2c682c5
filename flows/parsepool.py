"""Parse documents in worker processes, each with a time and memory limit.

A hostile or broken document (a PDF whose page tree loops, a compression bomb) must cost
one report, not the run: each document gets ``timeout`` seconds in a worker; a worker that
overruns is killed and the document fails with ``timeout after N s``; a worker that dies
(out of memory) fails its document once it has been retried alone. Workers also use every
core, which the in-process parser could not. The pool lives for the process, so its
start-up (a fork server that has imported the parser) is paid once.

With a backlog, a pool task carries several documents (``CHUNK``): one task's round trip
through the executor cost the flow process ~100-250 µs, as much as a tenth of a parse. The
rules stay per document: the worker notes in shared memory which document of its task it
is on and since when, so the pool times each document, not the task, and knows which one
overran; the others of a killed task are run again.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import queue
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

MEMORY_LIMIT = 3 * 1024**3  # bytes of address space per worker
CHUNK = 8  # documents per pool task at most (fewer when the backlog is short: every worker gets some)
# Jobs that arrive on a queue wait for others to fill a task, up to CHUNK of them or this long (s): one
# document a task cost the flow process ~130 µs and the worker ~27 µs a document, against ~16 and ~4 in full ones.
MAX_WAIT = 0.02
# What the fork server imports once, before it forks any worker (parse pool or fetch processes); the PDF
# reader and the digit search too, which each parse worker imported on its first PDF otherwise (~0.15 CPU-s).
PRELOAD = ["transforms.parse", "transforms.narrative", "warehouse.rows", "flows.plan", "sources.fetch",
           "transforms.pdf", "transforms.digits"]
MEMORY_ERROR = "MemoryError: the document needs more memory than a worker may use"
DIED = "the parser's worker process died (out of memory?)"


def forkserver_context():
    """The process's fork-server context, its preload set before the server starts. The server is
    one per process and started by the first pool that needs it (a large fetch's processes start it
    before the parse pool does): a preload set after that would not apply, and every worker would
    import the parser itself."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    return ctx


_PROGRESS = None  # in a worker: the pool's shared (task token, document, start) slots


def _init_worker(memory_limit: int, progress=None) -> None:
    global _PROGRESS
    _PROGRESS = progress
    with contextlib.suppress(ValueError, OSError, ImportError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))
    _arrow_without_pandas()


def _arrow_without_pandas() -> None:
    """Keep pandas out of a parse worker. pyarrow imports it (~0.2 CPU-s, ~50 MB) the first time
    ``pa.array`` is given a list, only to ask whether the list is a pandas object, which a worker's
    staging rows (warehouse/rows.py) never are. Its lazy importer is made to look while pandas cannot
    be imported; it then takes pandas for absent, until something asks it for pandas itself (it
    imports it then: ``to_pandas`` still works)."""
    import sys

    if "pandas" in sys.modules:  # already there (a fork of a process that has it): nothing to save
        return
    try:
        import pyarrow as pa
    except ImportError:
        return
    sys.meta_path.insert(0, _NoPandas)
    try:
        pa.array([0], pa.int64())
    finally:
        sys.meta_path.remove(_NoPandas)


class _NoPandas:
    """A module finder under which ``import pandas`` fails (``_arrow_without_pandas``)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas":
            raise ImportError("pandas is not imported in a parse worker")
        return None


def _run_task(fn: Callable[..., Any], jobs: list[tuple], slot: int, token: int,
              then: Callable[[Any], Any] | None = None) -> list[tuple[bool, Any]]:
    """In a worker: ``fn(*job)`` of each job in turn, (True, result) or (False, error line) each;
    before each one, (token, its index, start time) in the pool's slot ``slot``. ``then``: a second
    stage, ``then(*result)`` of each job's result once every job of the task has had ``fn`` (timed
    as its job again): one kind of work after another, each with its code and data warm in the
    processor's caches, rather than the two alternating every job."""
    progress = _PROGRESS
    out: list[tuple[bool, Any]] = []
    for k, job in enumerate(jobs):
        _mark(progress, slot, token, k)
        out.append(_call(fn, job))
    if then is not None:
        for k, (ok, value) in enumerate(out):
            if ok:
                _mark(progress, slot, token, k)
                out[k] = _call(then, value)
    return out


def _mark(progress, slot: int, token: int, k: int) -> None:
    if progress is not None:
        progress[3 * slot + 1] = time.monotonic()
        progress[3 * slot + 2] = k
        progress[3 * slot] = token


def _call(fn: Callable[..., Any], args: tuple) -> tuple[bool, Any]:
    try:
        return True, fn(*args)
    except MemoryError:
        return False, MEMORY_ERROR
    except Exception as e:  # noqa: BLE001 - one document's failure, reported as such
        return False, f"{type(e).__name__}: {e}"


@dataclass
class _Task:
    indices: list[int]
    slot: int
    token: int
    submitted: float


class ParsePool:
    def __init__(self, workers: int, timeout: float, memory_limit: int = MEMORY_LIMIT) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._ex: ProcessPoolExecutor | None = None
        self._progress = None
        self._tokens = 0

    def _executor(self) -> ProcessPoolExecutor:
        if self._ex is None:
            ctx = forkserver_context()
            if self._progress is None:
                self._progress = ctx.RawArray("d", 3 * self.workers)
            self._ex = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                           initargs=(self.memory_limit, self._progress))
        return self._ex

    def _kill(self) -> None:
        ex, self._ex = self._ex, None
        if ex is None:
            return
        for p in list(getattr(ex, "_processes", {}).values()):  # no public way to stop a running task
            with contextlib.suppress(Exception):
                p.kill()
        with contextlib.suppress(Exception):
            ex.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._ex is not None:
            self._ex.shutdown(wait=True, cancel_futures=True)
            self._ex = None

    def _current(self, task: _Task) -> tuple[int, float]:
        """(position in the task, start) of the document the task's worker is on; the first one,
        from the task's submission, until the worker says otherwise."""
        p = self._progress
        base = 3 * task.slot
        if p is not None and p[base] == task.token:
            k, start = int(p[base + 2]), p[base + 1]
            if 0 <= k < len(task.indices):
                return k, max(start, task.submitted)
        return 0, task.submitted

    def run(self, fn: Callable[..., Any], jobs: list[tuple] | queue.Queue,
            done: Callable[[int, Any, str | None], None], then: Callable[[Any], Any] | None = None) -> None:
        """Call ``fn(*job)`` for each job in the workers; ``done(index, result, error)`` as each ends.

        ``jobs``: a list, or a queue that jobs arrive on while they run (the index is the order of
        arrival), ended by a ``None``. ``then``: the result is ``then(*fn(*job))``, the second stage run
        in the worker after the first of every job of its task (``_run_task``).
        """
        incoming = jobs if isinstance(jobs, queue.Queue) else None
        jobs = [] if incoming is not None else list(jobs)
        todo = list(range(len(jobs)))
        todo.reverse()  # a stack: the next job is the last item (popped in O(1), pushed back in front)
        alone: set[int] = set()  # in flight when a worker died: retried one at a time to find the culprit
        single: set[int] = set()  # of a task that failed as a whole: each in a task of its own, to tell whose it was
        running: dict[Future, _Task] = {}
        arrived: list[float] = []  # of a queue's jobs: when each came

        def held() -> float:
            """How much longer the next job waits for others to fill its task (0: it goes now): a job
            off an open queue, fewer than CHUNK waiting, none for MAX_WAIT yet (a job run again goes now)."""
            if incoming is None or not todo or len(todo) >= CHUNK or todo[-1] in alone or todo[-1] in single:
                return 0.0
            return max(0.0, arrived[todo[-1]] + MAX_WAIT - time.monotonic())

        while incoming is not None or todo or running:
            if incoming is not None:  # take what has arrived; wait for more only when idle or filling a task
                block: float | None = None if not (todo or running) else 0.0 if running else held()
                try:
                    while True:
                        job = incoming.get(block=block != 0, timeout=block) if block != 0 else incoming.get_nowait()
                        block = 0.0
                        if job is None:
                            incoming = None
                            break
                        todo.insert(0, len(jobs))
                        jobs.append(job)
                        arrived.append(time.monotonic())
                except queue.Empty:
                    pass
                if not (todo or running):
                    continue
            while todo and len(running) < self.workers:
                solo_running = any(t.indices[0] in alone for t in running.values())
                if solo_running or (todo[-1] in alone and running) or held():
                    break
                if todo[-1] in alone or todo[-1] in single:
                    indices = [todo.pop()]
                else:
                    if incoming is not None:  # what has come, shared by the free workers (more is on its way)
                        size = min(CHUNK, -(-len(todo) // (self.workers - len(running))))
                    else:
                        size = max(1, min(CHUNK, len(todo) // self.workers))
                    indices = []
                    while todo and len(indices) < size and todo[-1] not in alone and todo[-1] not in single:
                        indices.append(todo.pop())
                slot = min(set(range(self.workers)) - {t.slot for t in running.values()})
                self._tokens += 1
                task = _Task(indices, slot, self._tokens, time.monotonic())
                future = self._executor().submit(_run_task, fn, [jobs[i] for i in indices], slot, task.token, then)
                running[future] = task
            if not running:  # jobs filling a task, no worker busy: wait on the queue (above)
                continue
            now = time.monotonic()
            oldest = min(self._current(t)[1] for t in running.values())
            wait_s = max(0.05, oldest + self.timeout - now)
            if incoming is not None:
                wait_s = min(wait_s, 0.05)  # look at the queue again soon
                if len(running) < self.workers and (hold := held()):
                    wait_s = min(wait_s, hold)  # a free worker: send the waiting jobs when their time is up
            finished, _ = wait(running, timeout=wait_s, return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                task = running.pop(fut)
                try:
                    results = fut.result()
                except BrokenProcessPool:
                    if task.indices[0] in alone:
                        done(task.indices[0], None, DIED)
                    else:
                        alone.update(task.indices)
                        todo.extend(reversed(task.indices))
                    broken = True
                    continue
                except Exception as e:  # noqa: BLE001 - the task as a whole failed (e.g. its result would not pickle)
                    if len(task.indices) > 1:  # each on its own, to tell whose it was
                        single.update(task.indices)
                        todo.extend(reversed(task.indices))
                        continue
                    results = [(False, MEMORY_ERROR if isinstance(e, MemoryError) else f"{type(e).__name__}: {e}")]
                for i, (ok, value) in zip(task.indices, results, strict=True):
                    done(i, value, None) if ok else done(i, None, value)
            now = time.monotonic()
            late = []
            for f, t in running.items():
                k, start = self._current(t)
                if now - start > self.timeout:
                    late.append((f, k))
            if not late and not broken:
                continue
            for f, k in late:
                task = running.pop(f)
                done(task.indices[k], None, f"timeout after {self.timeout:g} s (the document was given up)")
                todo.extend(reversed(task.indices[:k] + task.indices[k + 1:]))  # the others of its task: again
            for task in running.values():  # innocent bystanders of a kill: run again
                if broken:
                    alone.update(task.indices)
                todo.extend(reversed(task.indices))
            running.clear()
            self._kill()


_POOL: ParsePool | None = None


def shared_pool(workers: int, timeout: float) -> ParsePool:
    global _POOL
    if _POOL is None or (_POOL.workers, _POOL.timeout) != (max(1, workers), timeout):
        if _POOL is not None:
            _POOL.close()
        _POOL = ParsePool(workers, timeout)
    return _POOL


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
