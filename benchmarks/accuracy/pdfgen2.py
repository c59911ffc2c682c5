"""WPS/Word-exported PDFs for generate2: rows split across a page mid-row ("allow row to break
across pages"), rotated (vertical) header cells, blank cells printed as "——" or "/"."""
from __future__ import annotations

import copy
import random

import generate as G
import model as M
import pdfgen as P
from pdfgen import FONT, MB, ML, MT, H, wrap


class Doc2(P.Doc):
    def table(self, widths, cells, size=8.5, nhead=0):
        o = self.o
        lh = size * 1.25
        nrows = max(r + rs for r, _, rs, _, _ in cells)
        xs = [ML]
        for w_ in widths:
            xs.append(xs[-1] + w_)
        heights = [lh + 6] * nrows
        lines_of = {}
        rotated = set()
        for r, c, rs, cs, t in cells:
            rot = o.get("rotate_head") and r < max(nhead, 1) and cs == 1 and t and len(t) <= 8 and not t[0].isdigit()
            if rot:
                rotated.add((r, c))
                lines_of[(r, c)] = [t]
                if rs == 1:
                    heights[r] = max(heights[r], len(t) * size + 8)
                continue
            lines_of[(r, c)] = wrap(t, xs[c + cs] - xs[c], size) if t else []
            if rs == 1:
                heights[r] = max(heights[r], len(lines_of[(r, c)]) * lh + 6)
        c_ = self.c

        def draw(rr, cc, rs, cs, top, h, lines=None, values_ok=True):
            bottom = max(top - h, MB)
            c_.rect(xs[cc], bottom, xs[cc + cs] - xs[cc], top - bottom)
            if (rr, cc) in rotated:
                c_.saveState()
                c_.setFont(FONT, size)
                c_.translate((xs[cc] + xs[cc + cs]) / 2 + size / 3, bottom + 4)
                c_.rotate(90)
                c_.drawString(0, 0, lines_of[(rr, cc)][0])
                c_.restoreState()
                return
            lines = lines_of[(rr, cc)] if lines is None else lines
            block = len(lines) * lh
            ty = top - (top - bottom - block) / 2 - size
            c_.setFont(FONT, size)
            for ln in lines:
                c_.drawCentredString((xs[cc] + xs[cc + cs]) / 2, ty, ln)
                if o.get("pdf_sup") and ln.isdigit() and (rr * 7 + cc) % 11 == 3:
                    x_end = (xs[cc] + xs[cc + cs]) / 2 + c_.stringWidth(ln, FONT, size) / 2
                    c_.setFont(FONT, size * 0.55)
                    c_.drawString(x_end + 0.3, ty + size * 0.45, "1")
                    c_.setFont(FONT, size)
                ty -= lh

        y = self.y
        head_cells = [x for x in cells if x[0] < nhead]

        def new_page():
            """A new page, with the header rows drawn again when the option repeat_head is set; its y."""
            self.newpage()
            top = H - MT
            if o.get("repeat_head"):
                for x in head_cells:
                    draw(*x[:4], top - sum(heights[:x[0]]), sum(heights[x[0]:x[0] + x[2]]))
                top -= sum(heights[:nhead])
            return top
        for r in range(nrows):
            row_cells = [x for x in cells if x[0] == r]
            h = heights[r]
            if y - h < MB:
                # WPS "allow row to break across pages": the labels' first lines stay on this page
                multi = [x for x in row_cells if len(lines_of[(x[0], x[1])]) >= 2 and x[2] == 1]
                room = int((y - MB - 6) // lh)
                if o.get("split_rows") and multi and room >= 1:
                    for x in row_cells:
                        ls = lines_of[(x[0], x[1])]
                        if x[2] != 1:
                            continue
                        first = ls[:room] if len(ls) >= 2 else []
                        draw(*x[:4], y, y - MB, lines=first)
                    y = new_page()
                    rest_h = lh + 6
                    for x in row_cells:
                        ls = lines_of[(x[0], x[1])]
                        rest = ls[room:] if len(ls) >= 2 else ls
                        rest_h = max(rest_h, len(rest) * lh + 6)
                    for x in row_cells:
                        ls = lines_of[(x[0], x[1])]
                        rest = ls[room:] if len(ls) >= 2 else ls
                        draw(*x[:4], y, rest_h if x[2] == 1 else sum(heights[r:r + x[2]]), lines=rest)
                    y -= rest_h
                    continue
                y = new_page()
            for x in row_cells:
                draw(*x[:4], y, sum(heights[r:r + x[2]]))
            y -= h
        self.y = y - 8


PDF2_SETS = [
    ("wps_sup_footnote", {"pdf_sup": 1}),
    ("wps_split_rows", {"split_rows": 1, "y_before_t2": 150, "t2_widths": [22, 34, 58] + [54] * 7}),
    ("wps_split_rows_repeat", {"split_rows": 1, "repeat_head": 1, "y_before_t2": 230, "t2_widths": [22, 34, 58] + [54] * 7}),
    ("wps_split_rows_t1", {"split_rows": 1, "y_before_t1": 70, "t1_widths": [62, 141, 141, 141]}),
    ("wps_rotated_head", {"rotate_head": 1}),
    ("wps_rotated_split", {"rotate_head": 1, "split_rows": 1, "repeat_head": 1, "y_before_t2": 190,
                           "t2_widths": [22, 34, 58] + [54] * 7}),
    ("wps_dash_blank", {"blank": "——", "n_blank": 4}),
    ("wps_slash_blank", {"blank": "/", "n_blank": 4, "t2_widths": [22, 34, 58] + [54] * 7}),
    ("wps_f2019_2023", {"f2019_apps": 1, "split_rows": 1, "y_before_t2": 170, "t2_widths": [22, 34, 58] + [54] * 7}),
]


def build_pdf2(rep, o, rng):
    orig = P.Doc
    P.Doc = Doc2
    try:
        return P.build_pdf(rep, o, rng)
    finally:
        P.Doc = orig


def make_all(reports):
    for ri, base in enumerate(reports):
        rng = random.Random(7000 + ri)
        for name, opts in PDF2_SETS:
            rep = base.copy()
            o = copy.deepcopy(opts)
            if o.get("f2019_apps"):
                M.to_f2019_applications(rep.truth)
            if "blank" in o:
                o["blank_mark"] = o["blank"]
                G.blank_cells(rep.truth, rng, o["n_blank"], o["blank"])
            yield (f"{base.name}_{name}", build_pdf2(rep, o, rng), "pdf", rep.truth, f"{base.name} {name} {o}")
