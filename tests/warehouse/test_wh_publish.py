"""Atomic publish: DuckDB 1.x storage, Parquet copies, readers during publishes, hostile names."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from wh_helpers import app, checks_frame, corpus, make_doc, make_report

from warehouse import checks, describe, load, publish


def load_and_check(con, docs):
    load.load_documents(con, docs)
    checks.store_checks(con, checks_frame(list(docs)))


def table_counts(path: Path) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as r:
        return {t: r.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in publish.TABLES}


def test_publish_writes_every_table_and_parquet_and_no_leftovers(con, tmp_path):
    home = tmp_path / "home"
    load_and_check(con, corpus().values())
    s = publish.publish(con, home)
    counts = table_counts(s.path)
    assert counts == s.rows
    assert counts["dim_report"] == counts["mart_quality"] == 5 and counts["mart_agency_year"] == 4
    for t in publish.TABLES:
        assert pq.read_table(home / "marts" / f"{t}.parquet").num_rows == counts[t], t
    assert sorted(p.name for p in home.iterdir()) == ["marts", "marts.duckdb"]
    assert not [p for p in (home / "marts").iterdir() if p.name.startswith(".")]
    with duckdb.connect(str(s.path), read_only=True) as r:
        cols = [c[0] for c in r.execute("DESCRIBE dim_report").fetchall()]
    assert cols == ["report_id", "agency_id", "year", "source_url", "content_sha256", "fetched_at",
                    "template_active_disclosure", "template_applications", "status"]
    # A publish of unchanged data gives the same tables.
    before = {t: pq.read_table(home / "marts" / f"{t}.parquet") for t in publish.TABLES}
    publish.publish(con, home)
    for t in publish.TABLES:
        assert pq.read_table(home / "marts" / f"{t}.parquet").equals(before[t]), t


def test_open_reader_keeps_working_across_a_publish(con, tmp_path):
    home = tmp_path / "home"
    docs = corpus()
    load_and_check(con, [docs["A23"]])
    publish.publish(con, home)
    reader = duckdb.connect(str(home / "marts.duckdb"), read_only=True)
    try:
        assert reader.execute("SELECT count(*) FROM dim_report").fetchone()[0] == 1
        load_and_check(con, [docs["A24"], docs["B24"]])
        publish.publish(con, home)
        # The open connection still reads its snapshot; a new one sees the new file.
        assert reader.execute("SELECT count(*) FROM dim_report").fetchone()[0] == 1
        assert reader.execute("SELECT count(*) FROM fact_application").fetchone()[0] == 175
    finally:
        reader.close()
    assert table_counts(home / "marts.duckdb")["dim_report"] == 3


def test_hostile_agency_name_loads_as_a_name(con, tmp_path):
    name = "'; DROP TABLE stg_document; --"
    doc = make_doc(make_report(name, 2024, {**app("new_received", natural_person=2),
                                            **app("granted", natural_person=2),
                                            **app("total_processed", natural_person=2)}),
                   province="O'Brien\"省", city="x'); DELETE FROM stg_cell; --", parent='"; DROP TABLE x; --')
    load_and_check(con, [doc])
    assert load.load_documents(con, [doc]).unchanged == 1
    assert con.execute("SELECT agency FROM stg_document").fetchall() == [(name,)]
    assert con.execute("SELECT count(*) FROM stg_cell").fetchone()[0] == 200
    s = publish.publish(con, tmp_path / "it's home")  # a quote in the path as well
    with duckdb.connect(str(s.path), read_only=True) as r:
        assert r.execute("SELECT name, province, city FROM dim_agency").fetchall() == [
            (name, "O'Brien\"省", "x'); DELETE FROM stg_cell; --")]
        assert r.execute("SELECT agency, applications_received FROM mart_agency_year").fetchall() == [(name, 2)]


READ_ALL = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
out = {"version": duckdb.__version__, "tables": {}}
for (t,) in con.execute("SELECT table_name FROM information_schema.tables ORDER BY 1").fetchall():
    rows = con.execute(f"SELECT * FROM {t}").fetchall()
    out["tables"][t] = len(rows)
out["rate"] = con.execute(
    "SELECT disclosure_rate FROM mart_agency_year WHERE agency = '甲市' AND year = 2024").fetchone()[0]
print(json.dumps(out))
"""


@pytest.mark.slow
def test_published_file_opens_with_duckdb_1x(con, tmp_path, duckdb1_python):
    load_and_check(con, corpus().values())
    s = publish.publish(con, tmp_path / "home")
    res = subprocess.run([str(duckdb1_python), "-c", READ_ALL, str(s.path)], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["version"].startswith("1.")
    assert out["tables"] == s.rows  # every contract table, every row
    assert out["rate"] == pytest.approx(0.75)


READER = """
import duckdb, sys, time, json
import os
path, stop, ready = sys.argv[1], sys.argv[2], sys.argv[3]
os.nice(10)  # the publisher goes first on CI's two cores; readers use what is left
ok = failed = 0
errors = []
while not os.path.exists(stop):
    try:
        con = duckdb.connect(path, read_only=True, config={"threads": 1})
        try:
            n_report, n_quality = con.execute(
                "SELECT (SELECT count(*) FROM dim_report), (SELECT count(*) FROM mart_quality)").fetchone()
            con.execute("SELECT city, avg(disclosure_rate) FROM mart_agency_year GROUP BY city").fetchall()
            con.execute("SELECT count(*) FROM fact_application JOIN dim_report USING (report_id)").fetchone()
            if n_report != n_quality:  # one snapshot: both tables come from the same publish
                raise AssertionError(f"torn snapshot {n_report} != {n_quality}")
        finally:
            con.close()
        ok += 1
        if ok == 1:
            open(ready, "w").close()
        time.sleep(0.02)
    except Exception as exc:
        failed += 1
        errors.append(repr(exc)[:300])
print(json.dumps({"ok": ok, "failed": failed, "errors": errors[:5], "version": duckdb.__version__}))
"""


@pytest.mark.slow
def test_readers_never_fail_during_publishes(con, tmp_path, duckdb1_python):
    """3 readers on the main venv and one on DuckDB 1.x (what BI tools ship) query while we publish."""
    home = tmp_path / "home"
    docs = list(corpus().values())
    con.execute("SET threads = 1")  # the readers and the publisher share two CI cores
    load_and_check(con, docs[:1])
    publish.publish(con, home)
    stop = tmp_path / "stop"
    pythons = [sys.executable] * 3 + [str(duckdb1_python)]
    ready = [tmp_path / f"ready-{i}" for i in range(len(pythons))]
    readers = [subprocess.Popen([py, "-c", READER, str(home / "marts.duckdb"), str(stop), str(r)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for py, r in zip(pythons, ready, strict=True)]
    try:
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready):  # every reader is querying before the first publish
            assert time.monotonic() < deadline and all(p.poll() is None for p in readers), "readers did not start"
            time.sleep(0.05)
        seen = []
        for i in range(12):
            # the data changes between publishes: new reports, then new versions of them
            extra = make_doc(make_report(f"机关{i}", 2024, app("new_received", natural_person=i)))
            load_and_check(con, [docs[1 + i % 4], extra])
            seen.append(publish.publish(con, home).rows["dim_report"])
    finally:
        stop.touch()
        results = [json.loads(p.communicate(timeout=60)[0]) for p in readers]
    assert seen[-1] == 5 + 12
    assert [r["version"] for r in results] == [duckdb.__version__] * 3 + [results[-1]["version"]]
    assert results[-1]["version"].startswith("1.")
    for r in results:
        assert r["failed"] == 0, r["errors"]
        assert r["ok"] >= 10  # they kept querying through the publishes


def test_publish_of_an_empty_warehouse_has_every_table(con, tmp_path):
    s = publish.publish(con, tmp_path / "home")
    assert (s.published, s.quarantined) == (0, 0)
    counts = table_counts(s.path)
    assert counts.pop("dim_code") == len(describe.code_rows())  # the codes do not depend on the data
    assert counts == dict.fromkeys(set(publish.TABLES) - {"dim_code"}, 0)


def published_rows(path: Path, tables) -> dict[str, list[tuple]]:
    with duckdb.connect(str(path), read_only=True) as r:
        return {t: r.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}


def test_alongside_reads_the_marts_as_published_and_hears_the_outcome(con, tmp_path, monkeypatch):
    home = tmp_path / "home"
    load_and_check(con, corpus().values())
    seen: dict = {}

    def alongside(early: Path):
        seen["early"] = published_rows(early, publish.SITE_TABLES)  # while the facts are still to copy
        seen["published before"] = (home / "marts.duckdb").exists()

        def done(published: bool) -> None:
            seen["published"] = published
            seen["in place"] = (home / "marts.duckdb").exists()
        return done

    s = publish.publish(con, home, alongside=alongside)
    assert seen["published"] is True and seen["in place"] and not seen["published before"]
    assert seen["early"] == published_rows(s.path, publish.SITE_TABLES)  # the same rows, in the same order
    assert seen["early"]["dim_report"] and seen["early"]["mart_quality"]
    assert sorted(p.name for p in home.iterdir()) == ["marts", "marts.duckdb"]  # the early file is gone

    # A publish that fails after the early file was handed over: told so, nothing left behind.
    before = (home / "marts.duckdb").read_bytes()
    seen.clear()

    def broken_parquet(*_a):
        raise OSError("disk full")

    monkeypatch.setattr(publish, "write_parquet", broken_parquet)
    with pytest.raises(OSError, match="disk full"):
        publish.publish(con, home, alongside=alongside)
    assert seen["published"] is False and "early" in seen
    assert (home / "marts.duckdb").read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["marts", "marts.duckdb"]
