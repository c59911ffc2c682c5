"""GX validation in worker processes, started early so that Great Expectations' start-up is paid
while the run fetches and parses.

Importing GX and building its context and suites costs seconds of CPU; in the flow's process that
was half of a small run, spent while the run waited. ``prestart()`` starts the workers (spawned:
GX stays out of the flow's and the parse workers' processes) and has them import GX at once; the
validate step then hands them the staging frames of one chunk at a time
(``expectations.validate.validate``, the real suites, on every run that validates) while the flow
reads the next chunk from the warehouse. The workers live for the process, like the parse pool.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import multiprocessing as mp
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor

_LOCK = threading.Lock()
_POOL: ValidatorPool | None = None


def _init_worker() -> None:
    from flows.commands.common import exit_now

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from expectations.gximport import defer_unused_modules, without_sql_support

    defer_unused_modules()  # the worker imports GX next (_warm): without altair and scipy.stats,
    without_sql_support()  # and without GX's SQL support (it validates pandas frames)
    # The worker's last act, once the pool has let it go (every result handed back, no file of its own
    # open): tearing down an interpreter that holds GX's modules took ~0.6 CPU-s the run waited for.
    atexit.register(exit_now, 0)
    # No cyclic collection while GX's modules are imported (_warm enables it again): its passes over the
    # ever larger heap of new objects were ~0.25 of the ~1.6 CPU-s start-up, which frees almost nothing.
    gc.disable()


def _warm() -> bool:
    """Import GX and build its context and suites in this worker (the first chunk's cost otherwise)."""
    try:
        from expectations import validate as vx

        build = getattr(vx, "_runtime", None)  # the evaluator's own cache of the GX context, when it has one
        if build is not None:
            build()
    finally:
        gc.enable()
        gc.freeze()  # what the start-up made lives as long as the worker: out of the collector's way
    return True


def validate_chunk(frames, prev_frames=None):
    """``expectations.validate.validate`` of one chunk, in a worker, handed back compact
    (flows.steps.validating.CheckPart)."""
    from expectations.validate import validate
    from flows.steps.validating import check_part

    return check_part(validate(frames, prev_frames=prev_frames))


class ValidatorPool:
    """Worker processes of one each (so that the pool can grow without losing a warm worker);
    a chunk goes to the worker with the fewest chunks pending."""

    def __init__(self, workers: int) -> None:
        self._lock = threading.Lock()
        self._workers: list[tuple[ProcessPoolExecutor, list[Future]]] = []
        self.grow(workers)

    @property
    def workers(self) -> int:
        return len(self._workers)

    def grow(self, workers: int) -> None:
        with self._lock:
            while len(self._workers) < workers:
                ex = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=_init_worker)
                self._workers.append((ex, [ex.submit(_warm)]))

    def submit(self, frames, prev_frames=None) -> Future:
        with self._lock:
            ex, pending = min(self._workers, key=lambda w: sum(not f.done() for f in w[1]))
            fut = ex.submit(validate_chunk, frames, prev_frames)
            pending[:] = [f for f in pending if not f.done()] + [fut]
        return fut

    def close(self, kill: bool = False) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
        for ex, pending in workers:
            busy = kill and not all(f.done() for f in pending)  # idle workers end as usual
            if busy:
                for p in list(getattr(ex, "_processes", {}).values()):  # no public way to stop a running task
                    with contextlib.suppress(Exception):
                        p.kill()
            with contextlib.suppress(Exception):
                ex.shutdown(wait=not busy, cancel_futures=True)


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 2))


def prestart(workers: int | None = None) -> ValidatorPool:
    """The process's validator pool of at least ``workers`` processes, started now if it is not
    running (cheap when it is)."""
    global _POOL
    workers = workers or default_workers()
    with _LOCK:
        if _POOL is None:
            _POOL = ValidatorPool(workers)
        else:
            _POOL.grow(workers)
        return _POOL


def discard(kill: bool = False) -> None:
    """Drop the pool (a worker died; the run was interrupted): the next ``prestart`` starts afresh."""
    global _POOL
    with _LOCK:
        pool, _POOL = _POOL, None
    if pool is not None:
        pool.close(kill=kill)
