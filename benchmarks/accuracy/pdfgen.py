"""Real PDFs (reportlab, CJK font) of the true reports: ruled tables with wrapped labels, values
centred vertically in tall cells, tables split over pages, page footers "— N —", running headers.
The parser reads them through its own PDF text extraction, as it would a government PDF."""

from __future__ import annotations

import copy
import io
import random

import generate as G
import model as M
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT = "WQY"
pdfmetrics.registerFont(TTFont(FONT, "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", subfontIndex=0))
W, H = A4
ML, MR, MT, MB = 50, 50, 60, 70


def wrap(text, width, size):
    lines, cur = [], ""
    for ch in text:
        if ch == "\n":
            lines.append(cur)
            cur = ""
            continue
        if pdfmetrics.stringWidth(cur + ch, FONT, size) > width - 4 and cur:
            lines.append(cur)
            cur = ch
        else:
            cur += ch
    lines.append(cur)
    return lines


class Doc:
    def __init__(self, o, rng):
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=A4)
        self.page = 1
        self.y = H - MT
        self.o = o
        self.rng = rng
        self.running = o.get("running_header")

    def newpage(self):
        foot = self.o.get("footer_style", "— {} —").format(self.page)
        self.c.setFont(FONT, 9)
        self.c.drawCentredString(W / 2, 35, foot)
        self.c.showPage()
        self.page += 1
        self.y = H - MT
        if self.running:
            self.c.setFont(FONT, 8)
            self.c.drawCentredString(W / 2, H - 35, self.running)

    def para(self, text, size=10.5, center=False):
        for ln in wrap(text, W - ML - MR, size):
            if self.y - size * 1.6 < MB:
                self.newpage()
            self.c.setFont(FONT, size)
            if center:
                self.c.drawCentredString(W / 2, self.y - size, ln)
            else:
                self.c.drawString(ML, self.y - size, ln)
            self.y -= size * 1.6

    def table(self, widths, cells, size=8.5, nhead=0):
        """cells: (row, col, rowspan, colspan, text); nhead header rows are repeated after a page break
        when the option repeat_head is set (Word's "repeat as header row")."""
        valign = self.o.get("valign", "middle")
        lh = size * 1.25
        nrows = max(r + rs for r, _, rs, _, _ in cells)
        xs = [ML]
        for w in widths:
            xs.append(xs[-1] + w)
        heights = [lh + 6] * nrows
        lines_of = {}
        for r, c, rs, cs, t in cells:
            lines_of[(r, c)] = wrap(t, xs[c + cs] - xs[c], size) if t else []
            if rs == 1:
                heights[r] = max(heights[r], len(lines_of[(r, c)]) * lh + 6)
        for r, c, rs, cs, t in cells:
            need = len(lines_of[(r, c)]) * lh + 6
            have = sum(heights[r:r + rs])
            if need > have:
                heights[r + rs - 1] += need - have
        head_h = sum(heights[:nhead]) if self.o.get("repeat_head") else 0
        tops, y = [], self.y
        pages = []
        for r in range(nrows):
            if y - heights[r] < MB:
                pages.append(r)
                y = H - MT - head_h
            tops.append(y)
            y -= heights[r]
        # draw row by row, breaking pages where planned
        c = self.c
        def draw(rr, cc, rs, cs, top, h):
            bottom = max(top - h, MB)
            c.rect(xs[cc], bottom, xs[cc + cs] - xs[cc], top - bottom)
            lines = lines_of[(rr, cc)]
            block = len(lines) * lh
            if valign == "top" or (valign == "mixed" and cc >= 3):
                ty = top - 3 - size
            elif valign == "bottom":
                ty = bottom + 3 + block - size - (len(lines) - 1) * 0 - lh + size * 1.0
                ty = bottom + 3 + (len(lines) - 1) * lh
            else:
                ty = top - (top - bottom - block) / 2 - size
            c.setFont(FONT, size)
            for ln in lines:
                c.drawCentredString((xs[cc] + xs[cc + cs]) / 2, ty, ln)
                ty -= lh

        for r in range(nrows):
            if r in pages:
                self.newpage()
                if head_h:
                    for (rr, cc, rs, cs, t) in cells:
                        if rr < nhead:
                            draw(rr, cc, rs, cs, H - MT - sum(heights[:rr]), sum(heights[rr:rr + rs]))
            top = tops[r]
            for (rr, cc, rs, cs, t) in cells:
                if rr != r:
                    continue
                h = sum(heights[r:r + rs])
                draw(rr, cc, rs, cs, top, h)
                continue
                bottom = max(top - h, MB)
                c.rect(xs[cc], bottom, xs[cc + cs] - xs[cc], top - bottom)
                lines = lines_of[(rr, cc)]
                block = len(lines) * lh
                ty = top - (top - bottom - block) / 2 - size
                c.setFont(FONT, size)
                for ln in lines:
                    c.drawCentredString((xs[cc] + xs[cc + cs]) / 2, ty, ln)
                    ty -= lh
            self.y = top - heights[r]
        self.y -= 8

    def bytes(self):
        self.newpage()
        self.c.save()
        return self.buf.getvalue()


def t1_cells(truth, o):
    cells, r = [], 0
    for row in G.t1_rows(truth, o):
        if row["kind"] == "caption":
            cells.append((r, 0, 1, 4, row["cells"][0]))
        else:
            texts = row["cells"] + row.get("vals", [])
            if len(texts) == 2:
                cells += [(r, 0, 1, 1, texts[0]), (r, 1, 1, 3, texts[1])]
            elif len(texts) == 3:  # F2019 fees: two measures
                cells += [(r, 0, 1, 1, texts[0]), (r, 1, 1, 1, texts[1]), (r, 2, 1, 2, texts[2])]
            else:
                cells += [(r, i, 1, 1, t) for i, t in enumerate(texts)]
        r += 1
    return (o.get("t1_widths") or [150, 115, 115, 115]), cells


def t2_cells(truth, o):
    spec = M.APP_ROWS_F2019 if truth["templates"]["applications"] == "F2019" else M.APP_ROWS_F2021
    span_of = {g: len(G._group_members(spec, k)) for k, g, _ in spec if g}
    cells = [(0, 0, 3, 3, M.APP_HEADER_NOTE), (0, 3, 1, 7, "申请人情况"), (1, 3, 2, 1, "自然人"),
             (1, 4, 1, 5, "法人或其他组织"), (1, 9, 2, 1, "总计")]
    cells += [(2, 4 + i, 1, 1, t) for i, t in enumerate(["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"])]
    r = 3
    for row in [x for x in G.t2_rows(truth, o) if x["kind"] == "data"]:
        key, labels = row["key"], row["cells"]
        leaf = labels[-1]
        if key in ("new_received", "carried_over", "carried_forward"):
            cells.append((r, 0, 1, 3, leaf))
        else:
            if len(labels) == 2 and labels[0].startswith("三"):
                cells.append((r, 0, span_of[labels[0]], 1, labels[0]))
                cells.append((r, 1, 1, 2, leaf))
            elif len(labels) == 2:
                cells.append((r, 1, span_of[labels[0]], 1, labels[0]))
                cells.append((r, 2, 1, 1, leaf))
            elif key in ("granted", "partially_granted", "total_processed", "other_processing"):
                cells.append((r, 1, 1, 2, leaf))
            else:
                cells.append((r, 2, 1, 1, leaf))
        cells += [(r, 3 + i, 1, 1, v) for i, v in enumerate(row["vals"])]
        r += 1
    return (o.get("t2_widths") or [30, 50, 95] + [45] * 7), cells


def t3_cells(truth, o):
    rl = truth["review_litigation"]
    if o.get("rl_subtables"):
        out = []
        for g, title in zip(M.RL_GROUPS, ["行政复议", "行政诉讼（未经复议直接起诉）", "行政诉讼（复议后起诉）"]):
            cells = [(0, 0, 1, 5, title)] + [(1, i, 1, 1, t) for i, t in enumerate(M.RL_OUTCOME_LABELS)]
            cells += [(2, i, 1, 1, G.fmt(rl[g][x], o)) for i, x in enumerate(M.RL_OUTCOMES)]
            out.append(([99] * 5, cells))
        return out
    cells = [(0, 0, 1, 5, "行政复议"), (0, 5, 1, 10, "行政诉讼")]
    cells += [(1, i, 2, 1, t) for i, t in enumerate(M.RL_OUTCOME_LABELS)]
    cells += [(1, 5, 1, 5, "未经复议直接起诉"), (1, 10, 1, 5, "复议后起诉")]
    cells += [(2, 5 + i, 1, 1, t) for i, t in enumerate(M.RL_OUTCOME_LABELS * 2)]
    vals = [G.fmt(rl[g][x], o) for g in M.RL_GROUPS for x in M.RL_OUTCOMES]
    cells += [(3, i, 1, 1, v) for i, v in enumerate(vals)]
    return [([33] * 15, cells)]


def build_pdf(rep, o, rng):
    d = Doc(o, rng)
    if o.get("nav"):
        for ln in G.NAV[: o["nav"]]:
            d.para(ln, 8)
    if o.get("quoted_first"):
        d.para(G.QUOTED)
    for ln in G.title_lines(rep, o):
        d.para(ln, 16, center=True)
    pre = rep.preamble
    for ln in pre.splitlines():
        d.para(ln)
    def place(which):  # put the table's top a given height above the bottom margin: forces a page break inside it
        h = o.get("y_before_" + which)
        if h is not None:
            if d.y < MB + h:
                d.newpage()
            d.y = MB + h
    if o.get("y_before_t1") is not None:
        d.para("二、主动公开政府信息情况")
        place("t1")
    else:
        d.para("二、主动公开政府信息情况")
    if o.get("captions"):
        d.para("表二：主动公开政府信息情况", 9, center=True)
    d.table(*t1_cells(rep.truth, o))
    d.para("三、收到和处理政府信息公开申请情况")
    if o.get("captions"):
        d.para("表一：收到和处理政府信息公开申请情况", 9, center=True)
    place("t2")
    d.table(*t2_cells(rep.truth, o), nhead=3)
    d.para("四、政府信息公开行政复议、行政诉讼情况")
    place("t3")
    for widths, cells in t3_cells(rep.truth, o):
        d.table(widths, cells)
    for ln in rep.postamble.splitlines():
        d.para(ln)
    return d.bytes()


PDF_SETS = [
    ("clean", {}),
    ("narrow_labels", {"t1_widths": [62, 141, 141, 141], "t2_widths": [22, 34, 58] + [54] * 7}),
    ("narrow_top", {"t1_widths": [62, 141, 141, 141], "t2_widths": [22, 34, 58] + [54] * 7, "valign": "top"}),
    ("narrow_bottom", {"t1_widths": [62, 141, 141, 141], "t2_widths": [22, 34, 58] + [54] * 7, "valign": "bottom"}),
    ("narrow_mixed_swap", {"t2_widths": [22, 34, 58] + [54] * 7, "valign": "mixed", "t2_swaps": "pick"}),
    ("repeat_head_narrow", {"t2_widths": [22, 34, 58] + [54] * 7, "repeat_head": 1, "running_header": "RUN"}),
    ("break_t3_a", {"rl_subtables": 1, "y_before_t3": 60, "footer_style": "- {} -", "running_header": "RUN"}),
    ("break_t3_b", {"rl_subtables": 1, "y_before_t3": 110, "footer_style": "— {} —"}),
    ("break_t3_c", {"y_before_t3": 40, "footer_style": "- {} -", "running_header": "RUN"}),
    ("break_t1_a", {"y_before_t1": 45, "running_header": "RUN", "captions": 1}),
    ("break_t1_b", {"y_before_t1": 95, "footer_style": "- {} -", "t1_widths": [62, 141, 141, 141]}),
    ("break_t2_a", {"y_before_t2": 70, "running_header": "RUN", "t2_widths": [22, 34, 58] + [54] * 7}),
    ("break_t2_b", {"y_before_t2": 150, "repeat_head": 1, "t2_widths": [22, 34, 58] + [54] * 7, "valign": "bottom"}),
    ("narrow_f2019", {"t2_widths": [22, 34, 58] + [54] * 7, "f2019_apps": 1, "rl_subtables": 1,
                      "footer_style": "- {} -"}),
    ("dash_footer", {"footer_style": "- {} -"}),
    ("running_header", {"running_header": "RUN"}),
    ("rl_subtables", {"rl_subtables": 1}),
    ("f2019_apps", {"f2019_apps": 1}),
    ("t2_swap", {"t2_swaps": "pick", "t1_swap": 1}),
    ("captions_norm", {"captions": 1, "norm_f2019_label": 1}),
    ("nav_title", {"nav": 3, "title": "after_year"}),
    ("quoted_three_line", {"quoted_first": 1, "title": "three_line"}),
    ("blank_cells", {"blank": "", "n_blank": 3}),
    ("f2019_both_subtables", {"f2019_apps": 1, "f2019_active": 1, "rl_subtables": 1}),
]


def make_all(reports):
    for ri, base in enumerate(reports):
        rng = random.Random(5000 + ri)
        for name, opts in PDF_SETS:
            rep = base.copy()
            o = copy.deepcopy(opts)
            if o.get("t2_swaps") == "pick":
                o["t2_swaps"] = [G.SWAPS[(ri + 2) % len(G.SWAPS)]]
            if o.get("running_header"):
                o["running_header"] = f"{rep.truth['agency']}{rep.truth['year']}年政府信息公开工作年度报告"
            if o.get("f2019_apps"):
                M.to_f2019_applications(rep.truth)
            if o.get("f2019_active"):
                M.to_f2019_active(rep.truth)
            if "blank" in o:
                o["blank_mark"] = o["blank"]
                G.blank_cells(rep.truth, rng, o["n_blank"], o["blank"])
            yield (f"{base.name}_realpdf_{name}", build_pdf(rep, o, rng), "pdf", rep.truth,
                   f"{base.name} real PDF {name} {o}")
