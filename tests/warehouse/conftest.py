"""Fixtures of the warehouse tests: a fresh warehouse, and a Python with DuckDB 1.x."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from warehouse import db

REPO = Path(__file__).resolve().parents[2]
DUCKDB1_VENV = REPO / ".venv-duckdb1"
DUCKDB1_VERSION = "1.4.4"


@pytest.fixture
def con(tmp_path):
    c = db.connect(tmp_path / "warehouse.duckdb")
    db.init_schema(c)
    yield c
    c.close()


@pytest.fixture(scope="session")
def duckdb1_python() -> Path:
    """A Python with duckdb 1.x (the repo's .venv-duckdb1, created on first use)."""
    py = DUCKDB1_VENV / "bin" / "python"
    probe = [str(py), "-c", "import duckdb, sys; sys.exit(0 if duckdb.__version__.startswith('1.') else 1)"]
    if py.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return py
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(DUCKDB1_VENV)], check=True)
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1")
    subprocess.run([str(py), "-m", "pip", "install", "-q", f"duckdb=={DUCKDB1_VERSION}"], check=True, env=env)
    subprocess.run(probe, check=True)
    return py
