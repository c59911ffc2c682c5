"""End to end, as a new user would do it: a real Prefect server on loopback, the process
work pool, `prefect deploy --all`, a worker, a backfill of 2023-2024 started with
`prefect deployment run`; then the published marts (read-only DuckDB), the artifacts and
the schedules are checked through the Prefect API. Everything started here is stopped
(process groups), even when the test fails.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
TIMEOUT_S = 300

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM the process group, then SIGKILL what is left."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def _wait_healthy(url: str, server: subprocess.Popen, log: Path, timeout: float = 90) -> None:
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"prefect server exited early:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy after {timeout}s:\n{log.read_text()[-3000:]}")


def _cli(args: list[str], env: dict, timeout: float = 180) -> str:
    r = subprocess.run([PREFECT, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"prefect {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r.stdout


async def _wait_flow_run(client, run_id, timeout: float):
    deadline = time.monotonic() + timeout
    while True:
        run = await client.read_flow_run(run_id)
        if run.state is not None and run.state.is_final():
            return run
        if time.monotonic() > deadline:
            raise AssertionError(f"flow run {run_id} not finished after {timeout}s: {run.state}")
        await asyncio.sleep(2)


async def _inspect(api_url: str, run_id):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}):
        async with get_client() as client:
            run = await _wait_flow_run(client, run_id, TIMEOUT_S)
            keys = [f"xxgk-{k}-{y}" for k in ("reports", "summary", "data-docs") for y in (2023, 2024)]
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[*keys, "xxgk-backfill"]))
            )
            deployment = await client.read_deployment_by_name("etl-year/xxgk-scheduled")
            limit = await client.read_global_concurrency_limit_by_name("xxgk-warehouse-writer")
            return run, artifacts, deployment, limit


def test_deploy_and_backfill_two_years_on_a_real_server(tmp_path):
    port = _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",  # not needed here; saves start-up time
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "PREFECT_CLI_PROMPT": "false",
        "XXGK_HOME": str(tmp_path / "data"),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PREFECT_PROFILE", None)
    env = {k: v for k, v in env.items() if not (k.startswith("XXGK_") and k != "XXGK_HOME")}
    started: list[subprocess.Popen] = []
    server_log, worker_log = tmp_path / "server.log", tmp_path / "worker.log"
    try:
        with server_log.open("w") as out:
            server = subprocess.Popen(
                [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        started.append(server)
        _wait_healthy(api_url, server, server_log)

        _cli(["work-pool", "create", "xxgk-pool", "--type", "process"], env)
        deployed = _cli(["--no-prompt", "deploy", "--all"], env)
        assert "xxgk-scheduled" in deployed and "xxgk-backfill" in deployed

        with worker_log.open("w") as out:
            worker = subprocess.Popen(
                [PREFECT, "worker", "start", "--pool", "xxgk-pool"],
                cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )
        started.append(worker)

        out = _cli(["deployment", "run", "backfill/xxgk-backfill", "-p", "start=2023", "-p", "end=2024"], env)
        m = re.search(r"UUID:\s*([0-9a-f-]{36})", out)
        assert m, out
        run, artifacts, deployment, limit = asyncio.run(_inspect(api_url, m.group(1)))

        by_key = {a.key: a for a in artifacts}
        backfill_md = str(by_key["xxgk-backfill"].data) if "xxgk-backfill" in by_key else "(no backfill artifact)"
        why = f"{run.state}\n{backfill_md}\n{worker_log.read_text()[-4000:]}"
        assert run.state.is_completed(), why
        assert "Failed years" not in backfill_md, why

        # The published marts, as a BI tool opens them.
        import duckdb

        marts = tmp_path / "data" / "marts.duckdb"
        con = duckdb.connect(str(marts), read_only=True)
        try:
            years = {y for (y,) in con.execute("select distinct year from dim_report").fetchall()}
            facts = con.execute("select count(*) from fact_application").fetchone()[0]
        finally:
            con.close()
        assert years == {2023, 2024}
        assert facts > 0

        # The artifacts explain every report's outcome.
        for year in (2023, 2024):
            table = by_key[f"xxgk-reports-{year}"]
            assert table.type == "table"
            assert "outcome" in str(table.data) and "published" in str(table.data)
            assert "marts.duckdb" in str(by_key[f"xxgk-summary-{year}"].data)
            assert by_key[f"xxgk-data-docs-{year}"].type in ("link", "markdown")
        assert "2023" in str(by_key["xxgk-backfill"].data) and "2024" in str(by_key["xxgk-backfill"].data)

        # The schedules exist on the scheduled deployment, in Shanghai time.
        crons = sorted((s.schedule.cron, s.schedule.timezone) for s in deployment.schedules)
        assert crons == [("0 6 * 1-4 *", "Asia/Shanghai"), ("0 6 * 5-12 1", "Asia/Shanghai")]
        assert limit.limit == 1
    finally:
        for proc in reversed(started):
            _stop(proc)
    assert all(p.poll() is not None for p in started)
