"""A Prefect server of its own for a benchmark (as a deployment has a standing server).

``with prefect_server(home) as api_url:`` starts ``prefect server start`` on a free
loopback port with ``PREFECT_HOME=home`` (no UI, no telemetry), waits for
``/api/health`` and stops it on exit. The flow runs being measured talk to it through
``PREFECT_API_URL``, so no run pays for starting a temporary server.

How it differs from a user's ``prefect server start``: no UI (``--no-ui``: the UI's files are not
served; the API is the same), no analytics or telemetry (an offline machine), a new database in
``home``. Everything else is Prefect's defaults, as a user's: all the server's services run (scheduler,
late runs, foreman, triggers, event persister, task-run recorder...: ~0.02-0.03 CPU-s a second when
idle, spent on the same 2 cores during both sides of the benchmark), and the flow runs log at Prefect's
default level (INFO: the progress lines and Prefect's own reach the server, as a user sees them). The
server is new: its first flow run also pays FastAPI's first-call set-up of each API route (~0.5-1 CPU-s
on the server, and ~0.5-1.4 s of that run's start), which a standing server paid once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_env(home: str | Path, api_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
    })
    env.pop("PREFECT_PROFILE", None)
    env.pop("PREFECT_LOGGING_LEVEL", None)  # Prefect's default (INFO), as a user runs; not the shell's
    if api_url:
        env["PREFECT_API_URL"] = api_url
    else:
        env.pop("PREFECT_API_URL", None)
    return env


@contextmanager
def prefect_server(home: str | Path, timeout: float = 180.0) -> Iterator[str]:
    Path(home).mkdir(parents=True, exist_ok=True)
    port = _free_port()
    prefect = Path(sys.executable).with_name("prefect")
    cmd = [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui",
           "--analytics-off"]
    log = open(Path(home) / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(cmd, env=prefect_env(home), stdout=log, stderr=subprocess.STDOUT)
    api = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited ({proc.returncode}); see {Path(home) / 'server.log'}")
            try:
                if requests.get(f"{api}/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not answer within {timeout:.0f} s")
            time.sleep(0.5)
        yield api
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
