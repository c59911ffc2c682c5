"""Fixtures of the flow tests: one Prefect test harness per session (it takes ~12 s)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture
def xxgk_env(tmp_path, monkeypatch):
    """A fresh XXGK_HOME and no XXGK_* setting leaking in from the developer's shell."""
    import os

    for var in list(os.environ):
        if var.startswith("XXGK_"):
            monkeypatch.delenv(var)
    home = tmp_path / "home"
    monkeypatch.setenv("XXGK_HOME", str(home))
    return home
