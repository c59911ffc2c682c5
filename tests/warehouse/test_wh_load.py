"""Loading: bulk, idempotent, versioned; staging frames; check storage; the code table."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from wh_helpers import app, checks_frame, corpus, make_doc, make_report

from transforms import formatspec as fs
from transforms.records import PROVENANCES
from warehouse import checks, db, load

STAGING_TABLES = ("stg_document", "stg_table", "stg_cell", "stg_finding", "stg_narrative", "chk_result",
                  "report_status")


def snapshot(con) -> dict[str, pd.DataFrame]:
    out = {}
    for t in STAGING_TABLES:
        df = con.execute(f"SELECT * FROM {t}").df()
        out[t] = df.sort_values(list(df.columns)[:4]).reset_index(drop=True)
    return out


def test_dim_code_is_the_formatspec_cells(con):
    n = con.execute("SELECT count(*) FROM dim_code").fetchone()[0]
    expected = sum(len(fs.cell_paths(t, t)) for t in fs.TEMPLATES) - len(fs.RL_GROUPS) * len(fs.RL_OUTCOMES)
    assert n == expected == 10 + 175 + 22 + 161 + 15
    db.init_schema(con)  # re-init is harmless
    assert con.execute("SELECT count(*) FROM dim_code").fetchone()[0] == n
    denied = con.execute("SELECT DISTINCT item FROM dim_code WHERE grp = 'denied' ORDER BY 1").fetchall()
    assert [r[0] for r in denied] == sorted(r.key for r in fs.APP_ROWS if r.group == "denied")


def test_codes_named_in_sql_exist_in_formatspec(con):
    """The SQL names a few codes (headline figures); each must be a formatspec code."""
    known = {r[0] for r in con.execute(
        "SELECT item FROM dim_code UNION SELECT measure FROM dim_code UNION SELECT grp FROM dim_code"
        " UNION SELECT table_name FROM dim_code UNION SELECT template FROM dim_code").fetchall()}
    not_codes = {"new", "unchanged", "updated", "present", "missing", "published", "quarantined", "passed",
                 "pending", "superseded", "pass", "fail", "error", "na", "", ", ", "; ", "[", "]", "] ",
                 "failed: ", "quarantined by the gate", "skipped%", "applications_received",
                 "applications_processed", "granted", "partially_granted", "denied", "review_total",
                 "litigation_total", "cases_corrected", "cases_decided", "fees_10k_yuan",
                 "row", "column", "group",  # the kinds of the published dim_code
                 "mart_series"}  # the table marts/00_prev_delta.sql reads
    not_codes |= set(PROVENANCES) | set(fs.FINDINGS) | {fs.INFO}  # a cell's provenance, finding codes
    sql_dir = Path(db.SQL_DIR)
    for path in sorted(sql_dir.glob("*/*.sql")):
        text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        for literal in re.findall(r"'([^']*)'", text):
            assert literal in known or literal in not_codes or literal.startswith("v1."), (path.name, literal)


def test_reload_changes_nothing(con):
    docs = list(corpus().values())
    first = load.load_documents(con, docs)
    assert (first.inserted, first.unchanged, first.revised, first.updated) == (5, 0, 0, 0)
    checks.store_checks(con, checks_frame(docs))
    before = snapshot(con)
    again = load.load_documents(con, docs + docs[:2])  # also a repeat inside the batch
    assert (again.inserted, again.unchanged, again.revised, again.updated) == (0, 7, 0, 0)
    assert again.report_ids == tuple(d.report_id for d in docs + docs[:2])  # one a document, in its order
    after = snapshot(con)
    for t in STAGING_TABLES:
        pd.testing.assert_frame_equal(before[t], after[t], obj=t)
    assert con.execute("SELECT count(*), count(DISTINCT report_id) FROM stg_document").fetchone() == (5, 5)
    n_cells = con.execute("SELECT count(*) FROM stg_cell").fetchone()[0]
    assert n_cells == 2 * 200 + (22 + 161 + 15) + 200 + 200  # every cell of every template, once


def test_report_id_is_deterministic():
    doc = corpus()["A23"]
    assert doc.report_id == load.report_id("甲市", 2023, doc.content_sha256)
    assert re.fullmatch(r"[0-9a-f]{16}", doc.report_id)
    assert load.report_id("甲市", 2024, doc.content_sha256) != doc.report_id


def test_revised_report_becomes_current_and_old_one_is_history(con):
    v1 = corpus()["A23"]
    rep2 = make_report("甲市", 2023, {**app("new_received", natural_person=11),
                                    **app("total_processed", natural_person=11),
                                    **app("granted", natural_person=11)})
    v2 = make_doc(rep2, fetched_day=20)
    assert load.load_documents(con, [v1]).inserted == 1
    s = load.load_documents(con, [v2])
    assert (s.inserted, s.revised, s.unchanged) == (0, 1, 0)
    versions = con.execute(
        "SELECT report_id, version, is_current, superseded_at IS NOT NULL FROM report_version ORDER BY version"
    ).fetchall()
    assert versions == [(v1.report_id, 1, False, True), (v2.report_id, 2, True, False)]
    frames = load.staging_frames(con)
    assert frames.reports["report_id"].tolist() == [v2.report_id]
    assert set(frames.cells["report_id"]) == {v2.report_id}
    got = frames.cells.query("item == 'new_received' and measure == 'total'")["value"].tolist()
    assert got == [11.0]
    old = load.staging_frames(con, report_ids=[v1.report_id])
    assert old.reports["is_current"].tolist() == [False]
    assert old.narrative.to_dict("records") == [{"report_id": v1.report_id, "key": "new_received", "value": 10}]
    # Loading the old version again changes nothing: the revision stays current.
    assert load.load_documents(con, [v1]).unchanged == 1
    assert con.execute("SELECT report_id FROM stg_document WHERE is_current").fetchall() == [(v2.report_id,)]
    status = dict(con.execute("SELECT report_id, status FROM dim_report").fetchall())
    assert status == {v1.report_id: "superseded", v2.report_id: "pending"}


def test_older_version_loaded_later_stays_history(con):
    new = make_doc(make_report("甲市", 2023, app("new_received", natural_person=3)), fetched_day=20)
    old = make_doc(make_report("甲市", 2023, app("new_received", natural_person=2)), fetched_day=5)
    load.load_documents(con, [new])
    assert load.load_documents(con, [old]).revised == 1
    assert con.execute("SELECT report_id FROM stg_document WHERE is_current").fetchall() == [(new.report_id,)]


def test_reparse_replaces_rows_and_drops_checks(con):
    doc = corpus()["A23"]
    load.load_documents(con, [doc])
    checks.store_checks(con, checks_frame([doc]))
    doc.report["applications"]["granted"]["total"] = 5  # the new parser reads another figure
    doc.parser_version = "test-2"
    s = load.load_documents(con, [doc])
    assert (s.updated, s.inserted, s.unchanged) == (1, 0, 0)
    assert con.execute("SELECT count(*) FROM chk_result").fetchone()[0] == 0
    assert con.execute(
        "SELECT value FROM stg_cell WHERE item = 'granted' AND measure = 'total'").fetchone()[0] == 5.0
    assert con.execute("SELECT parser_version FROM stg_document").fetchall() == [("test-2",)]


def test_staging_frames_columns(con):
    docs = corpus()
    load.load_documents(con, docs.values())
    f = load.staging_frames(con)
    for col in ("report_id", "agency_id", "agency", "year", "province", "city", "county", "level", "parent",
                "template_active_disclosure", "template_applications", "is_current", "source_url"):
        assert col in f.reports.columns
    assert list(f.cells.columns) == ["report_id", "table_name", "item", "measure", "value", "marker"]
    assert list(f.findings.columns) == ["report_id", "code", "severity", "message", "where"]
    assert list(f.narrative.columns) == ["report_id", "key", "value"]
    assert len(f.reports) == 5
    c = f.cells[f.cells.report_id == docs["C24"].report_id].set_index(["item", "measure"])
    assert c.loc[("denied_query", "total"), "marker"] == "na"
    assert pd.isna(c.loc[("partially_granted", "total"), "value"])
    assert c.loc[("partially_granted", "total"), "marker"] == "blank"


def test_store_checks_replaces_a_reports_rows_and_rejects_bad_rows(con):
    docs = list(corpus().values())
    load.load_documents(con, docs)
    df = checks_frame(docs)
    assert checks.store_checks(con, df) == len(df)
    one = df[df.report_id == docs[0].report_id].head(3)
    checks.store_checks(con, one)
    per = dict(con.execute("SELECT report_id, count(*) FROM chk_result GROUP BY 1").fetchall())
    assert per[docs[0].report_id] == 3
    assert per[docs[1].report_id] == (df.report_id == docs[1].report_id).sum()
    with pytest.raises(ValueError, match="missing columns"):
        checks.store_checks(con, df.drop(columns=["scope"]))
    with pytest.raises(ValueError, match="severity"):
        checks.store_checks(con, one.assign(severity="fatal"))
    with pytest.raises(ValueError, match="status"):
        checks.store_checks(con, one.assign(status="ok"))
    with pytest.raises(ValueError, match="not one of"):
        checks.set_status(con, {docs[0].report_id: "maybe"})


def test_bad_documents_are_rejected_whole(con):
    good = corpus()["A23"]
    bad = make_doc(make_report("乙县", 2024, {"applications.granted.total": "7件"}))
    with pytest.raises(ValueError, match=r"applications\.granted\.total"):
        load.load_documents(con, [good, bad])
    assert con.execute("SELECT count(*) FROM stg_document").fetchone()[0] == 0
    with pytest.raises(ValueError, match="agency is required"):
        load.load_documents(con, [make_doc(make_report("", 2024), agency="")])


def test_check_table_made_elsewhere_is_stored_as_store_checks_stores_it(con):
    docs = list(corpus().values())
    load.load_documents(con, docs)
    df = checks_frame(docs)
    checks.store_checks(con, df)
    cols = "report_id, check_id, scope, severity, status, expected, actual, detail"
    before = sorted(con.execute(f"SELECT {cols} FROM chk_result").fetchall(), key=repr)
    assert checks.store_check_table(con, checks.check_table(df)) == len(df)  # as a validator hands it back
    assert sorted(con.execute(f"SELECT {cols} FROM chk_result").fetchall(), key=repr) == before
    with pytest.raises(ValueError, match="schema"):
        checks.store_check_table(con, checks.check_table(df).drop_columns(["detail"]))


def test_memory_limit_is_set_for_a_block_and_restored(con):
    from warehouse.db import memory_limit

    def limit():
        return con.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    con.execute("SET memory_limit = '512MB'")
    before = limit()
    with memory_limit(con, "128MB", "512MB"):
        assert limit() != before and limit().startswith("122")  # 128 MB in MiB
    assert limit() == before
    with pytest.raises(ValueError, match="memory size"), memory_limit(con, "128MB; DROP TABLE x", "512MB"):
        pass


def test_staging_tables_are_the_staging_frames_as_arrow(con):
    from expectations.frames import as_pandas

    docs = corpus()
    load.load_documents(con, docs.values())
    some = [docs["C24"].report_id, docs["A23"].report_id]
    for ids in (None, some, []):
        frames, tables = load.staging_frames(con, report_ids=ids), load.staging_tables(con, report_ids=ids)
        assert all(isinstance(getattr(tables, n), pa.Table) for n in ("reports", "cells", "findings", "narrative"))
        converted = as_pandas(tables)
        for name in ("reports", "cells", "findings", "narrative"):
            got, want = getattr(converted, name), getattr(frames, name)
            if name == "cells":  # in no particular order (staging/frame_cells.sql)
                got, want = (f.sort_values(["report_id", "table_name", "item", "measure"], ignore_index=True)
                             for f in (got, want))
            if len(want):
                pd.testing.assert_frame_equal(got, want)
            else:
                assert list(got.columns) == list(want.columns) and len(got) == 0
    assert as_pandas(frames) is frames
