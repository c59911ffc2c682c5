"""Parse documents in worker processes, each with a time and memory limit.

A hostile or broken document (a PDF whose page tree loops, a compression bomb) must cost
one report, not the run: each document gets ``timeout`` seconds in a worker; a worker that
overruns is killed and the document fails with ``timeout after N s``; a worker that dies
(out of memory) fails its document once it has been retried alone. Workers also use every
core, which the in-process parser could not. The pool lives for the process, so its
start-up (a fork server that has imported the parser) is paid once.
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
from typing import Any

MEMORY_LIMIT = 3 * 1024**3  # bytes of address space per worker


def _init_worker(memory_limit: int) -> None:
    with contextlib.suppress(ValueError, OSError, ImportError):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_limit, memory_limit))


class ParsePool:
    def __init__(self, workers: int, timeout: float, memory_limit: int = MEMORY_LIMIT) -> None:
        self.workers = max(1, workers)
        self.timeout = timeout
        self.memory_limit = memory_limit
        self._ex: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._ex is None:
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload(["transforms.parse", "transforms.narrative", "warehouse.rows", "flows.plan"])
            self._ex = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init_worker,
                                           initargs=(self.memory_limit,))
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

    def run(self, fn: Callable[..., Any], jobs: list[tuple] | queue.Queue,
            done: Callable[[int, Any, str | None], None]) -> None:
        """Call ``fn(*job)`` for each job in the workers; ``done(index, result, error)`` as each ends.

        ``jobs``: a list, or a queue that jobs arrive on while they run (the index is the order of
        arrival), ended by a ``None``.
        """
        incoming = jobs if isinstance(jobs, queue.Queue) else None
        jobs = [] if incoming is not None else list(jobs)
        todo = list(range(len(jobs)))
        alone: set[int] = set()  # in flight when a worker died: retried one at a time to find the culprit
        running: dict[Future, tuple[int, float]] = {}
        while incoming is not None or todo or running:
            if incoming is not None:  # take what has arrived; wait for more only when idle
                try:
                    while True:
                        job = incoming.get(block=not (todo or running), timeout=None if not (todo or running) else 0)
                        if job is None:
                            incoming = None
                            break
                        todo.append(len(jobs))
                        jobs.append(job)
                except queue.Empty:
                    pass
                if not (todo or running):
                    continue
            while todo and len(running) < self.workers:
                solo_running = any(i in alone for i, _s in running.values())
                if solo_running or (todo[0] in alone and running):
                    break
                i = todo.pop(0)
                running[self._executor().submit(fn, *jobs[i])] = (i, time.monotonic())
            oldest = min(start for _i, start in running.values())
            wait_s = max(0.05, oldest + self.timeout - time.monotonic())
            if incoming is not None:
                wait_s = min(wait_s, 0.05)  # look at the queue again soon
            finished, _ = wait(running, timeout=wait_s, return_when=FIRST_COMPLETED)
            broken = False
            for fut in finished:
                i, _start = running.pop(fut)
                try:
                    done(i, fut.result(), None)
                except BrokenProcessPool:
                    if i in alone:
                        done(i, None, "the parser's worker process died (out of memory?)")
                    else:
                        alone.add(i)
                        todo.insert(0, i)
                    broken = True
                except MemoryError:
                    done(i, None, "MemoryError: the document needs more memory than a worker may use")
                except Exception as e:  # noqa: BLE001 - one document's failure, reported as such
                    done(i, None, f"{type(e).__name__}: {e}")
            now = time.monotonic()
            late = [f for f, (_i, start) in running.items() if now - start > self.timeout]
            if not late and not broken:
                continue
            for f in late:
                i, _start = running.pop(f)
                done(i, None, f"timeout after {self.timeout:g} s (the document was given up)")
            for i, _start in running.values():  # innocent bystanders of a kill: run again
                if broken:
                    alone.add(i)
                todo.insert(0, i)
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
