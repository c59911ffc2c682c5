"""Fault 5 (issue 18): Ctrl-C stops a run within 10 s, SIGTERM leaves no process behind.

``xxgk run`` is started as a real process. Ctrl-C (SIGINT) lands while every request hangs on
a host that never answers; SIGTERM lands while the parse workers are busy (the parser is
slowed by a ``sitecustomize`` the drill puts on the path: a long parse, nothing mocked). Every
process of the run carries a tag in its environment; after the run ends none may remain, and
the run's stdout reaches end-of-file (``xxgk run | tee`` ends).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import rel_marts as rm
from rel_faults import Silent
from rel_site import Site, registry, report_page

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
YEAR = 2024
SLOW_PARSE = """
import os
if os.environ.get("XXGK_DRILL_SLOW_PARSE"):
    import time
    import transforms.parse as _parse
    _original = _parse.parse_document
    def _slow(*a, **k):
        time.sleep(float(os.environ["XXGK_DRILL_SLOW_PARSE"]))
        return _original(*a, **k)
    _parse.parse_document = _slow
"""


def tagged(tag: str) -> list[int]:
    """Processes whose environment carries ``tag``."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if tag.encode() in (d / "environ").read_bytes():
                    out.append(int(d.name))
            except OSError:
                pass
    return out


def start_run(tmp_path, reg, env: dict) -> tuple[subprocess.Popen, str, list[str]]:
    tag = f"XXGK_DRILL_TAG={uuid.uuid4().hex}"
    (tmp_path / "hooks").mkdir(exist_ok=True)
    (tmp_path / "hooks" / "sitecustomize.py").write_text(SLOW_PARSE)
    e = {**os.environ, "XXGK_HOME": str(tmp_path / "home"), "XXGK_MIN_DELAY": "0",
         "PYTHONPATH": f"{tmp_path / 'hooks'}{os.pathsep}{rm.REPO}", "XXGK_DRILL_TAG": tag.split("=", 1)[1], **env}
    p = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--year", str(YEAR), "--sources", str(reg)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=e, cwd=str(rm.REPO), text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(p.stderr.readline, "")), daemon=True).start()
    return p, tag.split("=", 1)[1], lines


def wait_for(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)


def interrupt(p: subprocess.Popen, sig: int, code: int, lines: list[str]) -> float:
    """Send ``sig`` and require the run to end within 10 s with exit status ``code``; the seconds taken."""
    time.sleep(1)
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        pytest.fail(f"xxgk run did not end within 10 s of signal {sig}")
    assert p.returncode == code, "".join(lines)[-2000:]
    return round(time.monotonic() - t0, 2)


def stdout_closes(p: subprocess.Popen, timeout: float) -> bool:
    done = threading.Event()
    threading.Thread(target=lambda: (p.stdout.read(), done.set()), daemon=True).start()
    return done.wait(timeout)


def test_ctrl_c_during_a_fetch_from_dead_hosts_stops_within_10_s(tmp_path, figures):
    silent = Silent()
    try:
        reg = registry(tmp_path / "registry.csv",
                       [(f"沉默局{i}", YEAR, f"http://127.0.0.1:{silent.port}/r{i}.html") for i in range(60)])
        # Default timeout (30 s) and retries: without the fix the run waits for every request.
        p, tag, lines = start_run(tmp_path, reg, {})
        wait_for(lambda: silent.accepted >= 2, 60, "the first requests")
        figures["ctrl_c_seconds"] = interrupt(p, signal.SIGINT, 130, lines)
        assert stdout_closes(p, 5)
        wait_for(lambda: not tagged(tag), 5, "every process of the run to end")
    finally:
        silent.close()


def test_sigterm_during_parse_leaves_no_process_behind(tmp_path, figures):
    site = Site()
    try:
        rows = [(f"慢局{i}", YEAR, site.page(f"/r{i}.html", report_page(f"慢局{i}", seed=i)[1])) for i in range(4)]
        reg = registry(tmp_path / "registry.csv", rows)
        p, tag, lines = start_run(tmp_path, reg, {"XXGK_DRILL_SLOW_PARSE": "120", "XXGK_PARSE_WORKERS": "2"})
        wait_for(lambda: any("parsing" in ln for ln in lines), 120, "the parse step")
        # The fork server and two workers (besides the run itself) are up and parsing.
        wait_for(lambda: len(tagged(tag)) >= 4, 60, "the parse workers")
        figures["sigterm_seconds"] = interrupt(p, signal.SIGTERM, 143, lines)
        assert stdout_closes(p, 10), "a process of the run still holds its stdout"
        wait_for(lambda: not tagged(tag), 10, "the fork server and the workers to end")
    finally:
        for pid in tagged(tag) if "tag" in locals() else []:
            os.kill(pid, signal.SIGKILL)
        site.close()
