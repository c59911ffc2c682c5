"""Discovery against loopback sites shaped like real 政府信息公开年报 columns.

Two sites (tests/fixtures/listings/): 六盘水市 (UTF-8; TRS createPageHTML pager, index_N.html,
a missing index_2.html, relative and absolute links, a report listed twice, a department's
reports, attachments, notices/guides/解读 that are not reports) and 水城区 (served as GBK).
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from werkzeug import Response

from flows.commands.discover import cli_main
from sources.discover import (
    ListingsError,
    discover,
    discover_into_registry,
    load_listings,
    merge_registry,
    parse_listings,
    write_registry,
)
from sources.fetch import Fetcher
from sources.registry import Source, load_registry

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "listings"
LPS = "/zfxxgk/zfxxgknb/"
SC = "/zwgk/xxgknb/"


@pytest.fixture
def site(httpserver):
    """Serve the fixture listing pages; returns (base URL, path -> hit counter)."""
    base = httpserver.url_for("").rstrip("/")
    hits: dict[str, int] = {}

    def page(name: str, encoding: str, content_type: str):
        body = (FIXTURES / name).read_text(encoding="utf-8").replace("{{BASE}}", base).encode(encoding)

        def handler(request):
            hits[request.path] = hits.get(request.path, 0) + 1
            return Response(body, status=200, content_type=content_type)
        return handler

    utf8 = "text/html; charset=utf-8"
    for path, name in [(LPS, "lps_index.html"), (LPS + "index.html", "lps_index.html"),
                       (LPS + "index_1.html", "lps_index_1.html"), (LPS + "index_3.html", "lps_index_3.html"),
                       (LPS + "2020n/", "lps_2020n.html")]:
        httpserver.expect_request(path).respond_with_handler(page(name, "utf-8", utf8))
    # GBK bytes, declared only by <meta charset=gb2312>: the header gives no charset.
    for path, name in [(SC + "index.shtml", "shuicheng_index.html"), (SC + "index_1.shtml", "shuicheng_index_1.html")]:
        httpserver.expect_request(path).respond_with_handler(page(name, "gbk", "text/html"))
    # index_2.html is not served: pytest-httpserver answers 500 for unknown paths; make it a real 404.
    httpserver.expect_request(LPS + "index_2.html").respond_with_data("Not Found", status=404)
    return base, hits


def fetcher() -> Fetcher:
    return Fetcher(min_delay_s=0.0, retries=1, backoff_s=0.01, timeout=(2, 2))


def listings_csv(base: str) -> str:
    return (
        "agency,listing_url,province,city,county,level,parent\n"
        f"六盘水市,{base}{LPS},贵州省,六盘水市,,市,\n"
        f"水城区,{base}{SC}index.shtml,贵州省,六盘水市,水城区,县,六盘水市\n"
    )


EXPECTED_2024 = {
    # agency -> (url path, parent, level)
    "六盘水市": (LPS + "202501/t20250120_8812345.html", None, "市"),
    "六盘水市财政局": (LPS + "bmnb/202501/t20250125_8812400.html", "六盘水市", "部门"),
    "六盘水市民政局": (LPS + "bmnb/202501/t20250126_8812411.html", "六盘水市", "部门"),
    "钟山区": ("/u/cms/www/202502/zsq2024nb.pdf", "六盘水市", "县"),
    "六盘水市教育局": (LPS + "bmnb/202502/t20250210_8813001.html", "六盘水市", "部门"),
    "六盘水市水务局": ("/u/cms/www/202501/六盘水市水务局2024年政府信息公开工作年度报告.docx", "六盘水市", "部门"),
    "六盘水市发展和改革委员会": (LPS + "bmnb/202501/t20250127_8812500.html", "六盘水市", "部门"),
    "水城区": (SC + "202501/t20250115_1001.shtml", "六盘水市", "县"),
    "水城区卫生健康局": (SC + "202501/t20250118_1002.shtml", "水城区", "部门"),
}


def test_discover_finds_every_2024_report_once_and_nothing_else(site):
    base, hits = site
    listings = parse_listings(listings_csv(base))
    with fetcher() as f:
        result = discover(listings, f, years=[2024])
    got = {s.agency: s for s in result.sources}
    assert sorted(got) == sorted(EXPECTED_2024)
    assert len(result.sources) == len(EXPECTED_2024)  # the report listed twice is there once
    from urllib.parse import unquote
    for agency, (path, parent, level) in EXPECTED_2024.items():
        s = got[agency]
        assert unquote(s.url) == base + path, agency
        assert (s.year, s.parent, s.level, s.province) == (2024, parent, level, "贵州省"), agency
    assert got["六盘水市财政局"].city == "六盘水市"
    assert got["水城区卫生健康局"].county == "水城区"
    # The attachment rows are recognised as attachments.
    kinds = {f.source.agency: f.link.is_attachment for f in result.found}
    assert kinds["钟山区"] and kinds["六盘水市水务局"] and not kinds["六盘水市"]
    # The PDF of the city's report, listed on its own row, is an alternate, not a second report.
    assert [(f.source.agency, f.source.url.rsplit("/", 1)[-1]) for f in result.alternates] == [
        ("六盘水市", "lps2024nb.pdf")]
    # The year of the title without a year comes from its publication date.
    edu = next(f for f in result.found if f.source.agency == "六盘水市教育局")
    assert (edu.link.year_source, edu.link.published) == ("published", "2025-02-10")

    # Pagination: every page once (index.html is the folder page), the 404 recorded, the rest read.
    failed = [(p.url, p.error) for p in result.failed_pages]
    assert failed == [(base + LPS + "index_2.html", "http_404")]
    assert hits == {LPS: 1, LPS + "index_1.html": 1, LPS + "index_3.html": 1,
                    SC + "index.shtml": 1, SC + "index_1.shtml": 1}
    assert not result.truncated
    # Other years were seen (and are known to merge) but not returned.
    assert result.other_years == 5


def test_discover_all_years_and_the_gbk_page(site):
    base, _ = site
    with fetcher() as f:
        result = discover(parse_listings(listings_csv(base)), f)
    pairs = {(s.agency, s.year) for s in result.sources}
    assert {("六盘水市", 2023), ("六盘水市", 2022), ("六盘水市", 2021), ("水城区", 2023),
            ("水城区信访局", 2023)} <= pairs
    # The 2020 year sub-column is read when 2020 is wanted; its cut-short title still counts.
    assert {("六盘水市", 2020), ("六盘水市生态环境局", 2020)} <= pairs
    assert len(result.sources) == len(EXPECTED_2024) + 7
    titles = {f.link.title for f in result.found}
    assert "2023年度水城区政府信息公开工作年度报告" in titles  # GBK decoded, not mojibake
    assert not any(t for t in titles if any(w in t for w in ("通知", "指南", "解读", "图解", "一图", "要点", "申请表")))


def test_max_pages_stops_and_says_so(site):
    base, hits = site
    [lps] = [li for li in parse_listings(listings_csv(base)) if li.agency == "六盘水市"]
    with fetcher() as f:
        result = discover([lps], f, years=[2024], max_pages=1)
    assert len(result.pages) == 1 and result.truncated == [lps]
    assert hits == {LPS: 1}
    assert "六盘水市发展和改革委员会" not in {s.agency for s in result.sources}


def test_unreachable_listing_is_recorded_and_others_go_on(site):
    base, _ = site
    text = listings_csv(base) + f"某某县,{base}/nowhere/,贵州省,,某某县,县,\n"
    with fetcher() as f:
        result = discover(parse_listings(text), f, years=[2024])
    assert [p.listing.agency for p in result.failed_pages].count("某某县") == 1
    assert len(result.sources) == len(EXPECTED_2024)


# --------------------------------------------------------------------------- merge rules
def src(agency: str, url: str, year: int = 2024, **kw) -> Source:
    return Source(agency, year, url, **kw)


def test_merge_added_duplicate_and_moved():
    existing = [
        src("甲市", "http://a.gov.cn/1.html", province="某省"),
        src("甲市财政局", "http://a.gov.cn/old.html", province="某省", level="部门"),
        src("乙县", "http://b.gov.cn/x.html"),
    ]
    found = [
        src("甲市", "http://a.gov.cn/1.html", province="某省"),  # duplicate
        src("甲市财政局", "http://a.gov.cn/new.html", province="某省", city="甲市", parent="甲市"),  # moved
        src("甲市民政局", "http://a.gov.cn/mz.html"),  # added
        src("甲市民政局", "http://a.gov.cn/mz.html"),  # the same report again: added once
    ]
    merged, added, moved = merge_registry(existing, found)
    assert [s.url for s in added] == ["http://a.gov.cn/mz.html"]
    assert len(moved) == 1 and moved[0].old.url.endswith("old.html") and moved[0].new.url.endswith("new.html")
    # The moved row keeps its place and its own columns; empty ones are filled in.
    assert merged[1] == src("甲市财政局", "http://a.gov.cn/new.html", province="某省", city="甲市", level="部门",
                            parent="甲市")
    assert len(merged) == 4 and merged[2].agency == "乙县"
    # Merging the same discovery again changes nothing.
    again, added2, moved2 = merge_registry(merged, found)
    assert again == merged and not added2 and not moved2


def test_merge_keeps_the_known_row_when_its_url_is_still_listed():
    existing = [src("甲市", "http://a.gov.cn/html.html")]
    found = [src("甲市", "http://a.gov.cn/html.html"), src("甲市", "http://a.gov.cn/report.pdf")]
    merged, added, moved = merge_registry(existing, found)
    assert merged == existing and not added and not moved


def test_write_registry_round_trips_atomically(tmp_path):
    path = tmp_path / "reg" / "registry.csv"
    rows = [src("六盘水市", "http://a.gov.cn/1.html", province="贵州省", city="六盘水市", level="市"),
            src("六盘水市财政局", "http://a.gov.cn/2.html", parent="六盘水市", level="部门")]
    write_registry(path, rows)
    assert load_registry(path) == rows
    write_registry(path, rows[:1])
    assert load_registry(path) == rows[:1]
    assert [p.name for p in path.parent.iterdir()] == ["registry.csv"]  # no temp file left behind


# --------------------------------------------------------------------------- listings file, entry points
def test_listings_errors_name_the_line(tmp_path):
    bad = tmp_path / "listings.csv"
    bad.write_text("agency,listing_url,level\n"
                   "甲市,http://a.gov.cn/nb/,市\n"
                   ",http://b.gov.cn/nb/,\n"
                   "乙县,ftp://c.gov.cn/nb/,县\n"
                   "丙县,http://d.gov.cn/nb/,区\n"
                   "丁市,http://a.gov.cn/nb/,市\n", encoding="utf-8")
    with pytest.raises(ListingsError) as e:
        load_listings(bad)
    msg = str(e.value)
    assert "line 3: agency is empty" in msg
    assert "line 4: listing_url 'ftp://c.gov.cn/nb/' must start with http" in msg
    assert "line 5: level '区'" in msg
    assert "line 6: listing_url repeats line 2" in msg
    with pytest.raises(ListingsError, match="lacks required column.*listing_url"):
        parse_listings("agency,url\n甲,http://a/\n")


def test_discover_into_registry_adds_then_is_stable(site, tmp_path):
    base, _ = site
    listings = tmp_path / "listings.csv"
    listings.write_text(listings_csv(base), encoding="utf-8")
    registry = tmp_path / "registry.csv"
    write_registry(registry, [src("六盘水市", base + LPS + "202501/t20250120_8812345.html", province="贵州省")])
    with fetcher() as f:
        first = discover_into_registry(listings, registry, [2024], f)
        assert (first.found, first.added, first.moved, first.written) == (9, 8, 0, True)
        assert len(load_registry(registry)) == 9
        assert first.as_dict()["page_failures"] == [f"http_404 {base}{LPS}index_2.html"]
        second = discover_into_registry(listings, registry, [2024], f)
    assert (second.added, second.moved, second.written) == (0, 0, False)


def test_cli_prints_found_and_new_and_writes(site, tmp_path, monkeypatch):
    base, _ = site
    monkeypatch.setenv("XXGK_HOME", str(tmp_path))
    (tmp_path / "listings.csv").write_text(listings_csv(base), encoding="utf-8")
    out = io.StringIO()
    with fetcher() as f:
        rc = cli_main(["--year", "2024"], fetcher=f, out=out)
    text = out.getvalue()
    assert rc == 0
    assert "9 report(s) found" in text and "new: 9" in text and "page failed (http_404)" in text
    assert "new   2024 六盘水市财政局" in text
    assert not (tmp_path / "registry.csv").exists()  # no --write
    with fetcher() as f:
        rc = cli_main(["--year", "2024", "--write"], fetcher=f, out=io.StringIO())
    assert rc == 0 and len(load_registry(tmp_path / "registry.csv")) == 9
    err = cli_main(["--listings", str(tmp_path / "missing.csv")], out=io.StringIO())
    assert err == 2


def test_redirected_and_flaky_listing_page(httpserver):
    """A forwarding stub and a 301 are followed, relative links resolve against the final URL,
    a 503 is retried by the fetcher."""
    calls = {"n": 0}

    def flaky(request):
        calls["n"] += 1
        if calls["n"] == 1:
            return Response("busy", status=503, headers={"Retry-After": "0"})
        return Response('<html><body><ul><li><a href="202501/t1.html">甲县2024年政府信息公开工作年度报告</a></li>'
                        '</ul></body></html>', content_type="text/html; charset=utf-8")

    httpserver.expect_request("/zfxxgk/").respond_with_data(
        '<html><head><meta http-equiv="refresh" content="0;url=/nb"></head></html>', content_type="text/html")
    httpserver.expect_request("/nb").respond_with_data("", status=301, headers={"Location": "/nb/"})
    httpserver.expect_request("/nb/").respond_with_handler(flaky)
    [listing] = parse_listings(f"agency,listing_url\n甲县,{httpserver.url_for('/zfxxgk/')}\n")
    with fetcher() as f:
        result = discover([listing], f, years=[2024])
    assert [s.url for s in result.sources] == [httpserver.url_for("/nb/202501/t1.html")]
    assert calls["n"] == 2 and not result.failed_pages


def test_listing_pages_go_through_the_fetchers_fetch_url(site):
    """Listing pages use the polite fetcher's ``fetch_url`` and are not stored as reports."""
    base, _ = site

    class Recording:
        def __init__(self):
            self.inner, self.urls = fetcher(), []

        def fetch_url(self, url):
            self.urls.append(url)
            return self.inner.fetch_url(url)

    f = Recording()
    [lps] = [li for li in parse_listings(listings_csv(base)) if li.agency == "六盘水市"]
    result = discover([lps], f, years=[2024])
    f.inner.close()
    assert base + LPS in f.urls and len(result.sources) == 7
    assert [p.error for p in result.failed_pages] == ["http_404"]  # the broken next page, recorded


@pytest.mark.parametrize(("agency", "expected"), [
    (None, ("贵州省人民政府", None, None, "省", None)),
    # The listing's own body in other words: filed under the listing's name (issue 18).
    ("贵州省人民政府办公厅", ("贵州省人民政府", None, None, "省", None)),
    ("贵州省", ("贵州省人民政府", None, None, "省", None)),
    ("省财政厅", ("贵州省财政厅", None, None, "部门", "贵州省人民政府")),
    ("六盘水市", ("六盘水市", "六盘水市", None, "市", "贵州省人民政府")),
    ("水城区", ("水城区", None, "水城区", "县", "贵州省人民政府")),
    ("某某镇", ("某某镇", None, None, "乡镇街道", "贵州省人民政府")),
])
def test_source_for_files_under_the_titled_agency(agency, expected):
    from sources.discover import Listing, source_for
    from transforms.listing import ReportLink
    listing = Listing("贵州省人民政府", "http://www.guizhou.gov.cn/nb/", province="贵州省", level="省")
    s = source_for(ReportLink("http://www.guizhou.gov.cn/nb/t1.html", "t", 2024, agency, False), listing)
    assert (s.agency, s.city, s.county, s.level, s.parent) == expected
    assert s.province == "贵州省" and s.year == 2024
