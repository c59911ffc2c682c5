"""Discovery feeds the pipeline: `xxgk discover --write`, and a run with listings configured."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from flows.cli import main
from flows.outcomes import PUBLISHED
from flows.plan import run_year
from flows.settings import load_settings
from sources.registry import load_registry

pytestmark = pytest.mark.slow

SAMPLES = Path(__file__).resolve().parents[2] / "sources" / "samples"
LISTING = """<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body><ul>
<li><a href="/lps/2024.html" title="六盘水市2024年政府信息公开工作年度报告">六盘水市2024年政府信息公开工作年度报告</a>
 <span>2025-01-20</span></li>
<li><a href="/lps/notice.html">关于做好2024年政府信息公开工作年度报告编制工作的通知</a></li>
<li><a href="/lps/2023.html">六盘水市2023年政府信息公开工作年度报告</a></li>
</ul></body></html>"""


@pytest.fixture
def site(httpserver, tmp_path):
    httpserver.expect_request("/lps/index.html").respond_with_data(LISTING, content_type="text/html; charset=utf-8")
    page = (SAMPLES / "liupanshui_2024.html").read_bytes()
    httpserver.expect_request("/lps/2024.html").respond_with_data(page, content_type="text/html; charset=utf-8")
    listings = tmp_path / "listings.csv"
    listings.write_text("agency,listing_url,province,city,level\n"
                        f"六盘水市,{httpserver.url_for('/lps/index.html')},贵州省,六盘水市,市\n", encoding="utf-8")
    return listings


def test_discover_command_writes_the_registry(site, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XXGK_HOME", str(tmp_path / "home"))
    registry = tmp_path / "registry.csv"
    assert main(["discover", "--listings", str(site), "--registry", str(registry), "--year", "2024",
                 "--write", "--min-delay", "0"]) == 0
    rows = load_registry(registry)
    assert [(r.agency, r.year) for r in rows] == [("六盘水市", 2024)]
    assert rows[0].url.endswith("/lps/2024.html")
    assert "六盘水市" in capsys.readouterr().out


def test_run_with_listings_discovers_then_publishes(site, tmp_path):
    registry = tmp_path / "registry.csv"
    settings = load_settings(env={}, home=tmp_path / "home", sources=str(registry), listings=str(site),
                             min_delay=0.0)
    summary = run_year(2024, settings)
    assert [(r.agency, r.outcome) for r in summary.reports] == [("六盘水市", PUBLISHED)]
    con = duckdb.connect(str(summary.marts_path), read_only=True)
    try:
        assert con.execute("select count(*) from fact_application").fetchone()[0] == 175
    finally:
        con.close()
