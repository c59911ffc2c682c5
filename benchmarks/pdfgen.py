"""A report as a PDF, the way a word processor exports one (reportlab, no I/O).

A4 pages, the built-in CID font STSong-Light (no font file needed), a running header with
the title and a "- n -" page marker in the footer. The narrative is wrapped into lines;
the three tables are ruled grids: table 1 one small grid per block of 第二十条, table 2
with the group labels leading their first row, table 3 with its two-level header. A table
that does not fit continues on the next page under its repeated section heading and
header row (FORMAT.md §7.6), which is what transforms.pdf has to undo.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from testkit.render import format_value
from transforms import formatspec as fs

FONT = "STSong-Light"
W, H = 595.0, 842.0
LEFT, RIGHT, TOP, BOTTOM = 60.0, 535.0, 790.0, 70.0
_registered = False


def _font() -> None:
    global _registered
    if not _registered:
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
        _registered = True


def _wrap(text: str, width: float, size: float) -> list[str]:
    per_line = max(int((width - 6) // size), 1)
    out: list[str] = []
    for part in text.split("\n"):
        out += [part[i : i + per_line] for i in range(0, len(part), per_line)] or [""]
    return out


Cell = tuple[str, int]  # text, columns spanned


class _Doc:
    def __init__(self, title: str):
        _font()
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=(W, H), pageCompression=0, invariant=1)  # reproducible bytes
        self.c.setTitle(title)
        self.title = title
        self.page = 1
        self.y = TOP
        self._header()

    def _header(self) -> None:
        self.c.setFont(FONT, 9)
        self.c.drawString(LEFT, H - 30, self.title)  # running header: the parser keeps the first only

    def new_page(self) -> None:
        self.c.setFont(FONT, 10)
        self.c.drawString(W / 2 - 10, 30, f"- {self.page} -")
        self.c.showPage()
        self.page += 1
        self.y = TOP
        self._header()

    def text(self, text: str, size: float = 12, indent: float = 0) -> None:
        for line in _wrap(text, RIGHT - LEFT - indent, size):
            if self.y - size < BOTTOM:
                self.new_page()
            self.c.setFont(FONT, size)
            self.c.drawString(LEFT + indent, self.y - size, line)
            self.y -= size * 1.6

    def table(self, widths: Sequence[float], rows: Sequence[Sequence[Cell]], heading: str | None = None,
              repeat: int = 1, size: float = 8) -> None:
        """A ruled grid; on a page break the heading and the first ``repeat`` rows are drawn again."""
        self.y -= 4
        head = list(rows[:repeat])
        for n, row in enumerate(rows):
            height = self._row_height(widths, row, size)
            if self.y - height < BOTTOM:
                self.new_page()
                if heading:
                    self.text(heading, 12)
                    self.y -= 4
                if n >= repeat:
                    for hrow in head:
                        self._row(widths, hrow, size, self._row_height(widths, hrow, size))
            self._row(widths, row, size, height)
        self.y -= 10

    def _cells(self, widths: Sequence[float], row: Sequence[Cell]):
        col = 0
        for text, span in row:
            yield text, sum(widths[:col]), sum(widths[col : col + span])
            col += span

    def _row_height(self, widths, row, size) -> float:
        lines = max(len(_wrap(t, w, size)) for t, _x, w in self._cells(widths, row))
        return lines * (size + 3) + 6

    def _row(self, widths, row, size, height) -> None:
        c = self.c
        c.setFont(FONT, size)
        for text, x, w in self._cells(widths, row):
            c.rect(LEFT + x, self.y - height, w, height)
            for k, part in enumerate(_wrap(text, w, size)):
                c.drawString(LEFT + x + 3, self.y - 4 - size - k * (size + 3), part)
        self.y -= height

    def bytes(self) -> bytes:
        self.c.setFont(FONT, 10)
        self.c.drawString(W / 2 - 10, 30, f"- {self.page} -")
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()


def _v(body: Mapping | None, item: str, measure: str) -> str:
    return format_value(((body or {}).get(item) or {}).get(measure))


def _t1(doc: _Doc, report: Mapping, heading: str) -> None:
    tpl = report["templates"][fs.ACTIVE_DISCLOSURE]
    ms = fs.AD_MEASURES[tpl]
    body = report[fs.ACTIVE_DISCLOSURE]
    blocks: dict[str, list[fs.Item]] = {}
    for item in fs.AD_ITEMS[tpl]:
        blocks.setdefault(item.block, []).append(item)
    for block, items in blocks.items():
        measures = items[0].measures
        value_w = (RIGHT - LEFT - 150) / len(measures)
        widths = [150.0] + [value_w] * len(measures)
        rows: list[list[Cell]] = [[(block, len(widths))],
                                  [("信息内容", 1)] + [(ms[m].label, 1) for m in measures]]
        rows += [[(it.label, 1)] + [(_v(body, it.key, m), 1) for m in it.measures] for it in items]
        doc.table(widths, rows, heading, repeat=2)


def _t2(doc: _Doc, report: Mapping, heading: str) -> None:
    tpl = report["templates"][fs.APPLICATIONS]
    body = report[fs.APPLICATIONS]
    widths = [195.0] + [40.0] * 7
    header: list[list[Cell]] = [
        [("(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)", 1), ("申请人情况", 7)],
        [("", 1)] + [(c.label, 1) for c in fs.APPLICANT_COLUMNS],
    ]
    groups = {g.key: g.label for g in fs.APP_GROUPS}
    rows = list(header)
    seen: set[str] = set()
    for row in fs.app_rows(tpl):
        label = row.label
        if row.group and row.group not in seen:  # the group label leads its first row
            seen.add(row.group)
            label = groups[row.group] + label
        if row.key == "granted":
            label = "三、本年度办理结果" + label
        rows.append([(label, 1)] + [(_v(body, row.key, c.key), 1) for c in fs.APPLICANT_COLUMNS])
    doc.table(widths, rows, heading, repeat=2)


def _t3(doc: _Doc, report: Mapping, heading: str) -> None:
    body = report[fs.REVIEW_LITIGATION]
    widths = [(RIGHT - LEFT) / 15] * 15
    outcomes = [(o.label[:2] + "\n" + o.label[2:], 1) for o in fs.RL_OUTCOMES]
    rows: list[list[Cell]] = [
        [("行政复议", 5), ("行政诉讼", 10)],
        [("", 5), ("未经复议直接起诉", 5), ("复议后起诉", 5)],
        outcomes * 3,
        [(_v(body, g.key, o.key), 1) for g in fs.RL_GROUPS for o in fs.RL_OUTCOMES],
    ]
    doc.table(widths, rows, heading, repeat=3)


_TABLE_OF_SECTION = {"二": _t1, "三": _t2, "四": _t3}
_KEY_OF_SECTION = {"二": fs.ACTIVE_DISCLOSURE, "三": fs.APPLICATIONS, "四": fs.REVIEW_LITIGATION}


def render_pdf(report: Mapping, *, title: str, paragraphs: Sequence[str]) -> bytes:
    """The report as a PDF: each table at the end of its section (二, 三, 四)."""
    from testkit.render import section_of

    doc = _Doc(title)
    doc.text(title, 16)
    doc.y -= 6
    sections = [section_of(p) for p in paragraphs]
    for i, p in enumerate(paragraphs):
        numeral = sections[i]
        doc.text(p, 12, indent=0 if numeral else 24)
        end_of_section = i + 1 == len(paragraphs) or sections[i + 1] is not None
        current = next((sections[j] for j in range(i, -1, -1) if sections[j]), None)
        if end_of_section and current in _TABLE_OF_SECTION and report.get(_KEY_OF_SECTION[current]) is not None:
            heading = next(paragraphs[j] for j in range(i, -1, -1) if sections[j] == current)
            _TABLE_OF_SECTION[current](doc, report, heading)
    return doc.bytes()
