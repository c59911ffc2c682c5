"""The warehouse writers' global concurrency limit (flows/writerlimit.py), looked up ahead while a run parses."""

from __future__ import annotations

import contextlib
import threading

import pytest

from flows import writerlimit


def test_the_writer_limit_is_created_ahead_while_the_run_parses(prefect_harness):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        with contextlib.suppress(Exception):  # absent on a fresh server
            client.delete_global_concurrency_limit_by_name(writerlimit.WRITER_LIMIT)
        ahead = writerlimit.WriterLimitAhead()
        ahead.start()
        ahead.start()  # once only
        ahead.wait()
        assert client.read_global_concurrency_limit_by_name(writerlimit.WRITER_LIMIT).limit == 1


def test_a_writer_limit_not_created_ahead_is_created_by_the_writer_with_its_error(monkeypatch):
    calls = []

    def failing():
        calls.append(threading.current_thread().name)
        raise ConnectionError("no Prefect API")

    monkeypatch.setattr(writerlimit, "ensure_writer_limit", failing)
    ahead = writerlimit.WriterLimitAhead()
    ahead.start()
    with pytest.raises(ConnectionError, match="no Prefect API"):
        ahead.wait()
    assert calls == ["xxgk-writer-limit", threading.current_thread().name]
    calls.clear()
    with pytest.raises(ConnectionError):
        writerlimit.WriterLimitAhead().wait()  # never started (no parse step ran): looked up by the writer itself
    assert calls == [threading.current_thread().name]
