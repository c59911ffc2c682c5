"""The global concurrency limit of the warehouse writers (flows/etl.py): one Prefect run writes at a time."""

from __future__ import annotations

import contextlib
import contextvars
import threading

WRITER_LIMIT = "xxgk-warehouse-writer"


def ensure_writer_limit() -> None:
    """Create the global concurrency limit on first use.

    Without it ``concurrency()`` would not block anything (it only warns), so a fresh
    server would allow two writers; creating it (limit 1) keeps the guarantee. An
    existing limit is left as the operator set it.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(WRITER_LIMIT)
        except ObjectNotFound:
            try:
                client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=WRITER_LIMIT, limit=1))
            except Exception:  # noqa: BLE001 - another run created it in between
                client.read_global_concurrency_limit_by_name(WRITER_LIMIT)


class WriterLimitAhead:
    """``ensure_writer_limit`` in a thread, started when a run parses (it will write; the flow waits for the
    parse meanwhile), so that the writing steps do not wait for its API calls. ``wait`` (before the writer
    takes the limit) joins it, and looks the limit up again itself when the thread did not get it: an
    error then surfaces there, as before."""

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._ensured = False

    def start(self) -> None:
        if self._thread is None:
            context = contextvars.copy_context()  # the flow run's settings and client context
            self._thread = threading.Thread(target=context.run, args=(self._ensure,), daemon=True,
                                            name="xxgk-writer-limit")
            self._thread.start()

    def _ensure(self) -> None:
        with contextlib.suppress(Exception):  # looked up again by wait(), where its error is raised
            ensure_writer_limit()
            self._ensured = True

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if not self._ensured:
            ensure_writer_limit()
