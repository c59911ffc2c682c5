"""The writer lock, the warehouse connection and the load of parsed documents."""

from __future__ import annotations

import contextlib
import fcntl
import time
from collections.abc import Callable, Iterator

from flows.outcomes import Progress, ReportOutcome, quiet
from flows.settings import Settings
from flows.steps.documents import documents


@contextlib.contextmanager
def writer_lock(settings: Settings, timeout: float = 3600.0) -> Iterator[None]:
    """One writer of ``$XXGK_HOME`` at a time on this machine (the Prefect flows also
    hold the global concurrency limit ``xxgk-warehouse-writer``)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.layout.writer_lock, "w") as f:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another xxgk run holds {settings.layout.writer_lock}") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def warehouse(settings: Settings):
    import duckdb

    from warehouse.db import connect, init_schema

    settings.home.mkdir(parents=True, exist_ok=True)
    try:
        con = connect(settings.warehouse_path, memory_limit=settings.warehouse_memory)
    except duckdb.Error as e:
        if "lock" in str(e).lower():
            raise
        raise RuntimeError(f"cannot open {settings.warehouse_path} ({e}); if it is damaged, move it aside and run "
                           "`xxgk rebuild`: every year is loaded again from the raw store") from e
    try:
        init_schema(con)
        yield con
    finally:
        con.close()


# What the writing steps import (DuckDB, pandas, pyarrow: ~1 s), imported by a thread while the run
# fetches and parses, when it waits on the network and the parse workers anyway.
WRITING_MODULES = ("duckdb", "pandas", "pyarrow", "pyarrow.parquet", "warehouse.db", "warehouse.load",
                   "warehouse.checks", "warehouse.publish", "expectations.gate", "reportsite.build")


def import_in_background() -> None:
    import importlib
    import sys
    import threading

    def run() -> None:
        for m in WRITING_MODULES:
            try:
                importlib.import_module(m)
            except Exception:  # noqa: BLE001 - only a head start: the step that needs it imports it again
                return

    if any(m not in sys.modules for m in WRITING_MODULES):
        threading.Thread(target=run, name="xxgk-imports", daemon=True).start()


LOAD_CHUNK = 1000  # documents per load transaction: bounded memory, few transactions (each commit ~0.1 CPU-s)


def load_batch(con, outcomes: list[ReportOutcome], parsed: dict[str, dict], settings: Settings,
               progress: Progress = quiet, after_chunk: Callable[[int], None] | None = None) -> list[str]:
    """Load the parsed documents, a chunk at a time; returns their report ids (also set on the outcomes).

    Each chunk is one transaction. A run stopped half-way leaves whole chunks loaded; the
    next run finds them unchanged and loads the rest (and no run record is left, so it
    validates and publishes everything). The next chunk's documents are read (parsed cache,
    staging rows) by a thread while DuckDB stores this one. ``after_chunk(n)`` is called after
    each chunk, with the number of ``outcomes`` loaded so far (flows/steps/validation.py).
    """
    from concurrent.futures import ThreadPoolExecutor

    from warehouse.load import load_documents

    ids: list[str] = []
    starts = range(0, len(outcomes), LOAD_CHUNK)
    with ThreadPoolExecutor(1, thread_name_prefix="xxgk-load-read") as reader:
        ahead = [reader.submit(documents, outcomes[start : start + LOAD_CHUNK], parsed, settings)
                 for start in starts[:1]]
        for n, start in enumerate(starts):
            docs = ahead.pop(0).result()
            if n + 1 < len(starts):
                nxt = starts[n + 1]
                ahead.append(reader.submit(documents, outcomes[nxt : nxt + LOAD_CHUNK], parsed, settings))
            chunk_ids = load_documents(con, [d for _o, d in docs]).report_ids if docs else []
            for (o, _d), rid in zip(docs, chunk_ids, strict=True):
                o.report_id = rid
                ids.append(rid)
            if len(outcomes) > LOAD_CHUNK:
                progress(f"loaded {min(start + LOAD_CHUNK, len(outcomes))}/{len(outcomes)}")
            if after_chunk is not None:
                after_chunk(min(start + LOAD_CHUNK, len(outcomes)))
    return ids
