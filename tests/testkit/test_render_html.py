"""render_html: the template's merged cells, values in the right places, encodings."""

from __future__ import annotations

import lxml.html
import pytest

from testkit.render import render_html
from transforms import formatspec as fs
from transforms.decode import decode


def grid(table) -> list[list[str]]:
    """Expand rowspan/colspan into a full grid of cell texts."""
    cells: dict[tuple[int, int], str] = {}
    for r, tr in enumerate(table.xpath("./tbody/tr|./tr")):
        c = 0
        for td in tr.xpath("./td"):
            while (r, c) in cells:
                c += 1
            rs, cs = int(td.get("rowspan", 1)), int(td.get("colspan", 1))
            for i in range(rs):
                for j in range(cs):
                    cells[(r + i, c + j)] = td.text_content().strip()
            c += cs
    rows = max(k[0] for k in cells) + 1
    cols = max(k[1] for k in cells) + 1
    return [[cells.get((r, c), "?") for c in range(cols)] for r in range(rows)]


def make_report(tpl: str) -> dict:
    n = iter(range(1, 10_000))
    return {
        "contract": "xxgk.report/1",
        "agency": "测试局",
        "year": 2024,
        "templates": {fs.ACTIVE_DISCLOSURE: tpl, fs.APPLICATIONS: tpl, fs.REVIEW_LITIGATION: fs.STANDARD},
        fs.ACTIVE_DISCLOSURE: {it.key: {m: next(n) for m in it.measures} for it in fs.AD_ITEMS[tpl]},
        fs.APPLICATIONS: {r.key: {c.key: next(n) for c in fs.APPLICANT_COLUMNS} for r in fs.app_rows(tpl)},
        fs.REVIEW_LITIGATION: {g.key: {o.key: next(n) for o in fs.RL_OUTCOMES} for g in fs.RL_GROUPS},
        "findings": [],
    }


PARAS = [
    "前言。",
    "一、总体情况",
    "总体。",
    "二、主动公开政府信息情况",
    "三、收到和处理政府信息公开申请情况",
    "本年收到申请。",
    "四、政府信息公开行政复议、行政诉讼情况",
    "五、存在的主要问题及改进情况",
    "问题。",
    "六、其他需要报告的事项",
]


def tables_of(page: bytes):
    doc = lxml.html.fromstring(page)
    return doc, doc.xpath('//div[@id="zoom"]/table')


@pytest.mark.parametrize("tpl", fs.TEMPLATES)
def test_every_value_lands_in_its_template_cell(tpl):
    report = make_report(tpl)
    doc, (t1, t2, t3) = tables_of(
        render_html(report, title="测试局2024年政府信息公开工作年度报告", paragraphs=PARAS)
    )
    g1, g2, g3 = grid(t1), grid(t2), grid(t3)
    assert "?" not in sum(g1 + g2 + g3, [])
    # Table 1: one 4-column table, captions across all four columns.
    assert {len(r) for r in g1} == {4}
    for block in {it.block for it in fs.AD_ITEMS[tpl]}:
        assert [block.replace("(", "（").replace(")", "）")] * 4 in g1
    for it in fs.AD_ITEMS[tpl]:
        row = next(r for r in g1 if r[0] == it.label)
        values = list(dict.fromkeys(row[1:]))  # a widened cell repeats in the grid
        assert values == [str(report[fs.ACTIVE_DISCLOSURE][it.key][m]) for m in it.measures]
    # Table 2: 3 header rows x 10 columns, then one row per value row of the template.
    rows = fs.app_rows(tpl)
    assert len(g2) == 3 + len(rows) and {len(r) for r in g2} == {10}
    note = t2.xpath(".//td")[0]
    assert (note.get("rowspan"), note.get("colspan")) == ("3", "3") and "勾稽关系" in note.text_content()
    for i, r in enumerate(rows):
        assert g2[3 + i][3:] == [str(report[fs.APPLICATIONS][r.key][c.key]) for c in fs.APPLICANT_COLUMNS]
    results = t2.xpath('.//td[starts-with(normalize-space(.), "三、本年度办理结果")]')
    assert results[0].get("rowspan") == str(len(fs.app_leaves(tpl)) + 1)  # 22 (F2021) / 20 (F2019)
    # Table 3: 3 header rows, one row of 15 values.
    assert len(g3) == 4 and g3[0][:5] == ["行政复议"] * 5 and g3[0][5:] == ["行政诉讼"] * 10
    assert g3[3] == [
        str(report[fs.REVIEW_LITIGATION][g.key][o.key]) for g in fs.RL_GROUPS for o in fs.RL_OUTCOMES
    ]
    # Each table sits at the end of its section.
    zoom = doc.xpath('//div[@id="zoom"]')[0]
    order = [el.tag if el.tag == "table" else el.text_content() for el in zoom]
    assert order.index("本年收到申请。") + 1 == order.index("table", order.index("本年收到申请。"))
    assert order[order.index("四、政府信息公开行政复议、行政诉讼情况") + 1] == "table"


def test_blank_cells_decimals_and_missing_tables():
    report = make_report(fs.F2021)
    report[fs.ACTIVE_DISCLOSURE]["fees"]["amount_10k_yuan"] = 24543.72933
    report[fs.APPLICATIONS]["granted"]["total"] = None
    report[fs.REVIEW_LITIGATION] = None
    report["templates"][fs.REVIEW_LITIGATION] = None
    doc, tables = tables_of(render_html(report, title="t", paragraphs=PARAS))
    assert len(tables) == 2
    assert "24543.72933" in grid(tables[0])[-1]
    granted = next(r for r in grid(tables[1]) if r[1].startswith("（一）予以公开"))
    assert granted[-1] == "" and granted[3] != ""
    assert "四、政府信息公开行政复议、行政诉讼情况" in doc.text_content()  # heading kept, nothing under it


def test_gbk_page_declares_and_uses_gbk():
    page = render_html(
        make_report(fs.F2021),
        title="南宾街道办事处2024年政府信息公开工作年度报告",
        paragraphs=["一、总体情况", "南宾街道∙政务公开"],
        encoding="gbk",
    )
    with pytest.raises(UnicodeDecodeError):
        page.decode("utf-8")
    d = decode(page)
    assert d.encoding == "gb18030" and d.encoding_source == "meta"
    assert "南宾街道办事处" in d.text and "&#8729;" in d.text  # a character GBK lacks becomes a reference
    with pytest.raises(ValueError, match="encoding"):
        render_html(make_report(fs.F2021), title="t", paragraphs=[], encoding="big5")


def test_meta_table_and_label_overrides():
    page = render_html(
        make_report(fs.F2021),
        title="t",
        paragraphs=PARAS,
        meta=[("索引号", "1133/2023-1"), ("发布机构", "市政府办公室"), ("公开方式", "主动公开")],
        labels={"本年制发件数": "本年新发件数"},
    ).decode()
    doc = lxml.html.fromstring(page)
    meta = grid(doc.xpath('//table[@class="meta"]')[0])
    assert meta[0] == ["索引号：", "1133/2023-1", "发布机构：", "市政府办公室"]
    assert meta[1][:2] == ["公开方式：", "主动公开"]
    assert "本年新发件数" in page and "本年制发件数" not in page


@pytest.mark.parametrize("tpl", fs.TEMPLATES)
@pytest.mark.parametrize("encoding", ["utf-8", "gbk"])
def test_rendered_page_parses_back_to_the_same_numbers(tpl, encoding):
    parse = pytest.importorskip("transforms.parse")
    report = make_report(tpl)
    report[fs.APPLICATIONS]["granted"]["research"] = None
    page = render_html(
        report, title="测试局2024年政府信息公开工作年度报告", paragraphs=PARAS, encoding=encoding
    )
    got = parse.parse_document(page).report
    for table in fs.TABLES:
        assert got[table] == report[table], table
