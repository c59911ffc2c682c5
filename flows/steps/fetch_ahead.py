"""An unchanged re-run's fetch, started in a process of its own before Prefect is imported.

`xxgk run --prefect` (flows/commands/common.py ``import_etl``) starts it for a run that is likely unchanged; the
fetch step (flows/steps/fetching.py ``fetch_batch``) takes its outcomes. The conditional requests and Prefect's
import (~0.8 s) then share the two cores instead of following each other.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.outcomes import Progress, quiet
from flows.settings import Settings
from flows.steps.fetching import (
    FETCH_SPLIT_MIN,
    fetch_progress,
    fetched_row,
    load_sources,
    make_fetcher,
    raw_store,
    samples_base,
)

_REVALIDATION: dict[str, Any] = {}  # the one started in this process: key, process, connection


def _fetch_key(settings: Settings, loopback: bool) -> tuple:
    """What makes two fetches of the same registry rows the same fetch."""
    return (str(Path(settings.raw_dir).resolve()), loopback, settings.max_per_host, settings.min_delay,
            settings.timeout, settings.retries, settings.user_agent, settings.host_fail_after,
            settings.fetch_deadline, settings.full_run, settings.offline)


def revalidating() -> bool:
    """Whether a fetch started by ``start_revalidation`` waits to be taken."""
    return bool(_REVALIDATION)


def start_revalidation(year: int, settings: Settings) -> bool:
    """Start the fetch of ``year`` in a forked process, for a run that is likely unchanged (a re-run: its
    conditional requests, 304s, recorded in the raw store, as the fetch step makes them): `xxgk run --prefect`
    calls it before importing Prefect (flows/commands/common.py ``import_etl``), so that the requests and the
    ~0.8 s import share the two cores instead of following each other. The fetch step takes its outcomes
    (``take_revalidation``) when they are of the same registry rows and settings, and fetches itself
    otherwise. Not when the process has other threads (a fork would copy them half-way) or many bodies are
    not stored yet (the fetch step's own way then parses them while it fetches). True when started."""
    if settings.offline or settings.full_run or threading.active_count() > 1 or not hasattr(os, "fork"):
        return False
    try:
        base = samples_base(settings)
    except Exception:  # noqa: BLE001 - the fetch step meets it again and reports it
        return False
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    conn, child_end = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_revalidate_ahead, args=(child_end, year, settings, base), daemon=True,
                          name="xxgk-revalidate-ahead")
    process.start()
    child_end.close()
    _REVALIDATION.clear()
    _REVALIDATION.update(key=_fetch_key(settings, base is not None), process=process, conn=conn)
    return True


def _revalidate_ahead(conn, year: int, settings: Settings, base: str | None) -> None:
    """In the forked process: the year's fetch, its progress lines and then its outcomes sent on ``conn``
    (None: not done, the fetch step fetches)."""
    try:
        sources = load_sources(settings, year, samples_base=base)
        store = raw_store(settings)
        if sum(1 for s in sources if not store.known(s.url)) >= FETCH_SPLIT_MIN:
            conn.send(None)
            return
        with make_fetcher(settings, loopback=base is not None) as fetcher:
            results = fetcher.fetch_many(sources, store,
                                         progress=fetch_progress(len(sources), lambda m: conn.send(("line", m))),
                                         waiting=lambda m: conn.send(("line", m)))
        conn.send(("done", [s.url for s in sources], [fetched_row(r) for r in results]))
    except BaseException:  # noqa: BLE001 - only a head start: the fetch step fetches and reports
        with contextlib.suppress(Exception):
            conn.send(None)
    finally:
        conn.close()


def take_revalidation(sources: list, settings: Settings, loopback: bool, progress: Progress = quiet,
                      meanwhile: Callable[[], None] | None = None) -> list[tuple] | None:
    """What the fetch ``start_revalidation`` started gave (``fetched_row`` rows), when it fetched these
    ``sources`` with these settings (its progress lines relayed meanwhile, ``meanwhile()`` called while it
    works); else None. Taken once: a retried fetch step fetches itself."""
    ahead = dict(_REVALIDATION)
    _REVALIDATION.clear()
    if not ahead or ahead["key"] != _fetch_key(settings, loopback):
        if ahead:
            ahead["conn"].close()
        return None
    conn = ahead["conn"]
    try:
        if meanwhile is not None:
            meanwhile()
        while (msg := conn.recv()) is not None and msg[0] == "line":
            progress(msg[1])
    except (EOFError, OSError):  # the process died: the fetch step fetches
        return None
    finally:
        conn.close()
    if msg is None or msg[1] != [s.url for s in sources]:
        return None
    return msg[2]
