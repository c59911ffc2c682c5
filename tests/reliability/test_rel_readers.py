"""Concurrent readers: BI-style processes query marts.duckdb in a loop while the pipeline
runs and publishes again and again (with changing data). Zero failed queries; each query
sees one consistent publish (every published report has its facts, and no fact belongs to
an unpublished report).

The warehouse's own test (tests/warehouse/test_wh_publish.py) drives warehouse.publish
directly; this drill drives whole pipeline runs, as the scheduled deployment does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import rel_marts as rm
from rel_site import Site, registry, report_page

from flows.plan import run_year
from flows.settings import Settings

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

READER = r"""
import json, os, sys, time
import duckdb
path, stop, ready, mode = sys.argv[1:5]
QUERIES = [
    # BI dashboards: headline figures by region and year, a drill-down join, the quality page.
    "SELECT province, year, sum(applications_received), avg(disclosure_rate) FROM mart_agency_year GROUP BY ALL",
    "SELECT a.name, r.year, sum(f.value) FROM fact_application f JOIN dim_report r USING (report_id) "
    "JOIN dim_agency a USING (agency_id) WHERE f.applicant = 'total' GROUP BY ALL ORDER BY 3 DESC LIMIT 20",
    "SELECT status, count(*), sum(checks_failed) FROM mart_quality GROUP BY status",
]
# One publish, whole: the published reports and the reports that have facts are the same set.
CONSISTENT = ("SELECT count(*) FROM (SELECT DISTINCT report_id FROM fact_application) f "
              "FULL JOIN (SELECT report_id FROM dim_report WHERE status = 'published') d USING (report_id) "
              "WHERE f.report_id IS NULL OR d.report_id IS NULL")
ok = failed = inconsistent = 0
errors = []
con = None
n = 0
while not os.path.exists(stop):
    try:
        if con is None or mode == "reconnect" or n % 25 == 0:  # "long": a dashboard keeping its connection
            if con is not None:
                con.close()
            con = duckdb.connect(path, read_only=True)
        for q in QUERIES:
            con.execute(q).fetchall()
            ok += 1
        if con.execute(CONSISTENT).fetchone()[0] != 0:
            inconsistent += 1
        ok += 1
    except Exception as e:
        failed += 1
        errors.append(f"{type(e).__name__}: {e}"[:300])
        con = None
    n += 1
    if n == 1:
        open(ready, "w").close()
    time.sleep(0.01)
print(json.dumps({"ok": ok, "failed": failed, "inconsistent": inconsistent, "errors": errors[:5],
                  "version": duckdb.__version__}))
"""


def test_readers_never_fail_while_runs_publish(tmp_path, scale, figures):
    site = Site()
    home = tmp_path / "home"
    reg = tmp_path / "registry.csv"
    agencies = [f"读者局{i}" for i in range(6)]

    def serve(run: int) -> None:
        # Each run changes the data: one report is revised, one appears, one fails.
        rows = []
        for i, agency in enumerate(agencies[: 3 + run % 4]):
            seed = i + (1000 * run if i == run % 3 else 0)
            _rep, page = report_page(agency, seed=seed)
            rows.append((agency, 2024, site.page(f"/r{i}-{seed}.html", page)))
        registry(reg, rows)

    settings = Settings().with_overrides(home=home, sources=str(reg), min_delay=0.0, retries=0, timeout=5.0)
    serve(0)
    run_year(2024, settings)
    stop, pythons = tmp_path / "stop", [sys.executable, sys.executable]
    if rm.DUCKDB1_PY.exists():
        pythons.append(str(rm.DUCKDB1_PY))  # what BI tools ship
    modes = ["reconnect", "long", "reconnect"]
    ready = [tmp_path / f"ready{i}" for i in range(len(pythons))]
    readers = [subprocess.Popen([py, "-c", READER, str(home / "marts.duckdb"), str(stop), str(r), m],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for py, r, m in zip(pythons, ready, modes, strict=False)]
    runs = 0
    try:
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready):
            assert time.monotonic() < deadline and all(p.poll() is None for p in readers), "readers did not start"
            time.sleep(0.05)
        t_end = time.monotonic() + scale.reader_seconds
        while runs < 2 or time.monotonic() < t_end:
            runs += 1
            serve(runs)
            s = run_year(2024, settings)
            assert s.published, s.gate_reason
    finally:
        stop.touch()
        results = [json.loads(p.communicate(timeout=60)[0] or "{}") for p in readers]
        site.close()
    served = sum(r.get("ok", 0) for r in results)
    figures["readers"] = {"processes": len(readers), "publishes": runs, "queries_served": served,
                          "failed": sum(r.get("failed", 0) for r in results),
                          "inconsistent": sum(r.get("inconsistent", 0) for r in results),
                          "versions": sorted({r.get("version") for r in results})}
    for r in results:
        assert r.get("failed") == 0, r.get("errors")
        assert r.get("inconsistent") == 0
        assert r.get("ok", 0) >= 20
    assert rm.duplicates(home / "marts.duckdb") == dict.fromkeys(rm.KEYED, 0)
