"""Runs of digits the invariants leave open, decided by the agency's previous report (issue #15 item 5).

X2: 平潭 2023 prints 行政规范性文件 as "77132470" (cells ran together); the 2022 report served before it
gives 现行有效件数 525, and X2 (525 + 77 - 132 = 470) leaves one split. X1: a synthetic 上年结转 run."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from flows.outcomes import PUBLISHED
from flows.plan import run_year
from flows.settings import load_settings
from flows.steps.parsing import has_open_runs
from testkit.synth import make_report, render_text
from transforms import formatspec as fs

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AGENCY = "平潭综合实验区管委会办公室"
RUN_TOGETHER = (ROOT / "tests" / "fixtures" / "runs" / "pingtan_2023.txt").read_bytes()


def _page_2022() -> bytes:
    """平潭's 2023 page as a 2022 report whose 现行有效件数 of 行政规范性文件 is 525."""
    html = (ROOT / "sources" / "samples" / "pingtan_2023.html").read_text(encoding="utf-8")
    assert html.count(">470<") == 1
    return html.replace(">470<", ">525<").replace("2023", "2022").encode("utf-8")


def _serve(httpserver, tmp_path, years: list[int]):
    bodies = {2022: (_page_2022(), "text/html; charset=utf-8"), 2023: (RUN_TOGETHER, "text/plain; charset=utf-8")}
    lines = ["agency,year,url"]
    for y in years:
        body, ctype = bodies[y]
        httpserver.expect_request(f"/nb/{y}").respond_with_data(body, content_type=ctype)
        lines.append(f"{AGENCY},{y},{httpserver.url_for(f'/nb/{y}')}")
    tmp_path.mkdir(parents=True, exist_ok=True)
    registry = tmp_path / "registry.csv"
    registry.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_settings(env={}, home=tmp_path / "home", sources=str(registry), min_delay=0.0)


def _rows(path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _normative(settings, year: int) -> dict:
    [(report_json,)] = _rows(settings.warehouse_path,
                             f"SELECT report_json FROM stg_document WHERE year = {int(year)} AND is_current")
    report = json.loads(report_json)
    where = "active_disclosure.normative_documents."
    return {"cells": report["active_disclosure"]["normative_documents"],
            "findings": {(f["code"], f["where"].removeprefix(where)): f["message"] for f in report["findings"]
                         if f["where"].startswith(where)}}


def _published(settings) -> dict:
    """行政规范性文件's 2023 cells: {measure: (published value, the warehouse's marker)}."""
    values = dict(_rows(settings.marts_path, "SELECT f.measure, f.value FROM fact_active_disclosure f JOIN dim_report r "
                        "USING (report_id) WHERE r.year = 2023 AND f.item = 'normative_documents'"))
    markers = dict(_rows(settings.warehouse_path, "SELECT c.measure, c.marker FROM stg_cell c JOIN stg_document d "
                         "USING (report_id) WHERE d.year = 2023 AND d.is_current AND c.item = 'normative_documents'"))
    return {m: (values.get(m), markers[m]) for m in markers}


def test_last_years_report_decides_a_run_and_without_it_the_cells_stay_null(httpserver, tmp_path):
    settings = _serve(httpserver, tmp_path / "with", [2022, 2023])
    first = run_year(2022, settings)
    assert [o.outcome for o in first.reports] == [PUBLISHED], first.reports[0].reasons
    second = run_year(2023, settings)
    [o] = second.reports
    assert o.outcome == PUBLISHED, o.reasons
    assert any(r.startswith("evidence: parsed with the 2022 report") for r in o.reasons), o.reasons
    got = _normative(settings, 2023)
    assert got["cells"] == {"issued": 77, "repealed": 132, "in_force": 470}
    msg = got["findings"][("cell_derived", "repealed")]
    assert "(X2)" in msg and "77132470" in msg
    assert _published(settings) == {"issued": (77, "derived"), "repealed": (132, "derived"),
                                    "in_force": (470, "derived")}

    alone = _serve(httpserver, tmp_path / "alone", [2023])
    [o] = run_year(2023, alone).reports
    assert not any(r.startswith("evidence:") for r in o.reasons)
    got = _normative(alone, 2023)
    assert set(got["cells"].values()) == {None}
    assert ("cell_ambiguous", "repealed") in got["findings"]
    assert set(_published(alone).values()) == {(None, "ambiguous")}


def test_a_year_run_before_its_previous_year_gets_the_evidence_on_its_next_run(httpserver, tmp_path):
    # Same bytes, same parser: without its own parser-version mark the evidence reading would be
    # taken for an unchanged document and the warehouse would keep the null cells.
    settings = _serve(httpserver, tmp_path, [2022, 2023])
    run_year(2023, settings)
    assert set(_published(settings).values()) == {(None, "ambiguous")}
    run_year(2022, settings)
    [o] = run_year(2023, settings).reports
    assert o.outcome == PUBLISHED, o.reasons
    assert _published(settings) == {"issued": (77, "derived"), "repealed": (132, "derived"),
                                    "in_force": (470, "derived")}


def test_a_report_without_open_runs_is_not_parsed_again(httpserver, tmp_path):
    settings = _serve(httpserver, tmp_path, [2022])
    run_year(2022, settings)
    [o] = run_year(2022, settings.with_overrides(full_run=True)).reports
    assert not any(r.startswith("evidence:") for r in o.reasons)
    assert not has_open_runs({"findings": [{"code": "cell_ambiguous", "message": "fewer values than cells"}]})


def test_last_years_carried_forward_decides_this_years_carried_over(httpserver, tmp_path):
    """X1: 2024's 上年结转 row prints as "110000011" ((1,10,0,0,0,0,11) or (11,0,0,0,0,0,11)); 2023's
    结转下年度继续办理 of the same agency is (1,10,0,0,0,0,11)."""
    cols = [c.key for c in fs.APPLICANT_COLUMNS]
    agency = "某县人民政府办公室"
    prior = make_report(5, agency=agency, year=2023)
    app = prior["applications"]
    want = dict(zip(cols, (1, 10, 0, 0, 0, 0, 11), strict=True))
    for c in cols:  # keep 2023's H-invariants: what is carried forward more, was received more
        app["new_received"][c] += want[c] - app["carried_forward"][c]
        app["carried_forward"][c] = want[c]
    raw = {f"applications.carried_over.{c}": "" for c in cols}
    raw["applications.carried_over.natural_person"] = "110000011"
    raw |= {f"applications.carried_forward.{c}": "若干" for c in cols}
    later = render_text(make_report(5, agency=agency, year=2024), "pdf_space", raw=raw)
    httpserver.expect_request("/x1/2023").respond_with_data(render_text(prior, "pipe_rows").encode("utf-8"),
                                                            content_type="text/plain; charset=utf-8")
    httpserver.expect_request("/x1/2024").respond_with_data(later.encode("utf-8"),
                                                            content_type="text/plain; charset=utf-8")
    registry = tmp_path / "registry.csv"
    registry.write_text(f"agency,year,url\n{agency},2023,{httpserver.url_for('/x1/2023')}\n"
                        f"{agency},2024,{httpserver.url_for('/x1/2024')}\n", encoding="utf-8")
    settings = load_settings(env={}, home=tmp_path / "home", sources=str(registry), min_delay=0.0)
    [o] = run_year(2023, settings).reports
    assert o.outcome == PUBLISHED, o.reasons
    [o] = run_year(2024, settings).reports
    assert any(r.startswith("evidence: parsed with the 2023 report") for r in o.reasons), o.reasons
    [(report_json,)] = _rows(settings.warehouse_path,
                             "SELECT report_json FROM stg_document WHERE year = 2024 AND is_current")
    report = json.loads(report_json)
    assert report["applications"]["carried_over"] == want
    msg = next(f["message"] for f in report["findings"]
               if f["where"] == "applications.carried_over.natural_person" and f["code"] == "cell_derived")
    assert "(X1)" in msg
