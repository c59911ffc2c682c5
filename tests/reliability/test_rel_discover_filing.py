"""Fault 10 (issue 18): discovery files a listing's reports under the listing's agency.

A city's column titles its reports "六盘水市…" one year and "六盘水市人民政府…" the next; a
street office's column uses its short name "南宾街道办事处"; a sidebar links the province's
report on another host. Every report of a listing is filed under the listings file's name for
it (one body, one name, every year), the other host's report is not taken, and
``xxgk discover --min-delay`` spaces the requests as asked even when the settings say 0.
"""

from __future__ import annotations

import time

import pytest
from rel_site import Site, response

from flows.cli import main
from sources.registry import load_registry

pytestmark = [pytest.mark.reliability]
HTML = {"Content-Type": "text/html; charset=utf-8"}


def listing_page(items: list[tuple[str, str]], more: str = "") -> bytes:
    lis = "".join(f'<li><a href="{href}" target="_blank">{title}</a><span class="date">2025-01-20</span></li>'
                  for href, title in items)
    return (f'<html><head><meta charset="utf-8"><title>政府信息公开年报</title></head><body>'
            f'<div class="list"><ul>{lis}</ul></div>{more}</body></html>').encode()


def test_discovery_files_every_report_of_a_listing_under_its_agency(tmp_path, monkeypatch):
    city, province = Site(), Site()
    starts: list[float] = []

    def timed(body: bytes):
        def fn(conn, _n):
            starts.append(time.monotonic())
            conn.sendall(response(200, body, HTML))
        return fn

    try:
        sidebar = (f'<div class="side"><a href="{province.url("/gz2024.html")}">'
                   f'贵州省人民政府2024年政府信息公开工作年度报告</a></div>')
        city.route("/nb/", timed(listing_page([
            ("/nb/2024.html", "六盘水市2024年政府信息公开工作年度报告"),
            ("/nb/2023.html", "六盘水市人民政府2023年政府信息公开工作年度报告"),
            ("/nb/bm2024.html", "市财政局2024年政府信息公开工作年度报告"),
        ], sidebar + '<div class="page"><a href="index_1.html">下一页</a></div>')))
        city.route("/nb/index_1.html", timed(listing_page([
            ("/nb/2022.html", "六盘水市人民政府办公室2022年政府信息公开工作年度报告")], sidebar)))
        city.route("/nanbin/", timed(listing_page([
            ("/nanbin/2024.html", "南宾街道办事处2024年政府信息公开工作年度报告"),
            ("/nanbin/2023.html", "2023年政府信息公开工作年度报告")])))
        listings = tmp_path / "listings.csv"
        listings.write_text(
            "agency,listing_url,province,city,county,level,parent\n"
            f"六盘水市人民政府,{city.url('/nb/')},贵州省,六盘水市,,市,\n"
            f"石柱县南宾街道,{city.url('/nanbin/')},重庆市,,石柱县,乡镇街道,石柱县人民政府\n", encoding="utf-8")
        registry = tmp_path / "registry.csv"
        monkeypatch.setenv("XXGK_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("XXGK_MIN_DELAY", "0")  # the settings say 0; the command line says 0.6
        assert main(["discover", "--listings", str(listings), "--registry", str(registry), "--write",
                     "--min-delay", "0.6"]) == 0
    finally:
        city.close()
        province.close()
    rows = load_registry(registry)
    by_agency: dict[str, set[int]] = {}
    for s in rows:
        by_agency.setdefault(s.agency, set()).add(s.year)
    assert by_agency == {"六盘水市人民政府": {2022, 2023, 2024}, "石柱县南宾街道": {2023, 2024},
                         "六盘水市财政局": {2024}}, rows
    assert not [s for s in rows if str(province.port) in s.url]  # the other host's report is not taken
    nanbin = [s for s in rows if s.agency == "石柱县南宾街道"]
    assert {s.parent for s in nanbin} == {"石柱县人民政府"} and {s.county for s in nanbin} == {"石柱县"}
    dept = next(s for s in rows if s.agency == "六盘水市财政局")
    assert dept.parent == "六盘水市人民政府"
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:], strict=False)]
    assert len(starts) == 3 and min(gaps) >= 0.55, gaps
