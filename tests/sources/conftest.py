"""Fixtures for the sources tests (servers on loopback, a raw store, a fast fetcher)."""

from __future__ import annotations

import pytest
from loopback import RawServer

from sources.fetch import Fetcher
from sources.rawstore import RawStore


@pytest.fixture
def raw_server():
    srv = RawServer()
    yield srv
    srv.close()


@pytest.fixture
def store(tmp_path):
    return RawStore(tmp_path / "raw")


@pytest.fixture
def fast():
    """A fetcher with tiny delays so the suite stays quick."""

    def make(**kw):
        params = {
            "min_delay_s": 0.0,
            "backoff_s": 0.01,
            "retries": 2,
            "timeout": (2, 2),
            "max_retry_after_s": 2,
        }
        params.update(kw)
        return Fetcher(**params)

    return make
