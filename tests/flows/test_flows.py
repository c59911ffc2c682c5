"""The Prefect flows on the bundled samples (through the deployments' entry flows, which serve
them), under one prefect_test_harness per session."""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import duckdb
import pytest

from flows import etl, writerlimit
from flows.commands import deployments
from flows.outcomes import NothingPublished
from flows.steps.fetching import load_sources

pytestmark = pytest.mark.slow


def _artifacts(keys: list[str], flow_run_id=None):
    """The artifacts of one flow run (other tests in the session create the same keys)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    flt = ArtifactFilter(key=ArtifactFilterKey(any_=keys))
    if flow_run_id is not None:
        flt.flow_run_id = ArtifactFilterFlowRunId(any_=[flow_run_id])

    async def read():
        async with get_client() as client:
            return await client.read_artifacts(artifact_filter=flt)

    return {a.key: a for a in asyncio.run(read())}


def test_etl_year_publishes_and_explains_each_report(prefect_harness, xxgk_env, monkeypatch):
    # One samples server for the three runs: the entry flow's own server takes a fixed port when it is
    # free and any port otherwise, and a re-run under another port would see other URLs (new versions).
    from testkit.serve import serve_samples

    with serve_samples(port=0) as base:
        monkeypatch.setenv("XXGK_SAMPLES_BASE", base)
        _publishes_and_explains_each_report(monkeypatch)


def _publishes_and_explains_each_report(monkeypatch):
    state = deployments.etl_year(year=2024, return_state=True)
    result = state.result()

    c = result["counts"]
    assert c["sources"] == 6 and c["fetched"] == 6 and c["parsed"] == 6
    assert c["published"] + c["quarantined"] == c["parsed"]
    rows = result["reports"]
    assert all(r["outcome"] in ("published", "quarantined") for r in rows)
    assert all(r["reasons"] for r in rows if r["outcome"] == "quarantined")
    if result["published"]:
        con = duckdb.connect(result["marts_path"], read_only=True)
        try:
            years = {y for (y,) in con.execute("select distinct year from dim_report").fetchall()}
        finally:
            con.close()
        assert years == {2024}

    arts = _artifacts(["xxgk-reports-2024", "xxgk-summary-2024", "xxgk-data-docs-2024"],
                      state.state_details.flow_run_id)
    assert arts["xxgk-reports-2024"].type == "table"
    table = json.loads(arts["xxgk-reports-2024"].data)
    assert {(r["agency"], r["outcome"], r["reasons"]) for r in table} == {
        (r["agency"], r["outcome"], r["reasons"]) for r in rows}
    assert "marts" in str(arts["xxgk-summary-2024"].data)
    assert "xxgk-data-docs-2024" in arts

    # A rerun with nothing changed keeps the first run's outcomes and does not write anything.
    marts = Path(result["marts_path"])
    before = marts.stat().st_mtime_ns
    again = deployments.etl_year(year=2024)
    assert again["counts"]["parse_cached"] == 6 and again["counts"]["not_modified"] == 6
    assert again["unchanged_since"]
    assert {(r["agency"], r["outcome"], r["reasons"]) for r in again["reports"]} == {
        (r["agency"], r["outcome"], r["reasons"]) for r in rows}
    assert marts.stat().st_mtime_ns == before

    # XXGK_FULL_RUN: every step again; parsing still comes from the caches.
    monkeypatch.setenv("XXGK_FULL_RUN", "1")
    full = deployments.etl_year(year=2024)
    assert full["unchanged_since"] is None and full["counts"]["parse_cached"] == 6
    assert marts.stat().st_mtime_ns != before


def test_backfill_runs_years_in_order_and_survives_a_failing_year(prefect_harness, xxgk_env, monkeypatch):
    real = load_sources

    def broken_2023(settings, year, samples_base=None):
        if year == 2023:
            raise RuntimeError("stand-in: the registry of 2023 is unreachable")
        return real(settings, year, samples_base=samples_base)

    monkeypatch.setattr("flows.plan.load_sources", broken_2023)
    monkeypatch.setattr(etl.STEP_TASKS["fetch"], "retries", 0)
    state = deployments.backfill(start=2022, end=2024, return_state=True)
    assert state.is_failed() and "2023" in state.message  # the scheduler's alert fires
    out = state.result(raise_on_failure=False).result

    assert out["years"] == [2022, 2023, 2024]
    assert out["completed"] == [2022, 2024]
    assert list(out["failed"]) == ["2023"] and "unreachable" in out["failed"]["2023"]
    assert out["results"]["2024"]["counts"]["sources"] == 6
    backfill_md = str(_artifacts(["xxgk-backfill"])["xxgk-backfill"].data)
    assert "Failed years:** 2023" in backfill_md


def test_a_run_that_publishes_nothing_ends_failed_with_the_reason(prefect_harness, xxgk_env, tmp_path, monkeypatch):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    reg = tmp_path / "dead.csv"
    reg.write_text(f"agency,year,url\n甲市,2024,http://127.0.0.1:{port}/a.html\n", encoding="utf-8")
    monkeypatch.setenv("XXGK_RETRIES", "0")
    monkeypatch.setattr(etl.STEP_TASKS["fetch"], "retries", 0)
    state = etl.etl_year(year=2024, sources=str(reg), return_state=True)
    assert state.is_failed()
    assert state.message == "nothing published for 2024: nothing fetched: all 1 fetch(es) failed"
    data = state.result(raise_on_failure=False)
    assert isinstance(data, NothingPublished) and data.summary["counts"]["failed"] == 1
    summary = str(_artifacts(["xxgk-summary-2024"], state.state_details.flow_run_id)["xxgk-summary-2024"].data)
    assert "**Nothing published:** nothing fetched" in summary


def test_a_bad_registry_fails_once_with_its_own_message(prefect_harness, xxgk_env, tmp_path, monkeypatch):
    reg = tmp_path / "bad.csv"
    reg.write_text("agency,year,url\n甲市,20x4,http://127.0.0.1/a.html\n", encoding="utf-8")
    calls = []
    real = load_sources

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr("flows.plan.load_sources", counting)
    state = etl.etl_year(year=2024, sources=str(reg), return_state=True)
    assert state.is_failed() and "bad.csv" in state.message and "line" in state.message
    assert len(calls) == 1  # the fetch task has retries, but not for this


def test_resolve_years():
    assert etl.resolve_years([2024, 2022, 2024]) == [2022, 2024]
    assert etl.resolve_years(start=2019, end=2021) == [2019, 2020, 2021]
    assert etl.resolve_years(start=2020) == [2020]
    with pytest.raises(ValueError, match="before start"):
        etl.resolve_years(start=2024, end=2020)
    assert etl.resolve_years() == [etl.previous_year()]


def test_warehouse_writes_wait_for_the_global_concurrency_limit(prefect_harness, xxgk_env):
    import threading
    import time

    from prefect.concurrency.sync import concurrency

    writerlimit.ensure_writer_limit()
    result: dict = {}
    run = threading.Thread(target=lambda: result.update(deployments.etl_year(year=2023)), daemon=True)
    with concurrency(writerlimit.WRITER_LIMIT, occupy=1):  # another writer holds the only slot
        run.start()
        manifest = xxgk_env / "raw" / "manifest.jsonl"
        deadline = time.monotonic() + 120
        while not manifest.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert manifest.exists(), "the flow never fetched"
        time.sleep(4)  # fetch and parse take well under a second here; the load must still wait
        assert run.is_alive()
        assert not (xxgk_env / "warehouse.duckdb").exists(), "the warehouse was written while the slot was held"
    run.join(timeout=180)
    assert result["counts"]["parsed"] == 1 and (xxgk_env / "warehouse.duckdb").exists()


def test_a_sync_flow_run_does_not_wait_for_its_heartbeat_thread(monkeypatch):
    # Prefect 3.8 joins the heartbeat thread at the end of a sync run, which sleeps in whole seconds
    # (0-1 s of every run); flows/etl.py has the engine leave it as the async engine does. A Prefect
    # without this function or parameter fails here, so that the change is looked at again.
    from prefect import flow_engine

    assert etl.HEARTBEATS_NOT_JOINED
    patched = flow_engine._send_heartbeats
    assert patched.xxgk_not_joined
    calls = []

    @contextlib.contextmanager
    def original(engine, join_on_exit=True):
        calls.append(join_on_exit)
        yield

    monkeypatch.setattr(patched, "__wrapped__", original)
    with patched(object()):
        pass
    with patched(object(), join_on_exit=True):
        pass
    assert calls == [False, False]



def test_the_plans_step_tasks_never_persist_the_run():
    """The run goes from step to step in the flow's process; it holds the validators' futures after the load
    (flows/steps/validation.py), which a result store could not keep: not persisted, whatever the user's
    PREFECT_RESULTS_PERSIST_BY_DEFAULT."""
    assert etl.STEP_TASKS and all(t.persist_result is False for t in etl.STEP_TASKS.values())


def test_parse_tasks_are_few_on_threads_and_small_on_dask():
    from flows.settings import load_settings

    threads = load_settings().with_overrides(task_runner="default")
    dask = load_settings().with_overrides(task_runner="dask")
    assert etl.chunk_size(5, threads) == etl.PARSE_CHUNK
    assert etl.chunk_size(10_000, threads) == 1250  # 8 tasks of bookkeeping, not 50
    assert -(-10_001 // etl.chunk_size(10_001, threads)) == etl.PARSE_TASKS
    assert etl.chunk_size(10_000, dask) == etl.PARSE_CHUNK  # the cluster's parallel work


def test_a_parse_chunk_is_cached_by_prefect_under_its_documents(prefect_harness, xxgk_env, monkeypatch):
    # The chunk goes to the task quoted (Prefect does not walk its 1,250 dicts): the task and its cache
    # key still get the list itself, so a chunk parsed before comes back Cached, another one does not.
    from prefect import flow

    from flows.settings import load_settings
    from flows.steps import parsing

    calls = []

    def parse_batch(items, settings, progress=None):
        calls.append([it["sha256"] for it in items])
        return {it["sha256"]: {"ok": True, "error": None, "cached": False} for it in items}

    monkeypatch.setattr(parsing, "parse_batch", parse_batch)
    chunk = [{"sha256": f"{i:064x}", "agency": "甲市", "year": 2024, "content_type": "text/html"} for i in range(3)]
    other = [dict(chunk[0], sha256="f" * 64)]

    @flow
    def twice() -> list:
        settings = load_settings()
        return [etl.parse_chunks([chunk], settings), etl.parse_chunks([chunk], settings),
                etl.parse_chunks([other], settings)]

    first, again, changed = twice()
    assert calls == [[it["sha256"] for it in chunk], ["f" * 64]]
    assert not any(v["cached"] for v in first.values()) and set(again) == set(first)
    assert all(v["cached"] for v in again.values()) and not changed["f" * 64]["cached"]


def test_the_report_table_is_posted_aside_and_again_when_that_failed(monkeypatch):
    import threading

    from flows import runartifacts
    from flows.outcomes import RunSummary

    posts, failures = [], [1]

    def post(summary):
        posts.append(threading.current_thread().name)
        if failures:
            failures.pop()
            raise ConnectionError("stand-in: the API did not answer")

    monkeypatch.setattr(runartifacts, "create_report_table", post)
    summary = RunSummary(year=2024)
    table = runartifacts.ReportTable()
    table.start(summary)
    table.start(summary)  # once only
    table.finish(summary)
    assert posts == ["xxgk-report-table", threading.current_thread().name]

    posts.clear()
    runartifacts.ReportTable().finish(summary)  # never started (the run stopped before the Data Docs): posted now
    assert posts == [threading.current_thread().name]


def test_the_flows_module_is_imported_with_the_collector_off_and_left_as_it_was():
    import gc

    from flows.commands.common import import_etl

    assert gc.isenabled()
    assert import_etl() is etl and gc.isenabled()
    gc.disable()
    try:
        assert import_etl() is etl and not gc.isenabled()
    finally:
        gc.enable()
