"""The parse batches on a Dask cluster (XXGK_TASK_RUNNER=dask) give what the default runner gives.

A small generated corpus (benchmarks.corpus, no PDF) is served on loopback; etl_year runs
once with the default task runner and once on an in-process Dask cluster reached through
XXGK_DASK_ADDRESS (the "existing cluster" path), in separate data folders, with the parse
chunks made small so that several run in parallel. The per-report outcomes and the
published marts must be identical, and the Dask scheduler must have run the parse tasks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest

from flows import etl

# benchmarks/ is a folder of scripts, not an installed package: import it from the checkout.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from benchmarks.corpus import generate, registry_for  # noqa: E402
from benchmarks.serve_corpus import serve_corpus  # noqa: E402

pytestmark = pytest.mark.slow

MART_QUERIES = {
    "mart_agency_year": "SELECT * FROM mart_agency_year ORDER BY agency_id, year",
    "fact_application": "SELECT * FROM fact_application ORDER BY ALL",
    "mart_quality": "SELECT report_id, status, checks_passed, checks_failed FROM mart_quality ORDER BY report_id",
}


def _marts(path: str) -> dict[str, list]:
    con = duckdb.connect(path, read_only=True)
    try:
        return {name: con.execute(sql).fetchall() for name, sql in MART_QUERIES.items()}
    finally:
        con.close()


def test_dask_runner_gives_the_default_runners_results(prefect_harness, xxgk_env, tmp_path, monkeypatch):
    from distributed import LocalCluster

    generate(10, tmp_path / "corpus", seed=7, pdf_share=0.0, error_share=0.2)
    monkeypatch.setattr(etl, "PARSE_CHUNK", 3)  # 4 chunks: parallel work for the cluster
    # Prefect's task cache would hand the second run the first run's parse results.
    monkeypatch.setattr(etl, "parse_task", etl.parse_task.with_options(refresh_cache=True))
    monkeypatch.setenv("XXGK_MIN_DELAY", "0")
    monkeypatch.setenv("XXGK_MAX_PER_HOST", "4")
    results = {}
    with serve_corpus(tmp_path / "corpus") as base, \
            LocalCluster(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
        registry = str(registry_for(tmp_path / "corpus", base, tmp_path / "registry.csv"))
        for runner in ("default", "dask"):
            monkeypatch.setenv("XXGK_HOME", str(tmp_path / runner))
            monkeypatch.setenv("XXGK_TASK_RUNNER", runner)
            if runner == "dask":
                monkeypatch.setenv("XXGK_DASK_ADDRESS", cluster.scheduler_address)
            results[runner] = etl.etl_year(year=2024, sources=registry)
        ran_on_dask = [p for p in cluster.scheduler.task_prefixes if "parse" in p]

    default, dask = results["default"], results["dask"]
    assert ran_on_dask, f"no parse task reached the Dask scheduler: {list(cluster.scheduler.task_prefixes)}"
    assert default["counts"]["parsed"] == 10 and default["counts"]["parse_cached"] == 0
    assert 0 < default["counts"]["quarantined"] < 10  # the planted errors
    assert dask["counts"] == default["counts"]

    def outcomes(res):
        return sorted((r["agency"], r["outcome"], r["reasons"], r["report_id"]) for r in res["reports"])

    assert outcomes(dask) == outcomes(default)
    assert _marts(dask["marts_path"]) == _marts(default["marts_path"])
