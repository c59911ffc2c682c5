"""Self-describing marts: comments on every table and column (DuckDB and Parquet), dim_code,
integer counts, year_start; and what a long-lived DuckDB 1.x reader sees across a publish."""

from __future__ import annotations

import json
import subprocess
import textwrap

import pyarrow.parquet as pq
from wh_helpers import checks_frame, corpus

from transforms import formatspec as fs
from warehouse import checks, describe, load, publish

INSPECT = r"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
q = lambda s: con.execute(s).fetchall()
print(json.dumps({
    "tables": q("SELECT table_name, comment FROM duckdb_tables() ORDER BY 1"),
    "columns": q("SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
                 "WHERE NOT internal ORDER BY table_name, column_index"),
    "unlabelled": q('''
        SELECT DISTINCT t, code FROM (
            SELECT 'active_disclosure' AS t, item AS code FROM fact_active_disclosure
            UNION ALL SELECT 'active_disclosure', measure FROM fact_active_disclosure
            UNION ALL SELECT 'applications', row_code FROM fact_application
            UNION ALL SELECT 'applications', applicant FROM fact_application
            UNION ALL SELECT 'review_litigation', proceeding FROM fact_review_litigation
            UNION ALL SELECT 'review_litigation', outcome FROM fact_review_litigation)
        WHERE (t, code) NOT IN (SELECT (table_code, code) FROM dim_code WHERE label_zh <> '')'''),
    "facts": q("SELECT count(*) FROM fact_application"),
}, default=str))
"""


def published(con, tmp_path):
    docs = corpus()
    load.load_documents(con, docs.values())
    checks.store_checks(con, checks_frame(list(docs.values())))
    return publish.publish(con, tmp_path / "home")


def test_every_published_table_and_column_is_described_in_duckdb1_and_parquet(con, tmp_path, duckdb1_python):
    s = published(con, tmp_path)
    r = subprocess.run([str(duckdb1_python), "-c", INSPECT, str(s.path)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert [t for t, _ in got["tables"]] == sorted(publish.TABLES)
    assert all(c and " / " in c for _t, c in got["tables"]), got["tables"]
    missing = [(t, c) for t, c, _type, comment in got["columns"] if not comment]
    assert not missing, f"columns without a comment (describe them in warehouse/describe.py): {missing}"
    # Chinese first, the English name after
    for _t, _c, _type, comment in got["columns"]:
        assert "\u4e00" <= comment[0] <= "\u9fff" or comment[0] in "(一二三四", comment
    types = {(t, c): ty for t, c, ty, _ in got["columns"]}
    for col in ("applications_received", "applications_processed", "granted", "denied", "review_total",
                "litigation_total", "delta_applications_received", "prev_granted"):
        assert types[("mart_agency_year", col)] == "BIGINT", col
        assert types[("mart_region_year", col)] == "BIGINT", col
    assert types[("mart_agency_year", "fees_10k_yuan")] == "DOUBLE"
    assert types[("fact_application", "value")] == types[("fact_review_litigation", "value")] == "BIGINT"
    assert types[("mart_agency_year", "year_start")] == types[("mart_quality", "year_start")] == "DATE"
    assert got["facts"][0][0] > 0 and got["unlabelled"] == []
    for t in publish.TABLES:
        table = pq.read_table(s.parquet_dir / f"{t}.parquet")
        for f in table.schema:
            assert f.metadata and f.metadata[b"description"].decode() == describe.column_comment(t, f.name), (t, f)


def test_dim_code_covers_every_code_of_the_format():
    rows = describe.code_rows()
    keys = {(t, k, c, tpl) for c, t, k, _label, tpl, _sort in rows}
    assert len(keys) == len(rows)  # one row per code, table, kind and template
    assert all(label for *_, label, _tpl, _sort in [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows])
    for path in fs.cell_paths(fs.F2019, fs.F2019) + fs.cell_paths(fs.F2021, fs.F2021):
        table, item, measure = path.split(".")
        codes = {c for c, t, *_ in rows if t == table}
        assert {item, measure} <= codes, path
    label = {(c, tpl): lab for c, t, k, lab, tpl, _ in rows if t == fs.APPLICATIONS and k == "row"}
    assert label[("denied_three_safeties", fs.F2021)] == '(三)3.危及"三安全一稳定"'


READER = textwrap.dedent(r"""
    import json, sys, duckdb
    path = sys.argv[1]
    count = lambda con, t="dim_report": con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
    held = duckdb.connect(path, read_only=True)          # a BI process holding the file
    print(json.dumps({"held": count(held)}), flush=True)
    sys.stdin.readline()                                   # ... a publish happens here
    out = {"held": count(held)}
    second = duckdb.connect(path, read_only=True)          # same process, same form
    out["new_connection_same_process"] = count(second)
    try:
        duckdb.connect(path, config={"access_mode": "read_only"})
        out["other_form"] = "opened"
    except duckdb.Error as e:
        out["other_form"] = str(e)
    fresh = duckdb.connect(":memory:")
    fresh.execute(f"ATTACH '{path}' AS marts (READ_ONLY)")
    out["attached_in_memory"] = count(fresh, "marts.dim_report")
    fresh.close()
    second.close()
    held.close()
    out["after_closing_all"] = count(duckdb.connect(path, read_only=True))
    print(json.dumps(out), flush=True)
""")


def test_long_lived_reader_process_across_a_publish(con, tmp_path, duckdb1_python):
    """What docs/BI.md says about long-lived BI processes, observed with DuckDB 1.x."""
    docs = corpus()
    home = tmp_path / "home"
    load.load_documents(con, [docs["A23"]])
    checks.store_checks(con, checks_frame([docs["A23"]]))
    s = publish.publish(con, home)
    reader = subprocess.Popen([str(duckdb1_python), "-c", READER, str(s.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert json.loads(reader.stdout.readline()) == {"held": 1}
        load.load_documents(con, [docs["A24"], docs["B24"]])
        checks.store_checks(con, checks_frame([docs["A24"], docs["B24"]]))
        publish.publish(con, home)
        out, err = reader.communicate("go\n", timeout=60)
    finally:
        reader.kill()
    got = json.loads(out.strip().splitlines()[-1]) if out.strip() else err
    assert got["held"] == 1  # an open connection keeps its snapshot
    assert got["new_connection_same_process"] == 1  # ... and hands it to new connections of the process
    assert "different configuration" in got["other_form"]  # one connection form per process
    assert got["attached_in_memory"] == 3  # a fresh in-memory database sees the new publish at once
    assert got["after_closing_all"] == 3  # so does the process once every connection is closed
