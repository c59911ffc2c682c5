"""The report site of `xxgk demo`: built after the publish, Chinese pages, SVG charts, nothing
from the internet; loaded in a real headless Chromium with no console error and a visible page."""

from __future__ import annotations

import io
import re

import pytest
from browser import Browser
from PIL import Image

from reportsite.build import build_site


def site_pages(home):
    return sorted((home / "site").rglob("*.html"))


def test_the_demo_built_a_site_with_a_page_per_agency_and_charts(demo_home):
    import duckdb

    index = demo_home / "site" / "index.html"
    assert index.is_file()  # built by the publish itself
    with duckdb.connect(str(demo_home / "marts.duckdb"), read_only=True) as con:
        agencies = {a for (a,) in con.execute("SELECT agency_id FROM dim_agency").fetchall()}
        published = {a for (a,) in con.execute("SELECT DISTINCT agency_id FROM mart_agency_year").fetchall()}
    assert {p.stem for p in (demo_home / "site" / "agency").glob("*.html")} == agencies
    for page in site_pages(demo_home):
        html = page.read_text(encoding="utf-8")
        assert '<html lang="zh-CN">' in html
        # nothing is loaded from anywhere: no script at all, no stylesheet, image or font by URL
        assert "<script" not in html and "<link" not in html and "<img" not in html and "url(" not in html
        assert not re.search(r'\bsrc\s*=', html)
    for agency in published:
        html = (demo_home / "site" / "agency" / f"{agency}.html").read_text(encoding="utf-8")
        assert html.count("<svg") >= 3 and "收到申请及办理结果" in html and "公开率" in html
        assert "存档副本" in html and "http://127.0.0.1" in html  # stored copy and source URL
    pingtan = next(p for p in (demo_home / "site" / "agency").glob("*.html")
                   if "<h1>平潭综合实验区</h1>" in p.read_text(encoding="utf-8"))
    html = pingtan.read_text(encoding="utf-8")
    assert ">2023<" in html and ">2024<" in html and "X2" in html  # two years, and the warning in words
    puer = next(p for p in (demo_home / "site" / "agency").glob("*.html")
                if "普洱市人民政府办公室" in p.read_text(encoding="utf-8"))
    assert "已隔离" in puer.read_text(encoding="utf-8") and "H7" in puer.read_text(encoding="utf-8")


def test_an_agency_page_shows_its_years_table_only_when_it_has_more_than_one_year(demo_home):
    import duckdb

    with duckdb.connect(str(demo_home / "marts.duckdb"), read_only=True) as con:
        years = dict(con.execute("SELECT agency_id, count(*) FROM mart_agency_year GROUP BY agency_id").fetchall())
    assert 1 in years.values() and max(years.values()) > 1  # the demo has both kinds
    for agency, n in years.items():
        html = (demo_home / "site" / "agency" / f"{agency}.html").read_text(encoding="utf-8")
        # the figures' header: the year's table, then for several years the table of every year
        assert html.count("<th>新收申请</th>") == (1 if n == 1 else 2), (agency, n)


def test_site_rebuild_replaces_the_old_one(demo_home, tmp_path):
    import shutil

    home = tmp_path / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns("site", "*.wal"))
    (home / "site" / "agency").mkdir(parents=True)
    (home / "site" / "agency" / "stale.html").write_text("old", encoding="utf-8")
    index = build_site(home)
    assert index == home / "site" / "index.html" and not (home / "site" / "agency" / "stale.html").exists()
    assert not [p for p in home.iterdir() if p.name.startswith(".site")]


def test_agency_pages_written_in_parts_make_the_same_site(demo_home, tmp_path):
    import shutil

    from reportsite.build import write_agency_pages

    home = tmp_path / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns("*.wal"))
    build_site(home)
    whole = {p.relative_to(home / "site"): p.read_bytes() for p in site_pages(home)}
    jobs_seen: list = []

    def in_parts(jobs):  # as the parse workers would, one job at a time
        jobs_seen.extend(jobs)
        for job in jobs:
            write_agency_pages(*job)

    build_site(home, shards=3, run_shards=in_parts)
    assert len(jobs_seen) == 3
    assert {p.relative_to(home / "site"): p.read_bytes() for p in site_pages(home)} == whole

    def lose_a_part(jobs):
        write_agency_pages(*jobs[0])

    with pytest.raises(RuntimeError, match="not all written"):
        build_site(home, shards=3, run_shards=lose_a_part)
    assert {p.relative_to(home / "site"): p.read_bytes() for p in site_pages(home)} == whole  # the old site stays


@pytest.mark.slow
def test_pages_load_in_headless_chromium_without_errors_or_internet(demo_home, tmp_path):
    pages = site_pages(demo_home)
    assert len(pages) >= 8
    browser = Browser()
    try:
        for page in pages:
            got = browser.load(page.as_uri())
            assert got.errors == [], (page, got.errors)
            assert all(u.startswith(("file://", "data:", "about:")) for u in got.requests), got.requests
            img = Image.open(io.BytesIO(got.screenshot)).convert("RGB")
            colors = img.getcolors(maxcolors=1 << 20) or []
            assert len(colors) > 20, f"{page}: the screenshot looks blank"
            if page.name == "index.html" or "平潭" in page.read_text(encoding="utf-8"):
                img.save(tmp_path / f"{page.parent.name}_{page.stem}.png")
    finally:
        browser.close()


def test_every_check_has_chinese_words_on_the_site():
    from transforms import formatspec as fs

    assert set(fs.CHECK_WORDS_ZH) == set(fs.INVARIANTS_BY_ID) | set(fs.OTHER_CHECKS)


def test_a_rendered_site_shows_only_when_swapped_in(demo_home, tmp_path):
    import shutil

    from reportsite.build import discard, render_site, swap_in

    home = tmp_path / "home"
    shutil.copytree(demo_home, home, ignore=shutil.ignore_patterns("*.wal"))
    whole = {p.relative_to(home / "site"): p.read_bytes() for p in site_pages(home)}
    (home / "site" / "agency" / "stale.html").write_text("old", encoding="utf-8")
    tmp = render_site(home / "marts.duckdb", home)
    assert (home / "site" / "agency" / "stale.html").exists()  # the old site until the swap
    discard(tmp)  # a publish that failed: its site never shows
    assert not tmp.exists() and (home / "site" / "agency" / "stale.html").exists()
    swap_in(home, render_site(home / "marts.duckdb", home))
    assert {p.relative_to(home / "site"): p.read_bytes() for p in site_pages(home)} == whole
    assert not [p for p in home.iterdir() if p.name.startswith(".site")]
