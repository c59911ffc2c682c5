"""Kill drill aimed at the publish itself: a process publishing in a loop (alternately two
different versions of the marts) is SIGKILLed at seeded random moments, many times.

The pipeline-level drill (test_rel_kill_drills.py) spends most of its time in the steps
before the publish; this one lands kills inside warehouse.publish (temporary files left
behind prove it). After every kill marts.duckdb is exactly one of the two versions and
opens read-only (also with DuckDB 1.x); every Parquet file reads whole; the next publish
clears the leftovers.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest
import rel_marts as rm
from rel_site import report_page

from transforms import checks as tchecks
from transforms.parse import parse_report
from warehouse import checks, db, load, publish

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

PUBLISHER = r"""
import sys
from warehouse import db, publish
wh, home, victim = sys.argv[1:4]
con = db.connect(wh)
print("ready", flush=True)
i = 0
while True:
    publish.publish(con, home, set() if i % 2 else {victim})
    print("published", flush=True)
    i += 1
"""


def build_warehouse(path) -> list[str]:
    con = db.connect(path)
    db.init_schema(con)
    docs = []
    for i in range(5):
        rep, page = report_page(f"发布局{i}", seed=i)
        docs.append(load.Document(
            agency=f"发布局{i}", year=2024, source_url=f"http://127.0.0.1/{i}.html",
            content_sha256=hashlib.sha256(page).hexdigest(), fetched_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
            province="贵州省", report=parse_report(page, agency=f"发布局{i}", year=2024), parser_version="drill"))
    load.load_documents(con, docs)
    rows = [{"report_id": d.report_id, "check_id": r.check_id, "scope": r.scope, "severity": r.severity,
             "status": r.status, "expected": r.expected, "actual": r.actual, "detail": r.detail}
            for d in docs for r in tchecks.evaluate(d.report)]
    checks.store_checks(con, pd.DataFrame(rows))
    con.close()
    return [d.report_id for d in docs]


def test_kills_inside_publish_leave_one_whole_version(tmp_path, scale, figures):
    wh = tmp_path / "warehouse.duckdb"
    ids = build_warehouse(wh)
    victim = ids[0]
    versions = {}
    for name, quarantined in (("all", set()), ("held", {victim})):
        home = tmp_path / f"v-{name}"
        con = db.connect(wh)
        t0 = time.monotonic()
        publish.publish(con, home, quarantined)
        publish_seconds = time.monotonic() - t0
        con.close()
        versions[name] = rm.facts(home / "marts.duckdb")
    assert versions["all"] != versions["held"]
    home = tmp_path / "home"
    shutil.copytree(tmp_path / "v-all", home)
    n_kills = 30 if scale.full else scale.kill_points
    rng = random.Random(7)
    log, problems = [], []
    k = -1
    # Until n_kills, and on until one kill has landed mid-publish (timing on a busy machine varies).
    while k + 1 < n_kills or (not any(e["temp_files"] for e in log) and k + 1 < 3 * n_kills):
        k += 1
        child = subprocess.Popen([sys.executable, "-c", PUBLISHER, str(wh), str(home), victim],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=str(rm.REPO),
                                 start_new_session=True)
        assert child.stdout.readline().strip() == "ready", child.stderr.read()[-1000:]
        t_ready = time.monotonic()
        # After the first publish of this child (it quarantines the victim), kill at a random
        # moment of the next one, whose length the first one gives.
        assert child.stdout.readline().strip() == "published", child.stderr.read()[-1000:]
        took = time.monotonic() - t_ready
        delay = rng.uniform(0, 1.2 * took)
        time.sleep(delay)
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
        temps = sorted(p.name for p in [*home.glob(".marts.duckdb.tmp-*"), *(home / "marts").glob(".*.tmp-*")])
        try:
            now = rm.facts(home / "marts.duckdb")
            which = next((n for n, v in versions.items() if v == now), "neither")
        except Exception as e:  # noqa: BLE001 - reported below with the kill's delay
            which = f"unreadable: {e}"
        if which not in versions:
            problems.append(f"kill {k} at +{delay:.3f} s: marts.duckdb is {which}")
        why = rm.opens_with_duckdb1(home / "marts.duckdb") if k % 4 == 0 else None
        if why:
            problems.append(f"kill {k}: DuckDB 1.x cannot open marts.duckdb: {why}")
        parquet_versions = set()
        for pf in sorted((home / "marts").glob("*.parquet")):
            try:
                rows = pq.read_table(pf).num_rows
            except Exception as e:  # noqa: BLE001
                problems.append(f"kill {k}: {pf.name} does not read: {e}")
                continue
            if pf.name == "dim_report.parquet":
                parquet_versions.add(rows)
        log.append({"delay": round(delay, 3), "marts": which, "temp_files": len(temps)})
    # The next publish clears the leftovers of the killed ones.
    con = db.connect(wh)
    publish.publish(con, home, set())
    con.close()
    left = sorted(p.name for p in [*home.glob(".marts.duckdb.tmp-*"), *(home / "marts").glob(".*.tmp-*")])
    figures["publish_kills"] = {"kills": len(log), "publish_seconds": round(publish_seconds, 3),
                                "killed_mid_publish": sum(e["temp_files"] > 0 for e in log),
                                "marts_after_kill": {v: sum(e["marts"] == v for e in log) for v in versions},
                                "problems": len(problems)}
    assert not problems, "\n".join(problems)
    assert left == [], f"temporary files survive a completed publish: {left}"
    assert rm.facts(home / "marts.duckdb") == versions["all"]
    # The kills did land inside publishes: temporary files were found.
    assert sum(e["temp_files"] > 0 for e in log) >= 1, log
