"""Scale and figures of the reliability drills.

Two scales: CI (``make test`` runs everything in a few minutes on 2 cores) and full
(``make reliability``: ``pytest -m reliability``, or ``XXGK_RELIABILITY_FULL=1``), where the
issue's counts run: at least 100,000 fuzzed inputs and 20 kills. Each count can be set
on its own: XXGK_FUZZ_EXAMPLES (generated parser inputs), XXGK_KILL_POINTS (SIGKILLs),
XXGK_FUZZ_TIMEOUT (per-document time limit, seconds), XXGK_READER_SECONDS.

Every drill adds its figures to one JSON file written at the end of the session:
``$XXGK_RELIABILITY_OUT`` (default ``/tmp/xxgk-reliability/last_run.json``);
docs/RELIABILITY.md quotes the last full run.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

import pytest

FIGURES: dict = {}
_T0 = time.monotonic()


def full_scale(config: pytest.Config | None = None) -> bool:
    if os.environ.get("XXGK_RELIABILITY_FULL") not in (None, "", "0"):
        return True
    markexpr = getattr(getattr(config, "option", None), "markexpr", "") or ""
    return "reliability" in markexpr


class Scale:
    def __init__(self, full: bool):
        self.full = full
        env = os.environ.get
        self.fuzz_examples = int(env("XXGK_FUZZ_EXAMPLES") or (100_000 if full else 1_200))
        self.kill_points = int(env("XXGK_KILL_POINTS") or (20 if full else 6))
        self.fuzz_timeout = float(env("XXGK_FUZZ_TIMEOUT") or 20)
        self.reader_seconds = float(env("XXGK_READER_SECONDS") or (30 if full else 8))
        self.workers = max(2, min(4, os.cpu_count() or 2))

    def as_dict(self) -> dict:
        return dict(vars(self))


@pytest.fixture(scope="session")
def scale(request) -> Scale:
    return Scale(full_scale(request.config))


@pytest.fixture(scope="session")
def figures() -> dict:
    return FIGURES


def pytest_sessionfinish(session, exitstatus):
    if not FIGURES:
        return
    out = Path(os.environ.get("XXGK_RELIABILITY_OUT") or "/tmp/xxgk-reliability/last_run.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - _T0, 1),
        "exit_status": int(exitstatus),
        "machine": f"{platform.machine()} {os.cpu_count()} cpu, Python {platform.python_version()}",
        "scale": Scale(full_scale(session.config)).as_dict(),
        **FIGURES,
    }
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n", encoding="utf-8")


@pytest.fixture
def site():
    """A loopback "government site" (rel_site.Site) on a free port."""
    from rel_site import Site

    s = Site()
    yield s
    s.close()
