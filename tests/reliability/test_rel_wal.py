"""Fault 2 (issue 18): what a BI tool leaves beside marts.duckdb changes nothing later.

DBeaver opens DuckDB files read-write by default. A user who deletes rows and creates a view,
and whose connection then dies, leaves marts.duckdb.wal beside the file. The next publish is
not read through it (nor refused because of it), and ``xxgk status`` works while a read-write
connection is open.
"""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest
import rel_marts as rm
from rel_faults import fast_settings
from rel_site import Site, registry, report_page

from flows.commands.published import status_data
from flows.plan import run_year

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
YEAR = 2024

BI_EDIT = """
import duckdb, os, sys
con = duckdb.connect(sys.argv[1], config={"checkpoint_threshold": "1TB"})  # the edit stays in the WAL
con.execute("DELETE FROM fact_application")
con.execute("CREATE OR REPLACE VIEW my_view AS SELECT 1 AS x")
print("edited", flush=True)
if sys.argv[2] == "die":
    os._exit(0)  # the connection dies: no checkpoint, the WAL stays
sys.stdin.readline()  # hold the read-write connection (and its lock) until told
os._exit(0)
"""


def bi_tool(path, mode: str) -> subprocess.Popen:
    p = subprocess.Popen([sys.executable, "-c", BI_EDIT, str(path), mode], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "edited"
    return p


def test_a_readers_wal_and_lock_change_nothing_later(tmp_path):
    site = Site()
    try:
        rows = []
        for i in range(2):
            _, page = report_page(f"读者局{i}", seed=i)
            rows.append((f"读者局{i}", YEAR, site.page(f"/r{i}.html", page)))
        settings = fast_settings(tmp_path / "home", registry(tmp_path / "registry.csv", rows))
        run_year(YEAR, settings)
        marts = settings.marts_path
        published = rm.facts(marts)
        assert published["fact_application"]

        # A read-write connection is open and has edited the file: status still answers, with the publish.
        holder = bi_tool(marts, "hold")
        try:
            st = status_data(marts)
            assert st["tables"]["fact_application"] == len(published["fact_application"])
            assert "my_view" not in st["tables"]
        finally:
            holder.stdin.write("\n")
            holder.stdin.close()
            holder.wait(timeout=30)

        # The connection died without a checkpoint: its WAL stays beside the published file.
        bi_tool(marts, "die").wait(timeout=30)
        wal = marts.with_name(marts.name + ".wal")
        assert wal.exists()
        st = status_data(marts)
        assert st["tables"]["fact_application"] == len(published["fact_application"])
        assert "my_view" not in st["tables"]

        # The next publish is whole: nothing of the edit, no WAL, readers open it.
        run_year(YEAR, settings.with_overrides(full_run=True))
        assert not wal.exists()
        assert rm.facts(marts) == published
        with duckdb.connect(str(marts), read_only=True) as con:
            names = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        assert "my_view" not in names
        if rm.DUCKDB1_PY.exists():
            assert rm.opens_with_duckdb1(marts) is None
    finally:
        site.close()
    assert os.listdir(marts.parent)  # the home is still there for inspection on failure
