"""What every command shares: exit codes, one-line errors, progress, settings from the arguments."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import os
import sys
from typing import Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_PUBLISHED = 0, 1, 2, 3


RUN_EXITS = (" Exit 0 when every year published or nothing changed since its last complete run; 3 when "
             "a year published nothing (nothing fetched, nothing parsed, or the gate's breaker); 1 on "
             "errors; 2 for bad arguments.")


class CliError(Exception):
    """An error shown to the user as one line (exit status 1)."""


def exit_now(status: int) -> None:
    """End this process with ``status`` once its standard streams are flushed, skipping the
    interpreter's teardown of every module it imported (GX's ~1,700, pandas, DuckDB: tenths of a
    CPU-second a run waits for). Only as a process's last exit handler, when every file it wrote is
    closed and every result handed over."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed or broken stream: nothing left to save
            stream.flush()
    os._exit(status)


_EXIT_STATUS: dict[str, int] = {}  # the process's status, once its command has returned it


def end_at_once_when_done() -> None:
    """Register ``_end_at_once`` as the process's last exit handler: call it first thing, before the
    command's imports (Prefect, GX, DuckDB) register theirs, which then run before it; then
    ``done(status)`` when the command returns. `xxgk run/backfill/rebuild/demo` (flows/cli.py) and the
    benchmark's run (benchmarks/run_pipeline.py) end this way, with or without Prefect."""
    atexit.register(_end_at_once)


def done(status: int) -> None:
    """The command returned ``status``: the process may end at once after its exit handlers."""
    _EXIT_STATUS["status"] = status


def _end_at_once() -> None:
    """Once the command has returned its status and every other exit handler has run, end the process
    without the interpreter's teardown of the modules it imported (Prefect's ~1M objects, pandas, DuckDB:
    0.1-0.15 s of an unchanged re-run). By then Prefect's log and event workers have sent what they held
    (they drain in ``threading._shutdown``, before any exit handler), its temporary server is stopped (an
    exit handler of its own), and every file the run wrote is closed; ``logging.shutdown`` (the exit handler
    it would have run after this one) flushes and closes every logging handler first: Prefect's API log
    handler sends a record logged since, and a file a user's logging configuration opened is written out.
    Nothing is skipped after an error that escaped the command (no status)."""
    status = _EXIT_STATUS.get("status")
    if status is not None:
        logging.shutdown()
        exit_now(status)


def import_etl(year: int | None = None, settings: Any = None):
    """flows/etl.py (Prefect and the plan) imported with the cyclic collector off: the import makes ~190,000
    objects the collector tracks, and the collections it set off walked them again and again (~0.15 of
    its ~1.3 CPU-s).
    flows/etl.py freezes them at its end, so they stay out of the collector's way after too.

    With the ``year`` and ``settings`` of the run about to start, the parse workers' fork server starts first
    (flows/plan.py ``start_parse_server``, when the run will parse): its imports run beside Prefect's
    (~0.8 s) and the flow run's start instead of after them, at the fetch; for a run likely unchanged, its fetch
    starts instead (flows/plan.py ``start_revalidation``: the conditional requests beside Prefect's import)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        if year is not None and settings is not None:
            from flows.plan import start_parse_server, start_revalidation

            start_parse_server(int(year), settings) or start_revalidation(int(year), settings)
        from flows.prefectimport import defer_unused_modules

        defer_unused_modules()  # the modules of Prefect's a run does not use, left to their first use
        from flows import etl
    finally:
        if enabled:
            gc.enable()
    return etl


def err(msg: str) -> None:
    print(f"xxgk: {msg}", file=sys.stderr)


def one_line(e: BaseException) -> str:
    """An exception as one line: its type and its message with line breaks folded."""
    return f"{type(e).__name__}: {' '.join(str(e).split())}"


def progress_printer(quiet: bool):
    def emit(msg: str) -> None:
        if not quiet:
            print(f"  … {msg}", file=sys.stderr, flush=True)

    return emit


def settings_from(args: argparse.Namespace, **extra: Any):
    from flows.settings import load_settings

    full = True if getattr(args, "full", False) else None  # without --full: the file or XXGK_FULL_RUN decide
    return load_settings(config=args.config, home=args.home, sources=getattr(args, "sources", None),
                         full_run=full, **extra)


