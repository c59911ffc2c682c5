"""GX validation in worker processes, started early so that Great Expectations' start-up is paid
while the run fetches and parses.

Importing GX and building its context and suites costs seconds of CPU; in the flow's process that
was half of a small run, spent while the run waited. ``prestart()`` starts the workers (spawned:
GX stays out of the flow's and the parse workers' processes) and has them import GX at once; the
validate step then hands them the staging frames of one chunk at a time
(``expectations.validate.validate``, the real suites, on every run that validates) while the flow
reads the next chunk from the warehouse. The workers live for the process, like the parse pool.

Workers started together (a run of several chunks) are forked from a fork server of their own (not
the parse pool's: GX would delay every parse worker), which imports GX and builds its context and
suites once (flows/validator_preload.py): each further worker costs a fork, not GX's start-up again
(~1.5 CPU-s, paid while fetch and parse keep both cores busy).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import io
import multiprocessing as mp
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from multiprocessing import context, forkserver, popen_forkserver, reduction, spawn, util

_LOCK = threading.Lock()
_POOL: ValidatorPool | None = None
PRELOAD = ["flows.validator_preload"]  # what the validators' fork server imports before its first fork
_SERVER = forkserver.ForkServer()
_SERVER.set_forkserver_preload(PRELOAD)
GX_PRELOADED = False  # True in the fork server, and so in its copies, once it has started GX (validator_preload)


class _Popen(popen_forkserver.Popen):
    """A process forked by the validators' fork server (``_SERVER``), not by the process's own one:
    ``popen_forkserver.Popen._launch`` of Python 3.11 with the server named."""

    def _launch(self, process_obj):
        prep_data = spawn.get_preparation_data(process_obj._name)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = _SERVER.connect_to_new_process(self._fds)
        _parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (_parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj):
        return _Popen(process_obj)


class _Context(context.ForkServerContext):
    Process = _Process


def prepare_gx() -> None:
    """Before GX's import, in a process that only validates (the fork server, and a worker it did not
    prepare): no usage statistics, altair and scipy.stats deferred, no SQL support, no cyclic
    collection until ``_warm``."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from expectations.gximport import defer_unused_modules, without_sql_support

    defer_unused_modules()  # the worker imports GX next (_warm): without altair and scipy.stats,
    without_sql_support()  # and without GX's SQL support (it validates pandas frames)
    with contextlib.suppress(ImportError):  # no tqdm monitor thread (GX makes disabled progress bars): the
        from tqdm import std  # server forks, and a lock held by a thread would stay held in the copy

        std.tqdm.monitor_interval = 0
    # No cyclic collection while GX's modules are imported (_warm enables it again): its passes over the
    # ever larger heap of new objects were ~0.25 of the ~1.6 CPU-s start-up, which frees almost nothing.
    gc.disable()


def _init_worker() -> None:
    from flows.commands.common import exit_now

    prepare_gx()  # done already when the fork server had imported GX (nothing then)
    # The worker's last act, once the pool has let it go (every result handed back, no file of its own
    # open): tearing down an interpreter that holds GX's modules took ~0.6 CPU-s the run waited for.
    atexit.register(exit_now, 0)


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


def stop_server() -> None:
    """End the validators' fork server now, if it runs, even while it imports GX (its own stop waits for
    that); the next worker starts it again."""
    with _SERVER._lock:
        if _SERVER._forkserver_pid is None:
            return
        with contextlib.suppress(OSError):
            os.kill(_SERVER._forkserver_pid, signal.SIGKILL)
        _SERVER._stop_unlocked()  # reaped, its socket gone: ensure_running starts a new one


def validate_chunk(frames, prev_frames=None):
    """``expectations.validate.validate`` of one chunk, in a worker, handed back compact
    (flows.steps.validating.CheckPart)."""
    from expectations.validate import validate_columns
    from flows.steps.validating import check_part

    return check_part(validate_columns(frames, prev_frames=prev_frames))


class ValidatorPool:
    """Worker processes of one each (so that the pool can grow without losing a warm worker);
    a chunk goes to the worker with the fewest chunks pending."""

    def __init__(self, workers: int) -> None:
        self._lock = threading.Lock()
        self._workers: list[tuple[ProcessPoolExecutor, list[Future]]] = []
        self._starting: list[threading.Thread] = []
        self.grow(workers)

    @property
    def workers(self) -> int:
        return len(self._workers)

    def grow(self, workers: int) -> None:
        with self._lock:
            # Several workers at once: forked from the fork server, GX's start-up paid once. One: spawned, as
            # a copy of the server would cost ~0.25 CPU-s more (the pages it writes to are copied) for nothing.
            forked = workers - len(self._workers) > 1
            while len(self._workers) < workers:
                if not forked:
                    ex = ProcessPoolExecutor(1, mp_context=mp.get_context("spawn"), initializer=_init_worker)
                    self._workers.append((ex, [ex.submit(_warm)]))
                    continue
                ex = ProcessPoolExecutor(1, mp_context=_Context(), initializer=_init_worker)
                pending: list[Future] = []
                self._workers.append((ex, pending))
                # The executor starts its worker on the first submit, which waits for the fork server to
                # have imported GX: in a thread, so that the run goes on (a chunk submitted meanwhile waits).
                starter = threading.Thread(target=self._start, args=(ex, pending), daemon=True,
                                           name="validator start")
                starter.start()
                self._starting.append(starter)

    def _start(self, ex: ProcessPoolExecutor, pending: list[Future]) -> None:
        try:
            fut = ex.submit(_warm)
        except Exception as e:  # noqa: BLE001 - the server was stopped, or the worker could not start
            fut = Future()
            fut.set_exception(e)
        with self._lock:
            pending.append(fut)

    def submit(self, frames, prev_frames=None) -> Future:
        with self._lock:
            ex, pending = min(self._workers, key=lambda w: sum(not f.done() for f in w[1]))
            fut = ex.submit(validate_chunk, frames, prev_frames)
            pending[:] = [f for f in pending if not f.done()] + [fut]
        return fut

    def close(self, kill: bool = False) -> None:
        with self._lock:
            workers, self._workers = self._workers, []
            starting, self._starting = self._starting, []
        if kill and any(t.is_alive() for t in starting):
            stop_server()  # a worker still waits for GX's import: not waited for (its start fails at once)
        for t in starting:
            t.join()
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
