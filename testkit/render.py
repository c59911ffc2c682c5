"""Render a contract report (CONTRACT.md §1) as a government web page (pure: no I/O).

The three tables come out as the official template lays them out (FORMAT.md §2-§5):
merged cells as ``rowspan``/``colspan``, group labels spanning their rows, captions
spanning the table. Rows, labels and keys are read from ``transforms.formatspec``; only
presentation words the format description does not carry (信息内容, the 勾稽关系 note,
法人或其他组织) are written here.

``render_html(report, title=..., paragraphs=[...])`` places each table at the end of its
section: after the last paragraph that belongs to 二、(table 1), 三、(table 2) or 四、
(table 3), sections being recognised by their headings (formatspec.SECTION_HEADING). A
table whose section heading is absent is appended at the end; a table that is ``None``
in the report is left out (its heading stays, with nothing under it, as on real pages
whose tables are images or attachments). ``None`` cells render blank; a string value
(``"/"``, ``"251000元"``) renders as written.

Used by the bundled sample corpus (testkit/build_samples.py) and by the benchmark corpus
generator.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal

from transforms import formatspec as fs

TEMPLATE_NOTE = "（本列数据的勾稽关系为：第一项加第二项之和，等于第三项加第四项之和）"
ORG_GROUP = "法人或其他组织"
CONTENT_HEADER = "信息内容"
_HEADING = re.compile(fs.SECTION_HEADING)
_SECTION_OF_TABLE = {fs.ACTIVE_DISCLOSURE: "二", fs.APPLICATIONS: "三", fs.REVIEW_LITIGATION: "四"}
_FULLWIDTH = str.maketrans({"(": "（", ")": "）", ":": "："})

_CSS = """body{font-family:"Microsoft YaHei",SimSun,serif;margin:0;background:#f4f4f4;color:#333}
.header{background:#b40000;color:#fff;padding:12px 24px;font-size:20px}
.crumb{padding:8px 24px;font-size:12px;color:#666}
.main{width:960px;margin:0 auto;background:#fff;padding:24px 40px}
h1{font-size:22px;text-align:center;color:#c00}
.meta{width:100%;border-collapse:collapse;font-size:13px;background:#fafafa;margin-bottom:16px}
.meta td{border:1px solid #ddd;padding:4px 8px}
.content p{text-indent:2em;line-height:1.9;font-size:16px}
.content table{border-collapse:collapse;margin:8px auto;font-size:14px}
.content td{border:1px solid #000;padding:4px;text-align:center}
.footer{text-align:center;font-size:12px;color:#999;padding:16px}"""


def official(label: str, fullwidth: bool = True) -> str:
    """A formatspec label as the template prints it: full-width brackets, curly quotes."""
    if not fullwidth:
        return label
    out = label.translate(_FULLWIDTH)
    parts = out.split('"')
    if len(parts) == 3:
        out = f"{parts[0]}“{parts[1]}”{parts[2]}"
    return out


def format_value(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        raise TypeError("a cell value cannot be a boolean")
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        s = repr(v)
        return format(Decimal(s), "f") if "e" in s or "E" in s else s
    if isinstance(v, Decimal):
        return format(v, "f")
    return str(v)


def _td(text: str, rowspan: int = 1, colspan: int = 1, esc: bool = True) -> str:
    attrs = (f' rowspan="{rowspan}"' if rowspan > 1 else "") + (
        f' colspan="{colspan}"' if colspan > 1 else ""
    )
    return f"<td{attrs}>{html.escape(text) if esc else text}</td>"


def _tr(cells: Sequence[str]) -> str:
    return "<tr>" + "".join(cells) + "</tr>"


def _cell(body: Mapping | None, item: str, measure: str):
    if not isinstance(body, Mapping):
        return None
    row = body.get(item)
    return row.get(measure) if isinstance(row, Mapping) else None


def table_active_disclosure(
    body: Mapping | None, template: str, labels: Mapping[str, str] | None = None, fullwidth: bool = True
) -> str:
    """Table 1: one 4-column table, captions spanning 4 columns, short blocks' last cell widened."""
    lab = _labeler(labels, fullwidth)
    measures = fs.AD_MEASURES[template]
    rows: list[str] = []
    blocks: dict[str, list[fs.Item]] = {}
    for it in fs.AD_ITEMS[template]:
        blocks.setdefault(it.block, []).append(it)
    for block, items in blocks.items():
        rows.append(_tr([_td(lab(block), colspan=4)]))
        keys = items[0].measures
        widen = 3 - len(keys) + 1  # the last measure column takes up the rest of the 3 value columns
        header = [_td(lab(CONTENT_HEADER))]
        for j, key in enumerate(keys):
            header.append(_td(lab(measures[key].label), colspan=widen if j == len(keys) - 1 else 1))
        rows.append(_tr(header))
        for it in items:
            cells = [_td(lab(it.label))]
            for j, key in enumerate(it.measures):
                cells.append(
                    _td(format_value(_cell(body, it.key, key)), colspan=widen if j == len(keys) - 1 else 1)
                )
            rows.append(_tr(cells))
    return _table(rows)


def table_applications(
    body: Mapping | None, template: str, labels: Mapping[str, str] | None = None, fullwidth: bool = True
) -> str:
    """Table 2: 3 header rows x 10 columns; 三、本年度办理结果 and the groups as rowspans."""
    lab = _labeler(labels, fullwidth)
    cols = fs.APPLICANT_COLUMNS
    rows = [
        _tr([_td(lab(TEMPLATE_NOTE), rowspan=3, colspan=3), _td(lab("申请人情况"), colspan=7)]),
        _tr(
            [
                _td(lab(cols[0].label), rowspan=2),
                _td(lab(ORG_GROUP), colspan=5),
                _td(lab(cols[-1].label), rowspan=2),
            ]
        ),
        _tr([_td(lab(c.label)) for c in cols[1:-1]]),
    ]
    app_rows = fs.app_rows(template)
    results = [r for r in app_rows if r.leaf or r.key == "total_processed"]
    groups = {g.key: g for g in fs.APP_GROUPS}
    group_size = {g: sum(1 for r in app_rows if r.group == g) for g in groups}
    seen_groups: set[str] = set()
    section_label = fs.APP_SECTION_LABELS[0].replace("\\", "")
    for r in app_rows:
        values = [_td(format_value(_cell(body, r.key, c.key))) for c in cols]
        if r not in results:  # 一、二、四、: the label spans the three label columns
            rows.append(_tr([_td(lab(r.label), colspan=3), *values]))
            continue
        cells: list[str] = []
        if r is results[0]:
            cells.append(_td(lab(section_label), rowspan=len(results)))
        if r.group:
            if r.group not in seen_groups:
                seen_groups.add(r.group)
                cells.append(_td(lab(groups[r.group].label), rowspan=group_size[r.group]))
            cells.append(_td(lab(r.label)))
        else:
            cells.append(_td(lab(r.label), colspan=2))
        rows.append(_tr([*cells, *values]))
    return _table(rows)


def table_review_litigation(
    body: Mapping | None, labels: Mapping[str, str] | None = None, fullwidth: bool = True
) -> str:
    """Table 3: 3 header rows (行政复议 | 行政诉讼 > two sub-groups), one row of 15 values."""
    lab = _labeler(labels, fullwidth)
    review, direct, after = fs.RL_GROUPS
    litigation, _, direct_label = direct.label.partition("·")
    outcomes = fs.RL_OUTCOMES
    rows = [
        _tr([_td(lab(review.label), colspan=5), _td(lab(litigation), colspan=10)]),
        _tr(
            [
                *(_td(lab(o.label), rowspan=2) for o in outcomes),
                _td(lab(direct_label), colspan=5),
                _td(lab(after.label.partition("·")[2]), colspan=5),
            ]
        ),
        _tr([_td(lab(o.label)) for _ in range(2) for o in outcomes]),
        _tr([_td(format_value(_cell(body, g.key, o.key))) for g in fs.RL_GROUPS for o in outcomes]),
    ]
    return _table(rows)


def _labeler(labels: Mapping[str, str] | None, fullwidth: bool):
    labels = labels or {}

    def lab(text: str) -> str:
        return labels.get(text) or official(text, fullwidth)

    return lab


def _table(rows: list[str]) -> str:
    return (
        '<table border="1" cellspacing="0" cellpadding="0" width="100%">\n<tbody>\n'
        + "\n".join(rows)
        + "\n</tbody>\n</table>"
    )


def render_tables(
    report: Mapping, labels: Mapping[str, str] | None = None, fullwidth: bool = True
) -> dict[str, str]:
    """The HTML of each table the report has (``None`` tables are left out)."""
    templates = report.get("templates") or {}
    out: dict[str, str] = {}
    ad, app = templates.get(fs.ACTIVE_DISCLOSURE), templates.get(fs.APPLICATIONS)
    if report.get(fs.ACTIVE_DISCLOSURE) is not None and ad in fs.TEMPLATES:
        out[fs.ACTIVE_DISCLOSURE] = table_active_disclosure(
            report[fs.ACTIVE_DISCLOSURE], ad, labels, fullwidth
        )
    if report.get(fs.APPLICATIONS) is not None and app in fs.TEMPLATES:
        out[fs.APPLICATIONS] = table_applications(report[fs.APPLICATIONS], app, labels, fullwidth)
    if report.get(fs.REVIEW_LITIGATION) is not None:
        out[fs.REVIEW_LITIGATION] = table_review_litigation(report[fs.REVIEW_LITIGATION], labels, fullwidth)
    return out


def section_of(paragraph: str) -> str | None:
    """The section numeral (一..六) if the paragraph starts with a section heading."""
    m = _HEADING.match(paragraph.strip().translate(_HALFWIDTH))
    return m.group(1) if m else None


_HALFWIDTH = str.maketrans({"（": "(", "）": ")", "：": ":", " ": "", "\u3000": ""})


def render_html(
    report: Mapping,
    *,
    title: str,
    paragraphs: Sequence[str],
    encoding: str = "utf-8",
    meta: Sequence[tuple[str, str]] | None = None,
    labels: Mapping[str, str] | None = None,
    site_name: str | None = None,
    fullwidth: bool = True,
) -> bytes:
    """A complete page in ``encoding`` ('utf-8' or 'gbk'), declared in ``<meta charset>``.

    ``meta``: (name, value) pairs shown in a small header table (索引号, 发布机构, ...).
    ``labels``: printed wording to use instead of the official one, keyed by the official
    label as formatspec (or this module) spells it, e.g. ``{"本年制发件数": "本年新发件数"}``.
    """
    enc = encoding.lower().replace("_", "-")
    if enc not in ("utf-8", "gbk"):
        raise ValueError(f"encoding must be 'utf-8' or 'gbk', got {encoding!r}")
    tables = render_tables(report, labels, fullwidth)
    # Where each table goes: after the last paragraph of its section.
    sections = [section_of(p) for p in paragraphs]
    placed: dict[int, list[str]] = {}
    leftover: list[str] = []
    for table in fs.TABLES:
        if table not in tables:
            continue
        numeral = _SECTION_OF_TABLE[table]
        if numeral not in sections:
            leftover.append(tables[table])
            continue
        start = sections.index(numeral)
        end = start
        while end + 1 < len(paragraphs) and sections[end + 1] is None:
            end += 1
        placed.setdefault(end, []).append(tables[table])
    body: list[str] = []
    for i, p in enumerate(paragraphs):
        tag = "<p><strong>{}</strong></p>" if sections[i] else "<p>{}</p>"
        body.append(tag.format(html.escape(p)))
        body.extend(placed.get(i, ()))
    body.extend(leftover)
    site = site_name or "政府信息公开"
    meta_html = ""
    if meta:
        pairs = list(meta)
        rows = []
        for k in range(0, len(pairs), 2):
            cells = []
            for name, value in pairs[k : k + 2]:
                cells += [_td(name + "："), _td(value, colspan=1 if k + 1 < len(pairs) else 3)]
            rows.append(_tr(cells))
        meta_html = '<table class="meta">\n' + "\n".join(rows) + "\n</table>\n"
    charset = "gbk" if enc == "gbk" else "utf-8"
    page = f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta http-equiv="Content-Type" content="text/html; charset={charset}">
<meta charset="{charset}">
<meta name="ArticleTitle" content="{html.escape(title)}">
<title>{html.escape(title)}_{html.escape(site)}</title>
<style>{_CSS}</style>
</head>
<body>
<div class="header">{html.escape(site)}</div>
<div class="crumb">首页 &gt; 政府信息公开 &gt; 政府信息公开年报</div>
<div class="main">
<h1>{html.escape(title)}</h1>
{meta_html}<div class="content" id="zoom">
{chr(10).join(body)}
</div>
</div>
<div class="footer">主办单位：{html.escape(site)}　技术支持：信息中心</div>
</body>
</html>
"""
    # GBK cannot hold every character (e.g. ∙); such characters become numeric references.
    return page.encode("gbk" if enc == "gbk" else "utf-8", errors="xmlcharrefreplace")
