"""The GX suites on contract-like reports: each invariant passes and fails where it should.

All cases are validated in ONE call (the session fixture in conftest.py), as the pipeline does, so the GX
fixed cost is paid once.
"""

from __future__ import annotations

import math

import pytest
import xp_reports as xr
from xp_cases import CASES, REPORTS

from expectations.frames import frames_from_reports
from expectations.validate import COLUMNS, validate
from transforms import checks
from transforms import formatspec as fs


def rows(df, rid, check_id, scope=None):
    sel = (df["report_id"] == rid) & (df["check_id"] == check_id)
    if scope is not None:
        sel &= df["scope"] == scope
    return df[sel]


def status(df, rid, check_id, scope):
    r = rows(df, rid, check_id, scope)
    assert len(r) == 1, f"{rid} {check_id}[{scope}]: {len(r)} rows"
    return r["status"].iloc[0]


def failures(df, rid):
    r = df[(df["report_id"] == rid) & (df["status"] == "fail")]
    return set(zip(r["check_id"], r["scope"], strict=True))


def test_columns_and_clean_real_report_passes_everything(results):
    assert list(results.columns) == COLUMNS
    lps = results[results["report_id"] == "lps"]
    assert set(lps["status"]) == {"pass"}
    # H1 x7, H2 x25, H3 x7, H6 x7, H4 x3, S3 x2, S7, H5 x3, H7 x3, S1 x2
    assert len(lps) == 7 + 25 + 7 + 7 + 3 + 2 + 1 + 3 + 3 + 2
    assert set(lps["severity"]) == {"error", "warning"}


def test_h1_names_the_four_cells(results):
    assert failures(results, "h1_bad") == {("H1", "column=natural_person"), ("H1", "column=total")}
    r = rows(results, "h1_bad", "H1", "column=total").iloc[0]
    assert r.severity == "error" and r.expected == 855 and r.actual == 856
    assert r.detail == ("applications.new_received.total + applications.carried_over.total == "
                        "applications.total_processed.total + applications.carried_forward.total: "
                        "842 + 13 != 840 + 16")


def test_h2_h3_h4(results):
    assert failures(results, "h2_bad") == {("H2", "row=granted"), ("H2", "row=partially_granted")}
    assert failures(results, "h3_bad") == {("H3", "column=natural_person"), ("H3", "column=total")}
    assert failures(results, "h4_bad") == {("H4", "group=admin_review")}
    r = rows(results, "h4_bad", "H4", "group=admin_review").iloc[0]
    assert r.detail.endswith(": 28 != 11 + 9 + 5 + 2")


def test_h5_domain(results):
    assert failures(results, "h5_bad") == {("H5", "table=review_litigation")}
    detail = rows(results, "h5_bad", "H5", "table=review_litigation")["detail"].iloc[0]
    assert "review_litigation.admin_review.pending = -1" in detail


def test_h6_corollary(results):
    f = failures(results, "h6_bad")
    assert ("H6", "column=total") in f and ("H6", "column=natural_person") in f
    assert ("H1", "column=total") in f


def test_h7_missing_table_and_missing_row(results):
    assert status(results, "h7_missing", "H7", "table=applications") == "fail"
    assert "table missing" in rows(results, "h7_missing", "H7", "table=applications")["detail"].iloc[0]
    assert status(results, "h7_missing", "H1", "table=applications") == "skipped_missing"
    assert status(results, "h7_missing", "H7", "table=review_litigation") == "pass"
    assert not rows(results, "h7_missing", "H1", "column=total").shape[0]

    assert status(results, "h7_row", "H7", "table=applications") == "fail"
    detail = rows(results, "h7_row", "H7", "table=applications")["detail"].iloc[0]
    assert "168 of 175" in detail and "applications.other_other.total" in detail
    r = rows(results, "h7_row", "H7", "table=applications").iloc[0]
    assert (r.expected, r.actual) == (175, 168)
    assert status(results, "h7_row", "H3", "column=total") == "skipped_missing"
    assert status(results, "h7_row", "H1", "column=total") == "pass"
    assert {c for c, _ in failures(results, "h7_row")} == {"H7"}


def test_soft_checks_s3_s4_s5_s7(results):
    assert failures(results, "s3_net_negative") == set()
    assert failures(results, "s3_bad2") == {("S3", "item=regulations")}
    r = rows(results, "s3_bad2", "S3", "item=regulations").iloc[0]
    assert r.severity == "warning" and r.detail.endswith(": 6 < 20 - 2")
    assert failures(results, "f19") == set()
    assert failures(results, "s4_bad") == {("S4", "item=regulations")}
    assert failures(results, "s5_bad") == {("S5", "item=penalty")}
    assert failures(results, "s7_bad") == {("S7", "")}


def test_s2_only_for_bodies_without_rule_making_power(results):
    assert failures(results, "s2_bad") == {("S2", "item=regulations")}
    assert status(results, "s2_ok", "S2", "item=regulations") == "pass"
    assert rows(results, "lps", "S2").empty


def test_s1_narrative(results):
    assert status(results, "lps", "S1", "figure=new_received") == "pass"
    assert status(results, "lps", "S1", "figure=total_processed") == "pass"
    assert failures(results, "s1_bad") == {("S1", "figure=new_received")}
    assert status(results, "s1_bad", "S1", "figure=admin_review_total") == "pass"
    assert rows(results, "s1_bad", "S1", "figure=granted").empty  # not stated: no row


def test_na_counts_as_zero_and_says_so(results):
    r = rows(results, "na_zero", "H2", "row=granted").iloc[0]
    assert r.status == "pass"
    assert "not-applicable cells counted as 0: applications.granted.research" in r.detail


def test_blank_and_unreadable_cells_are_skipped_never_passed(results):
    assert status(results, "blank", "H1", "column=total") == "skipped_blank"
    assert status(results, "blank", "H2", "row=carried_over") == "skipped_blank"
    r = rows(results, "blank", "H1", "column=total").iloc[0]
    assert math.isnan(r.expected) and "applications.carried_over.total" in r.detail
    assert status(results, "blank", "H1", "column=natural_person") == "pass"
    assert status(results, "unreadable", "H6", "column=total") == "skipped_blank"
    assert failures(results, "blank") == set()
    assert status(results, "ambiguous", "H2", "row=granted") == "skipped_blank"
    assert status(results, "ambiguous", "H3", "column=total") == "skipped_blank"


def test_derived_cells_are_checked_like_printed_ones(results):
    r = rows(results, "derived", "H2", "row=granted").iloc[0]
    assert (r.status, r.expected, r.actual) == ("pass", 235, 235)


def test_one_column_shift_is_caught_by_h2(results):
    f = failures(results, "shift")
    assert ("H2", "row=granted") in f
    r = rows(results, "shift", "H2", "row=granted").iloc[0]
    assert r.detail.endswith(": 200 != 5 + 0 + 0 + 2 + 0 + 235")


def test_x1_x2_across_two_years_of_one_agency(results):
    assert status(results, "x_2024", "X1", "column=total") == "pass"
    assert status(results, "x_2024", "X2", "item=regulations") == "pass"
    assert rows(results, "x_2023", "X1").empty  # no 2022 report
    assert status(results, "y_2024", "X1", "column=total") == "fail"
    assert status(results, "y_2024", "X1", "column=natural_person") == "pass"
    r = rows(results, "y_2024", "X1", "column=total").iloc[0]
    assert "prev:applications.carried_forward.total" in r.detail and r.severity == "warning"
    assert status(results, "y_2024", "X2", "item=regulations") == "fail"
    assert status(results, "y_2024", "X2", "item=normative_documents") == "pass"
    assert rows(results, "z_2024", "X1").empty and rows(results, "z_2024", "X2").empty  # X4


@pytest.mark.slow
def test_x1_with_previous_year_in_prev_frames():
    cur = xr.generated(71, agency="W市", year=2024)
    opening = cur["applications"]["carried_over"]["total"]
    prev = xr.setv(xr.chain(xr.generated(72, agency="W市", year=2023), cur), "applications.carried_forward.total",
                   opening + 5)
    frames = frames_from_reports([xr.item(cur, "w_2024", agency_id="W")])
    prev_frames = frames_from_reports([xr.item(prev, "w_2023", agency_id="W")])
    df = validate(frames, prev_frames)
    assert set(df["report_id"]) == {"w_2024"}
    r = rows(df, "w_2024", "X1", "column=total").iloc[0]
    assert (r.status, r.expected, r.actual) == ("fail", opening, opening + 5)
    assert status(df, "w_2024", "X1", "column=natural_person") == "pass"


def test_hierarchy(results):
    kids = sum(REPORTS[k]["report"]["applications"]["new_received"]["total"] for k in ("child_a", "child_b"))
    own = REPORTS["parent_ok"]["report"]["applications"]["new_received"]["total"]
    r = rows(results, "parent_ok", "XH", f"cell={fs.APPLICATIONS}.new_received.total").iloc[0]
    assert r.status == ("pass" if own >= kids else "fail") and (r.expected, r.actual) == (own, kids)
    assert status(results, "parent_small", "XH", f"cell={fs.APPLICATIONS}.new_received.total") == "fail"
    assert rows(results, "lps", "XH").empty


def test_gx_agrees_with_the_pure_evaluator(results):
    """Every sum rule transforms.checks evaluates gives the same status and sides here."""
    compared = 0
    for case in CASES:
        rid, report = case["report_id"], case["report"]
        expected = list(checks.evaluate(report))
        prev = next((c for c in CASES if c.get("agency_id") and c.get("agency_id") == case.get("agency_id")
                     and c.get("year") == (case.get("year") or 0) - 1), None)
        if prev is not None:
            expected += checks.evaluate(report, prev["report"], cross_year=True)
        got = results[results["report_id"] == rid].set_index(["check_id", "scope"])
        for res in expected:
            row = got.loc[(res.check_id, res.scope)]
            assert row["status"] == res.status, (rid, res.name, row["detail"], res.detail)
            if res.status in ("pass", "fail"):
                assert row["expected"] == pytest.approx(res.expected) and row["actual"] == pytest.approx(res.actual)
            compared += 1
        ours = got[got.index.get_level_values(0).isin([i.id for i in fs.INVARIANTS])
                   & ~got.index.get_level_values(1).str.startswith("table=")]
        assert len(ours) == len(expected), rid
    assert compared > 1000


@pytest.mark.slow
def test_one_thousand_reports_in_one_call():
    import time

    items = []
    for i in range(1000):
        tpl = fs.F2019 if i % 4 == 0 else fs.F2021
        items.append(xr.item(xr.generated(i, tpl, tpl), f"r{i}"))
    items[7]["report"] = xr.setv(items[7]["report"], "applications.new_received.total", 1)
    frames = frames_from_reports(items)
    t0 = time.perf_counter()
    df = validate(frames)
    elapsed = time.perf_counter() - t0
    print(f"validated 1000 reports, {len(df)} check rows in {elapsed:.1f} s")
    assert elapsed < 60
    bad = df[(df["status"] == "fail") & (df["severity"] == "error")]
    assert set(bad["report_id"]) == {"r7"}
    assert set(df["report_id"]) == {f"r{i}" for i in range(1000)}


def test_real_seed_reports(results):
    """The five seeds: no hard failure but the one whose tables are missing; the narrative agrees."""
    seeds = results[results["report_id"].str.startswith("seed_")]
    hard = seeds[(seeds["status"] == "fail") & (seeds["severity"] == "error")]
    assert set(zip(hard["report_id"], hard["check_id"], hard["scope"], strict=True)) == {
        ("seed_002", "H7", f"table={t}") for t in fs.TABLES}
    s1 = seeds[seeds["check_id"] == "S1"]
    assert len(s1[s1["status"] == "pass"]) == 12 and set(s1["status"]) == {"pass", "skipped_missing"}
    assert status(results, "seed_004", "S2", "item=regulations") == "pass"
    assert set(seeds.loc[seeds["report_id"] != "seed_002", "status"]) == {"pass"}
    missing = seeds[seeds["report_id"] == "seed_002"]
    assert set(missing.loc[missing["check_id"] != "H7", "status"]) == {"skipped_missing"}
