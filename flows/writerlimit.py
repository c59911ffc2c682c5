"""The global concurrency limit of the warehouse writers (flows/etl.py): one Prefect run writes at a time."""

from __future__ import annotations

from flows.ahead import Ahead

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


class WriterLimitAhead(Ahead):
    """``ensure_writer_limit`` in a thread, started when a run parses (it will write; the flow waits for the
    parse meanwhile), so that the writing steps do not wait for its API calls. ``wait`` (before the writer
    takes the limit) joins it, and looks the limit up again itself when the thread did not get it: an
    error then surfaces there, as before."""

    name = "xxgk-writer-limit"

    def work(self) -> None:
        ensure_writer_limit()

    wait = Ahead.finish
