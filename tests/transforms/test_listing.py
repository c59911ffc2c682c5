"""transforms.listing: which links on a listing page are reports, their year and agency, and
where the further pages of the listing are."""

from __future__ import annotations

import pytest

from transforms.listing import agency_from_title, extract_links, is_report_title, year_from_title

BASE = "http://www.example.gov.cn/zfxxgk/zfxxgknb/"


@pytest.mark.parametrize(("title", "year", "agency"), [
    ("六盘水市2024年政府信息公开工作年度报告", 2024, "六盘水市"),
    ("高平市人民政府办公室2023年政府信息公开工作年度报告", 2023, "高平市人民政府办公室"),
    ("临夏州公安局2023年度政府信息公开工作年度报告", 2023, "临夏州公安局"),
    ("武汉市公安局2024年度政府信息公开工作报告", 2024, "武汉市公安局"),  # 年度 before the phrase
    ("2022年度螅镇政府信息公开工作年度报告", 2022, "螅镇"),  # year first
    ("2023年石柱土家族自治县人民政府南宾街道办事处政府信息公开工作年度报告", 2023,
     "石柱土家族自治县人民政府南宾街道办事处"),
    ("普洱市人民政府办公室 2024 年政府信息公开工作年度报告", 2024, "普洱市人民政府办公室"),
    ("衢州市２０２２年政府信息公开年报", 2022, "衢州市"),  # full-width digits, 年报
    ("《某某区民政局2021年政府信息公开工作年度报告》", 2021, "某某区民政局"),
    ("【市教育局】政府信息公开工作年度报告（2023）", 2023, "市教育局"),
    ("2023年政府信息公开工作年度报告（某某县统计局）", 2023, "某某县统计局"),
    ("2023年政府信息公开工作年度报告", 2023, None),
    ("某某市商务局政府信息公开工作年度报告", None, "某某市商务局"),
    ("某某市2020年度政府信息公开年度报告", 2020, "某某市"),
])
def test_report_titles(title, year, agency):
    assert is_report_title(title)
    assert year_from_title(title) == year
    assert agency_from_title(title) == agency


@pytest.mark.parametrize("title", [
    "关于做好2023年政府信息公开工作年度报告编制和发布工作的通知",
    "关于印发《中华人民共和国政府信息公开工作年度报告格式》的通知",
    "某某市人民政府政府信息公开指南",
    "某某市2024年政务公开工作要点",
    "某某市政府信息公开目录",
    "某某市政府信息公开制度",
    "政府信息公开申请表",
    "某某市2023年统计年报",
    "某某市2023年财政决算报告",
    "《某某市2023年政府信息公开工作年度报告》解读",
    "图解：某某市2023年政府信息公开工作年度报告",
    "一图读懂某某市2023年政府信息公开工作年度报告",
    "某某市2023年上半年政府信息公开工作报告",
    "关于某某市2023年政府信息公开工作年度报告的更正说明",
    "某某市2023年国民经济和社会发展统计公报",
    "关于公布2024年度政府信息公开工作年度报告的公告",
    "",
])
def test_not_report_titles(title):
    assert not is_report_title(title)


def page(items: str, extra: str = "") -> str:
    return f"<html><head><title>年报</title></head><body><ul>{items}</ul>{extra}</body></html>"


def test_links_absolute_deduplicated_and_title_attribute_preferred():
    html = page(
        '<li><a href="./202501/t1.html" title="某某市2024年政府信息公开工作年度报告">某某市2024年政府信息…</a>'
        '<span>2025-01-20</span></li>'
        '<li><a href="/zfxxgk/zfxxgknb/202501/t1.html#top">某某市2024年政府信息公开工作年度报告</a></li>'
        '<li><a href="http://other.gov.cn/nb/t2.html">某某市财政局2024年政府信息公开工作年度报告</a></li>'
        '<li><a href="javascript:void(0)">某某市2022年政府信息公开工作年度报告</a></li>'
    )
    links = extract_links(html, BASE).reports
    assert [r.url for r in links] == [BASE + "202501/t1.html", "http://other.gov.cn/nb/t2.html"]
    first = links[0]
    assert (first.title, first.year, first.agency, first.published) == (
        "某某市2024年政府信息公开工作年度报告", 2024, "某某市", "2025-01-20")
    assert not first.is_attachment


def test_base_href_is_honoured():
    html = ('<html><head><base href="http://cdn.example.gov.cn/a/"></head><body>'
            '<a href="t1.html">某某县2024年政府信息公开工作年度报告</a></body></html>')
    assert [r.url for r in extract_links(html, BASE).reports] == ["http://cdn.example.gov.cn/a/t1.html"]


def test_year_missing_from_title_comes_from_date_or_column():
    html = page(
        '<li><a href="a/t20250210_1.html">某某市教育局政府信息公开工作年度报告</a> 发布日期：2025年02月10日</li>'
        '<li><a href="/nb/2023n/t1.html">某某市交通局政府信息公开工作年度报告</a></li>'
        '<li><a href="/x/202401/t20240115_2.html">某某市水务局政府信息公开工作年度报告</a></li>'
        '<li><a href="/zfxxgk/zfxxgknb/">政府信息公开年报</a></li>'  # the column's own nav link
        '<li><a href="/zfxxgk/zfxxgknb/2023/">2023年政府信息公开工作年度报告</a></li>'  # a sub-column folder
    )
    got = {r.agency: (r.year, r.year_source) for r in extract_links(html, BASE).reports}
    assert got == {"某某市教育局": (2024, "published"), "某某市交通局": (2023, "column"),
                   "某某市水务局": (2023, "url")}


def test_attachments_by_own_text_file_name_or_row():
    html = page(
        '<li><span>某某区2024年政府信息公开年报</span> <a href="/u/a.pdf">[下载]</a> 2025-02-01</li>'
        '<li><a href="/u/%E6%9F%90%E6%9F%90%E5%B1%802024%E5%B9%B4%E6%94%BF%E5%BA%9C%E4%BF%A1%E6%81%AF'
        '%E5%85%AC%E5%BC%80%E5%B7%A5%E4%BD%9C%E5%B9%B4%E5%BA%A6%E6%8A%A5%E5%91%8A.docx">附件1</a></li>'
        '<li><a href="/u/c.wps">某某镇2024年政府信息公开工作年度报告.wps</a></li>'
        '<li><a href="t9.html">某某市2024年政府信息公开工作年度报告</a> <a href="/u/t9.pdf">PDF版</a></li>'
        '<li>政府信息公开申请表 <a href="/u/sqb.doc">下载</a></li>'
        '<li><a href="/u/jd.pdf">2024年政府信息公开工作年度报告解读.pdf</a></li>'
    )
    reports = extract_links(html, BASE).reports
    got = {r.agency: (r.url.rsplit("/", 1)[-1], r.is_attachment) for r in reports}
    assert got["某某区"] == ("a.pdf", True)
    assert got["某某局"][1] is True and got["某某局"][0].endswith(".docx")
    assert got["某某镇"] == ("c.wps", True)
    # The PDF next to a report page is that page's download, not a second report.
    assert got["某某市"] == ("t9.html", False)
    assert len(reports) == 4


def test_pagination_next_links_and_index_n():
    html = page(
        '<li><a href="t1.html">某某市2024年政府信息公开工作年度报告</a></li>',
        '<div class="page"><a href="/">首页</a> <a href="index_1.html">2</a> <a href="index_2.html">3</a>'
        ' <a href="list.jsp?page=2">下一页</a> <a href="/other/index_5.html">6</a>'
        ' <a href="javascript:nextPage()">下一页</a> <a href="http://elsewhere.gov.cn/index_1.html">下一页</a></div>',
    )
    nxt = extract_links(html, BASE).next_pages
    assert nxt == [BASE + "index_1.html", BASE + "index_2.html", BASE + "list.jsp?page=2"]


@pytest.mark.parametrize(("script", "url", "expected"), [
    ('createPageHTML(3, 0, "index", "shtml");', BASE, ["index_1.shtml", "index_2.shtml"]),
    ("var countPage = 3;var currentPage = 1;createPageHTML(countPage, currentPage, 'index', 'html');",
     BASE + "index_1.html", ["index.html", "index_2.html"]),
    ("createPageHTML('page_div', 3, 2, 'index', 'html', 51);", BASE + "index_2.html", ["index.html", "index_1.html"]),
    ('createPageHTML(1, 0, "index", "html");', BASE, []),
])
def test_pagination_create_page_html(script, url, expected):
    html = page("", f"<script>{script}</script>")
    assert extract_links(html, url).next_pages == [BASE + e for e in expected]


def test_query_page_numbers_and_garbage():
    html = page("", '<a href="?page=2">2</a><a href="?page=3">[3]</a><a href="/elsewhere?page=4">4</a>')
    assert extract_links(html, BASE).next_pages == [BASE + "?page=2", BASE + "?page=3"]
    assert extract_links("", BASE).reports == []
    assert extract_links("<<<>>>\x00", BASE).reports == []


def test_cut_short_titles_tags_and_dates_in_link_text():
    html = page(
        '<li><a href="t1.html">某某市财政局2024年政府信息公开工作年度...</a></li>'
        '<li><a href="t2.html">[置顶] 2024年度政府信息公开工作年度报告</a></li>'
        '<li><a href="t3.html">某某市商务局政府信息公开工作年度报告 2025-01-20</a></li>'
        '<li><a href="t4.html">某某市2024年政府信息公开...</a></li>'  # could be a 指南: not taken
    )
    got = {r.url.rsplit("/", 1)[-1]: (r.agency, r.year) for r in extract_links(html, BASE).reports}
    assert got == {"t1.html": ("某某市财政局", 2024), "t2.html": (None, 2024), "t3.html": ("某某市商务局", 2024)}


def test_hanweb_records_in_a_script_are_read():
    html = ('<html><body><div id="list"><script type="text/xml"><datastore><recordset>'
            '<record><![CDATA[<li><a href="/art/2025/1/20/art_1_1.html">某某县2024年政府信息公开工作年度报告</a>'
            '<span>2025-01-20</span></li>]]></record>'
            '<record><![CDATA[<li><a href="/art/2024/1/20/art_1_2.html">某某县2024年政务公开工作要点</a></li>]]>'
            '</record></recordset></datastore></script></div></body></html>')
    reports = extract_links(html, "http://www.x.gov.cn/col/col1/index.html").reports
    assert [(r.url, r.agency, r.year) for r in reports] == [
        ("http://www.x.gov.cn/art/2025/1/20/art_1_1.html", "某某县", 2024)]


def test_next_labels_and_year_sub_columns():
    html = page("", '<a href="p2.html">[下一页]</a> <a href="p3.html" title="下一页"><img src="n.gif"></a>'
                    ' <a href="p9.html">下一页 &gt;&gt;</a> <a href="/">首页</a>'
                    ' <a href="2023n/">2023年度</a> <a href="2022n/index.html">2022年</a>'
                    ' <a href="/zfxxgk/zn/">政府信息公开指南</a> <a href="bm/">部门年报</a>'
                    ' <a href="tz/">通知公告</a>')
    got = extract_links(html, BASE)
    assert got.next_pages == [BASE + "p2.html", BASE + "p3.html", BASE + "p9.html"]
    assert got.sub_listings == [(BASE + "2023n/", 2023), (BASE + "2022n/index.html", 2022), (BASE + "bm/", None)]


def test_publisher_cell_names_the_agency_when_the_title_does_not():
    html = ('<table><tr><th>序号</th><th>标题</th><th>发布机构</th><th>日期</th></tr>'
            '<tr><td>1</td><td><a href="t1.html">2024年度政府信息公开工作年度报告</a></td><td>市财政局</td>'
            '<td>2025-01-20</td></tr>'
            '<tr><td>2</td><td><a href="t2.html">二〇二四年度政府信息公开工作年度报告</a></td>'
            '<td>发布机构：某某县民政局</td></tr>'
            '<tr><td>3</td><td><a href="t3.html">2024年度政府信息公开工作年度报告</a></td><td>2025-01-21</td></tr></table>')
    got = [(r.url.rsplit("/", 1)[-1], r.agency, r.year) for r in extract_links(html, BASE).reports]
    assert got == [("t1.html", "市财政局", 2024), ("t2.html", "某某县民政局", 2024), ("t3.html", None, 2024)]


def test_whitespace_in_href_is_cleaned():
    html = page('<li><a href="/u/某某县 2024年\n政府信息公开工作年度报告.pdf">某某县2024年政府信息公开工作年度报告</a></li>')
    [r] = extract_links(html, BASE).reports
    assert r.url == "http://www.example.gov.cn/u/某某县%202024年政府信息公开工作年度报告.pdf" and r.is_attachment
