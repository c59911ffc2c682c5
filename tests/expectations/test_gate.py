"""The publishing gate and the Data Docs site, on the session's validated cases."""

from __future__ import annotations

import pandas as pd
import pytest

from expectations.datadocs import build_docs
from expectations.gate import GateDecision, decide

CLEAN = ["lps", "f19", "x_2024", "z_2024", "child_a", "child_b", "s2_ok", "na_zero", "blank", "s2_bad", "s1_bad"]


def test_one_bad_report_is_quarantined_and_the_rest_published(results):
    run = CLEAN + ["h1_bad"]
    d = decide(results[results["report_id"].isin(run)], run)
    assert isinstance(d, GateDecision)
    assert d.publish is True
    assert list(d.quarantined) == ["h1_bad"]
    assert "H1[column=total]: 842 + 13 != 840 + 16" in d.quarantined["h1_bad"]
    assert "1 of 12" in d.reason


def test_warnings_and_skips_never_quarantine(results):
    run = ["s2_bad", "s1_bad", "s3_bad2", "s7_bad", "blank", "unreadable", "y_2024"]
    sub = results[results["report_id"].isin(run)]
    assert (sub["status"] == "fail").any() and (sub["status"] == "skipped_blank").any()
    assert decide(sub, run).quarantined == {}


def test_every_hard_failure_is_quarantined_with_its_invariant(results):
    run = list(results["report_id"].unique())
    d = decide(results, run, max_fail_share=1.0)
    expected = {"h1_bad": "H1", "h2_bad": "H2", "h3_bad": "H3", "h4_bad": "H4", "h5_bad": "H5",
                "h6_bad": "H6", "h7_missing": "H7", "h7_row": "H7", "shift": "H2"}
    for rid, cid in expected.items():
        assert any(r.startswith(cid + "[") for r in d.quarantined[rid]), (rid, d.quarantined.get(rid))
    assert "lps" not in d.quarantined and "na_zero" not in d.quarantined
    assert d.publish is True


def test_more_than_half_failing_stops_the_publish(results):
    run = ["lps", "f19", "h1_bad", "h2_bad", "h4_bad"]
    d = decide(results[results["report_id"].isin(run)], run)
    assert d.publish is False and set(d.quarantined) == {"h1_bad", "h2_bad", "h4_bad"}
    assert "publish stopped" in d.reason
    # exactly half is still allowed; the share is configurable
    assert decide(results[results["report_id"].isin(run[:4])], run[:4]).publish is True
    assert decide(results[results["report_id"].isin(run[:4])], run[:4], max_fail_share=0.4).publish is False


def test_gate_edge_cases():
    empty = pd.DataFrame(columns=["report_id", "check_id", "scope", "severity", "status", "detail"])
    assert decide(empty, []).publish is False
    assert decide(empty, ["a"]).publish is True
    with pytest.raises(ValueError, match="max_fail_share"):
        decide(empty, ["a"], max_fail_share=1.5)


def test_data_docs_site(results, tmp_path):
    run = list(results["report_id"].unique())
    gate = decide(results, run)
    reports = pd.DataFrame({"report_id": run, "agency": ["某机关"] * len(run), "year": [2024] * len(run)})
    index = build_docs(results, tmp_path / "datadocs", reports=reports, gate=gate, run_label="2024")
    assert index == tmp_path / "datadocs" / "index.html"
    text = index.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and 'href="checks/H1.html"' in text and "quarantined" in text
    h1 = (tmp_path / "datadocs" / "checks" / "H1.html").read_text(encoding="utf-8")
    assert "h1_bad" in h1 and "842 + 13 != 840 + 16" in h1 and "skipped_blank: " in h1
    quarantine = (tmp_path / "datadocs" / "quarantine.html").read_text(encoding="utf-8")
    assert "h7_missing" in quarantine and "lps<" not in quarantine
    for cid in set(results["check_id"]):
        assert (tmp_path / "datadocs" / "checks" / f"{cid}.html").exists()


@pytest.mark.slow
def test_gx_data_docs_are_built_and_linked(tmp_path):
    import xp_reports as xr

    from expectations.frames import frames_from_reports
    from expectations.validate import validate

    bad = xr.setv(xr.lps_2024(), "applications.carried_forward.total", 16)
    gx_results: list = []
    checks = validate(frames_from_reports([xr.item(xr.lps_2024(), "good"), xr.item(bad, "quarantine_me_2024")]),
                      gx_results=gx_results)
    assert {name for name, _ in gx_results} >= {"applications.F2021", "review_litigation.standard", "report"}
    index = build_docs(checks, tmp_path / "site", gx_results=gx_results, run_label="2024")
    assert 'href="gx/index.html"' in index.read_text(encoding="utf-8")
    gx_index = tmp_path / "site" / "gx" / "index.html"
    assert gx_index.exists()
    pages = list((tmp_path / "site" / "gx" / "validations").rglob("applications.F2021.html"))
    assert len(pages) == 1
    page = pages[0].read_text(encoding="utf-8")
    assert "H1 (error)" in page and "quarantine_me_2024" in page
