"""Published marts on hand-made reports, with every figure worked out by hand."""

from __future__ import annotations

import math
import re
from pathlib import Path

import duckdb
import pytest
from wh_helpers import checks_frame, corpus

from warehouse import checks, load, publish


def rows(path, sql, params=None):
    with duckdb.connect(str(path), read_only=True) as r:
        cur = r.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


@pytest.fixture
def published(con, tmp_path):
    docs = corpus()
    load.load_documents(con, docs.values())
    checks.store_checks(con, checks_frame(list(docs.values())))
    summary = publish.publish(con, tmp_path / "home")
    return docs, summary


def test_mart_agency_year_by_hand(published):
    docs, summary = published
    assert (summary.published, summary.quarantined) == (4, 1)
    m = {(r["agency"], r["year"]): r for r in rows(summary.path, "SELECT * FROM mart_agency_year")}
    assert set(m) == {("甲市", 2023), ("甲市", 2024), ("乙县", 2024), ("丙县", 2024)}  # 丁镇 quarantined

    a23 = m[("甲市", 2023)]
    assert a23["report_id"] == docs["A23"].report_id
    assert (a23["applications_received"], a23["applications_processed"]) == (10, 10)
    assert (a23["granted"], a23["partially_granted"], a23["denied"]) == (4, 2, 2)  # denied: 1 + 1
    assert a23["disclosure_rate"] == pytest.approx((4 + 2) / 10)
    assert (a23["review_total"], a23["litigation_total"]) == (4, 2)
    # corrected / (upheld + corrected + other) over review (2, 1, 1) and direct litigation (1, 0, 0)
    assert (a23["cases_corrected"], a23["cases_decided"]) == (1, 5)
    assert a23["correction_rate"] == pytest.approx(1 / 5)
    assert a23["fees_10k_yuan"] == 1.5
    assert a23["prev_applications_received"] is None and a23["delta_disclosure_rate"] is None

    a24 = m[("甲市", 2024)]
    assert (a24["applications_received"], a24["granted"], a24["partially_granted"], a24["denied"]) == (20, 10, 5, 5)
    assert a24["disclosure_rate"] == pytest.approx(15 / 20)
    assert a24["correction_rate"] is None  # no review or litigation decided: 0 / 0
    assert a24["prev_applications_received"] == 10 and a24["delta_applications_received"] == 10
    assert a24["prev_disclosure_rate"] == pytest.approx(0.6)
    assert a24["delta_disclosure_rate"] == pytest.approx(0.75 - 0.6)
    assert a24["delta_denied"] == 3 and a24["delta_review_total"] == -4
    assert a24["prev_correction_rate"] == pytest.approx(0.2) and a24["delta_correction_rate"] is None
    assert a24["fees_10k_yuan"] == 0 and a24["delta_fees_10k_yuan"] == -1.5

    b24 = m[("乙县", 2024)]  # F2019 applications table, nothing received or processed
    assert b24["template_applications"] == "F2019"
    assert b24["applications_processed"] == 0 and b24["disclosure_rate"] is None
    assert b24["correction_rate"] == 1.0
    assert b24["fees_10k_yuan"] is None  # F2019 has no fee amount
    assert b24["prev_applications_received"] is None  # no 2023 report

    c24 = m[("丙县", 2024)]
    assert c24["partially_granted"] is None  # printed blank: unknown, not 0
    assert c24["disclosure_rate"] is None
    assert c24["denied"] == 0  # the "/" in denied_query counts as 0


def test_mart_region_year_by_hand(published):
    _, summary = published
    r = {(x["year"], x["level"]): x for x in rows(summary.path, "SELECT * FROM mart_region_year")}
    assert set(r) == {(2023, "city"), (2024, "city"), (2024, "county")}
    county = r[(2024, "county")]  # 乙县 + 丙县
    assert (county["province"], county["city"]) == ("贵州省", "六盘水市")
    assert (county["reports"], county["reports_complete"]) == (2, 1)
    assert (county["applications_received"], county["applications_processed"], county["granted"]) == (4, 4, 1)
    assert county["partially_granted"] == 0  # 0 (乙县) + unknown (丙县, skipped)
    assert county["disclosure_rate"] == pytest.approx(1 / 4)
    assert county["correction_rate"] == 1.0 and county["fees_10k_yuan"] == 2.25
    city24 = r[(2024, "city")]
    assert city24["prev_applications_received"] == 10 and city24["delta_applications_received"] == 10
    assert city24["delta_disclosure_rate"] == pytest.approx(0.15)


def test_quarantined_report_only_in_quality(published, con, tmp_path):
    docs, summary = published
    d_id = docs["D24"].report_id
    for t in ("fact_active_disclosure", "fact_application", "fact_review_litigation", "fact_check",
              "mart_agency_year"):
        assert rows(summary.path, f"SELECT count(*) AS n FROM {t} WHERE report_id = $1", [d_id])[0]["n"] == 0, t
    q = {x["report_id"]: x for x in rows(summary.path, "SELECT * FROM mart_quality")}
    assert len(q) == 5
    assert q[d_id]["status"] == "quarantined"
    assert summary.statuses[d_id] == ("quarantined", q[d_id]["reasons"])
    assert summary.statuses[docs["A23"].report_id] == ("published", None)
    assert q[d_id]["failed_checks"] == "H1[column=natural_person], H1[column=total]"
    assert q[d_id]["checks_failed"] == 2 and "failed: H1[column=natural_person]" in q[d_id]["reasons"]
    a = q[docs["A23"].report_id]
    assert a["status"] == "published" and a["checks_failed"] == 0 and a["reasons"] is None
    assert a["checks_passed"] == len(checks_frame([docs["A23"]]))
    assert q[docs["C24"].report_id]["checks_skipped"] > 0
    assert q[docs["C24"].report_id]["findings_warning"] == 2
    status = {x["report_id"]: x["status"] for x in rows(summary.path, "SELECT * FROM dim_report")}
    assert status[d_id] == "quarantined" and list(status.values()).count("published") == 4

    # The gate can hold back a report too: by argument, or through set_status with reasons.
    c_id, b_id = docs["C24"].report_id, docs["B24"].report_id
    checks.set_status(con, {b_id: "quarantined"}, {b_id: ["S1 narrative differs", "manual review"]})
    s2 = publish.publish(con, tmp_path / "home", quarantined={c_id})
    assert (s2.published, s2.quarantined) == (2, 3)
    q = {x["report_id"]: x for x in rows(s2.path, "SELECT * FROM mart_quality")}
    assert q[c_id]["reasons"] == "quarantined by the gate"
    assert q[b_id]["reasons"] == "S1 narrative differs; manual review"
    region = rows(s2.path, "SELECT level FROM mart_region_year WHERE year = 2024")
    assert [x["level"] for x in region] == ["city"]


def test_facts_are_values_as_printed(published):
    docs, summary = published
    c_id = docs["C24"].report_id
    f = {(x["row_code"], x["applicant"]): x["value"]
         for x in rows(summary.path, "SELECT * FROM fact_application WHERE report_id = $1", [c_id])}
    assert len(f) == 25 * 7
    assert f[("partially_granted", "total")] is None and f[("denied_query", "total")] is None
    assert f[("granted", "natural_person")] == 1
    b = rows(summary.path, "SELECT count(*) AS n FROM fact_application WHERE report_id = $1",
             [docs["B24"].report_id])
    assert b[0]["n"] == 23 * 7
    ad = rows(summary.path, "SELECT count(*) AS n FROM fact_active_disclosure")[0]["n"]
    assert ad == 10 * 3 + 22  # A23, A24, C24 (F2021) and B24 (F2019)
    assert rows(summary.path, "SELECT count(*) AS n FROM fact_review_litigation")[0]["n"] == 4 * 15
    h1 = rows(summary.path, "SELECT * FROM fact_check WHERE report_id = $1 AND check_id = 'H1' ORDER BY detail",
              [docs["A23"].report_id])
    assert len(h1) == 7 and all(x["status"] == "pass" for x in h1)
    assert h1[-1]["detail"].startswith("[column=total] applications.new_received.total")
    assert (h1[-1]["expected"], h1[-1]["actual"]) == (10, 10)
    ag = {x["name"]: x for x in rows(summary.path, "SELECT * FROM dim_agency")}
    assert ag["乙县"]["parent_agency_id"] == ag["甲市"]["agency_id"]
    assert not any(isinstance(v, float) and math.isnan(v) for v in f.values() if v is not None)


def test_facts_are_published_in_report_and_code_order(published):
    """The facts' rows as stored in the file (and so in the Parquet files and for a reader without
    ORDER BY) come sorted by report_id and their code's strings, as CONTRACT.md's readers see them."""
    _docs, summary = published
    keys = {"fact_active_disclosure": ("item", "measure"), "fact_application": ("row_code", "applicant"),
            "fact_review_litigation": ("proceeding", "outcome"), "fact_check": ("check_id",)}
    for table, code in keys.items():
        got = [tuple(r.values()) for r in rows(summary.path, f"SELECT report_id, {', '.join(code)} FROM {table} "
                                                             "ORDER BY rowid")]
        assert len({r[0] for r in got}) == 4, table  # the four published reports
        assert got == sorted(got), table


def test_check_rows_are_published_in_report_check_and_scope_order(con, tmp_path):
    """fact_check is sorted by positions (report, then check_id and scope among their distinct
    pairs): the same order as sorting the three strings, NULL scopes last as ORDER BY puts them."""
    docs = corpus()
    load.load_documents(con, docs.values())
    checks.store_checks(con, checks_frame(list(docs.values())))
    rid = docs["A23"].report_id
    con.execute("INSERT INTO chk_result (report_id, check_id, scope, severity, status, detail, checked_at) "
                "SELECT $r, c, s, 'warning', 'pass', 'added', now()::TIMESTAMP "
                "FROM (VALUES ('S9', NULL), ('S9', 'b'), ('S9', 'a'), ('S9', ''), ('A0', NULL)) AS t(c, s)", {"r": rid})
    summary = publish.publish(con, tmp_path / "home")
    want = con.execute("SELECT c.report_id, c.check_id, CASE WHEN coalesce(c.scope, '') = '' THEN c.detail "
                       "ELSE '[' || c.scope || '] ' || coalesce(c.detail, '') END FROM chk_result AS c "
                       "WHERE list_contains($ids, c.report_id) ORDER BY c.report_id, c.check_id, c.scope",
                       {"ids": [r for r, (st, _w) in summary.statuses.items() if st == "published"]}).fetchall()
    got = [tuple(r.values()) for r in rows(summary.path, "SELECT report_id, check_id, detail FROM fact_check "
                                                         "ORDER BY rowid")]
    assert got == want
    # scope '' < 'a' < 'b' < NULL
    assert [r[2] for r in got if r[:2] == (rid, "S9")] == ["added", "[a] added", "[b] added", "added"]
    assert got.index((rid, "A0", "added")) < got.index((rid, "S9", "added"))


def test_bi_doc_example_queries_run_and_answer(published):
    """Every SQL example of docs/BI.md runs on the published file; two are checked by hand."""
    _, summary = published
    text = (Path(__file__).resolve().parents[2] / "docs" / "BI.md").read_text(encoding="utf-8")
    queries = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    assert len(queries) >= 4
    results = [rows(summary.path, q) for q in queries]
    quarantined = next(r for q, r in zip(queries, results, strict=True) if "q.status = 'quarantined'" in q)
    assert [(x["name"], x["year"]) for x in quarantined] == [("丁镇", 2024)]
    assert quarantined[0]["failed_checks"].startswith("H1[")
    by_type = next(r for q, r in zip(queries, results, strict=True) if "applicant <>" in q)
    got = {(x["year"], x["applicant"]): x["applications"] for x in by_type}
    assert got[(2023, "natural_person")] == 10
    assert got[(2024, "natural_person")] == 15 + 4  # 甲市 and 丙县; 丁镇 is quarantined
    assert got[(2024, "commercial")] == 5
    city = next(r for q, r in zip(queries, results, strict=True) if "GROUP BY province, city" in q)
    assert city == [{"province": "贵州省", "city": "六盘水市", "disclosure_rate": pytest.approx((10 + 5 + 0) / (20 + 0)),
                     "processed": 20, "reports": 2}]  # 甲市 (15 of 20) and 乙县 (0 of 0); 丙县 is incomplete
