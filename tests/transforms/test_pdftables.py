"""transforms.pdftables: the same cells and tables as pdfplumber's own finder."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber.table as pt
import pypdfium2 as pdfium
from pdfplumber.utils.text import extract_text
from reportlab.pdfgen import canvas

from transforms.pdfobjects import PdfiumPage, read_page
from transforms.pdftables import cell_text, find_tables, intersections_to_cells, text_lines

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pdf"


def _pages(data: bytes) -> list[PdfiumPage]:
    pdf = pdfium.PdfDocument(data)
    return [PdfiumPage(read_page(pdf, i), i + 1) for i in range(len(pdf))]


def _grid_with_merged_cells() -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(400, 400))
    xs, ys = [50, 120, 190, 260, 330], [350, 320, 290, 260, 230]
    for y in ys:
        c.line(xs[0], y, xs[-1], y)
    for x in (xs[0], xs[-1]):
        c.line(x, ys[0], x, ys[-1])
    for x in xs[1:-1]:  # the inner verticals skip the second row: one cell spans it
        c.line(x, ys[0], x, ys[1])
        c.line(x, ys[2], x, ys[-1])
    c.rect(60, 100, 100, 40)  # a lone box: a one-cell table
    c.showPage()
    c.save()
    return buf.getvalue()


def _check_same(pages: list[PdfiumPage]) -> int:
    cells = 0
    for page in pages:
        finder = pt.TableFinder(page, pt.TableSettings.resolve(None))
        assert intersections_to_cells(finder.intersections) == finder.cells
        assert [t.cells for t in find_tables(page)] == [t.cells for t in finder.tables]
        cells += len(finder.cells)
    return cells


def test_same_cells_as_pdfplumber_on_huaian():
    assert _check_same(_pages((FIXTURES / "huaian_city_2024.pdf").read_bytes())) > 200


def test_same_cells_as_pdfplumber_with_merged_cells():
    pages = _pages(_grid_with_merged_cells())
    assert _check_same(pages) == 14  # 4 + 1 + 4 + 4 grid cells and the lone box
    assert len(find_tables(pages[0])) == 1  # pdfplumber keeps no table of one cell


def _char(text: str, x0: float, width: float, top: float, upright: bool = True) -> dict:
    return {"text": text, "x0": x0, "x1": x0 + width, "top": top, "bottom": top + 9, "doctop": top,
            "height": 9, "width": width, "upright": upright, "size": 9}


def test_cell_text_is_pdfplumbers_extract_text():
    cases = [
        [_char("1", 10, 4.5, 100), _char("2", 14.5, 4.5, 100.4)],  # one word
        [_char("2", 14.5, 4.5, 100), _char("1", 10, 4.5, 100)],  # out of order
        [_char("本", 10, 9, 100), _char("年", 22.1, 9, 100)],  # a gap over the tolerance: two words
        [_char("本", 10, 9, 100), _char("年", 22.0, 9, 100)],  # a gap of exactly the tolerance
        [_char("ﬁ", 10, 5, 100), _char("x", 15, 5, 100)],  # a ligature, expanded
        [_char("上", 10, 9, 100), _char("下", 10, 9, 103.5)],  # two lines
        [_char("a", 10, 5, 100), _char(" ", 15, 3, 100), _char("b", 18, 5, 100)],  # a blank
        [_char("竖", 10, 9, 100, upright=False), _char("排", 10, 9, 109, upright=False)],  # vertical text
        [_char("三", 10, 9, 120), _char("一", 10, 9, 100), _char("二", 10, 9, 110), _char("1", 22, 4.5, 110.5)],
        [_char("a", 10, 5, 100), _char("b", 20, 5, 102.9), _char("c", 30, 5, 105.8), _char("d", 40, 5, 120)],
        [_char("a", 10, 5, 100), _char("", 15, 5, 100)],  # an empty text: pdfplumber's own way
        [_char(" ", 10, 3, 100)],  # only a blank
    ]
    for chars in cases:
        assert cell_text(chars) == extract_text(chars), chars
    assert cell_text(cases[0]) == "12" and cell_text(cases[2]) == "本 年" and cell_text(cases[4]) == "fix"
    assert cell_text(cases[8]) == "一\n二1\n三"
    assert cell_text([]) == ""


def test_text_lines_are_pdfplumbers_on_real_pages():
    pdfs = sorted(FIXTURES.parent.rglob("*.pdf"))  # 淮安 and the adversary's reproducers
    lines = 0
    for data in (p.read_bytes() for p in pdfs):
        for page in _pages(data):
            expected = page.extract_text_lines(return_chars=False)
            assert text_lines(page.chars) == expected
            lines += len(expected)
    assert lines > 100


def test_text_lines_are_pdfplumbers_on_odd_characters():
    from pdfplumber.utils.text import chars_to_textmap

    cases = [
        [_char("本", 10, 9, 100), _char("年", 22.1, 9, 100), _char("1", 40, 4.5, 101)],  # two words, one line
        [_char("上", 10, 9, 100), _char("下", 10, 9, 103.5), _char("右", 30, 9, 100.2)],  # tops chained
        [_char("b", 30, 5, 100), _char("a", 10, 5, 100), _char("c", 20, 5, 200)],  # out of order, two lines
        [_char("a", 10, 5, 100), _char(" ", 15, 3, 100), _char("b", 18, 5, 100)],  # a blank
        [_char("ﬁ", 10, 5, 100), _char("(cid:7)", 15, 5, 100)],  # a ligature, an unmapped code
        [_char("a", 10, 5, 100), _char("", 15, 5, 100)],  # an empty text: pdfplumber's own way
        [_char("竖", 10, 9, 100, upright=False), _char("排", 10, 9, 109, upright=False)],  # vertical text
        [_char("a", 10, 5, 100), _char("b", 20, 5, 100.0 + 3), _char("c", 30, 5, 106.5)],  # a word top chain
    ]
    for chars in cases:
        expected = chars_to_textmap(chars).extract_text_lines(strip=True, return_chars=False)
        assert text_lines(chars) == expected, chars
    assert text_lines([]) == []
    assert [ln["text"] for ln in text_lines(cases[2])] == ["a b", "c"]


def test_cells_to_tables_groups_as_pdfplumber_does():
    """Random cells on a grid (distinct, as the cell search gives them, and with repeats,
    where pdfplumber's own is asked): the same tables, cell for cell, in the same order."""
    import random

    from pdfplumber.table import cells_to_tables as plumbers

    from transforms.pdftables import cells_to_tables

    rng = random.Random(3)
    grouped = 0
    for _ in range(2000):
        xs = sorted(rng.sample(range(40), rng.randint(2, 8)))
        ys = sorted(rng.sample(range(40), rng.randint(2, 8)))
        cells = []
        for _ in range(rng.randint(0, 30)):
            i, j = rng.randrange(len(xs) - 1), rng.randrange(len(ys) - 1)
            cells.append((float(xs[i]), float(ys[j]), float(xs[rng.randrange(i + 1, len(xs))]),
                          float(ys[rng.randrange(j + 1, len(ys))])))
        if rng.random() < 0.7:
            cells = list(dict.fromkeys(cells))
        if rng.random() < 0.3:
            cells.sort()
        tables = cells_to_tables(cells)
        assert tables == plumbers(cells)
        grouped += len(tables) > 1
    assert grouped > 20  # several tables in one list, not only one


def test_intersections_to_cells_finds_pdfplumbers_cells_on_random_edges():
    """Random ruling lines on a grid (gaps, overlaps, lines sharing a bounding box): the
    points joined as pdfplumber's cell search joins them, the same cells in the same order."""
    import random

    from pdfplumber.table import intersections_to_cells as plumbers

    rng = random.Random(5)
    found = 0
    for _ in range(1500):
        xs = sorted(rng.sample(range(0, 200, 10), rng.randint(2, 7)))
        ys = sorted(rng.sample(range(0, 200, 10), rng.randint(2, 7)))
        edges = []
        for _ in range(rng.randint(1, 18)):
            if rng.random() < 0.5:  # a horizontal line between two xs at one y
                i = rng.randrange(len(xs) - 1)
                x0, x1, y = xs[i], xs[rng.randrange(i + 1, len(xs))], rng.choice(ys)
                edges.append({"x0": float(x0), "x1": float(x1), "top": float(y), "bottom": float(y),
                              "width": float(x1 - x0), "height": 0.0, "orientation": "h", "object_type": "line"})
            else:
                j = rng.randrange(len(ys) - 1)
                y0, y1, x = ys[j], ys[rng.randrange(j + 1, len(ys))], rng.choice(xs)
                edges.append({"x0": float(x), "x1": float(x), "top": float(y0), "bottom": float(y1),
                              "width": 0.0, "height": float(y1 - y0), "orientation": "v", "object_type": "line"})
        if rng.random() < 0.2:
            edges += edges[: rng.randint(1, len(edges))]  # repeated lines
        intersections = pt.edges_to_intersections(edges, 3, 3)
        cells = intersections_to_cells(intersections)
        assert cells == plumbers(intersections)
        found += len(cells)
    assert found > 500


def test_cell_text_is_pdfplumbers_on_random_cells():
    """Random short runs of characters (one top or several, in order or not, touching,
    overlapping or apart, blanks, ligatures, vertical ones): the cell's common case and the
    general word grouping give pdfplumber's extract_text."""
    import random

    rng = random.Random(11)
    for _ in range(3000):
        n = rng.randint(2, 7)
        top = rng.choice([100.0, 100.5, 250.25])
        x = 10.0
        chars = []
        for _ in range(n):
            width = rng.choice([4.5, 9.0, 3.0])
            text = rng.choice(["1", "2", "本", "年", "ﬁ", " ", "a"] if rng.random() < 0.2 else ["1", "2", "3", "本"])
            char = _char(text, x, width, top + rng.choice([0.0, 0.0, 0.0, 0.4, 3.5]) * (rng.random() < 0.2),
                         upright=rng.random() > 0.02)
            chars.append(char)
            x += width + rng.choice([0.0, 0.0, 1.0, 2.99, 3.0, 3.01, -1.0, 8.0])
        if rng.random() < 0.1:
            rng.shuffle(chars)
        assert cell_text(chars) == extract_text(chars), chars


def _random_ruled_page(rng) -> PdfiumPage:
    """A page of random ruling: lines on a grid nudged within and past the snap tolerance,
    cut with gaps within and past the join tolerance, rectangles and axis-stepped curves."""
    from transforms.pdfobjects import PageObjects

    def box(kind: str, x0: float, top: float, x1: float, bottom: float, **extra) -> dict:
        return {"object_type": kind, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top,
                "width": x1 - x0, "height": bottom - top, "y0": 400 - bottom, "y1": 400 - top, **extra}

    def nudge(v: float) -> float:
        return v + rng.choice([0.0, 0.0, 0.3, -0.7, 1.5, 2.9, 3.0, 3.2, 0.1 + 0.2])

    objects = PageObjects(width=400, height=400, rotation=0, mediabox=(0, 0, 400, 400))
    xs = sorted(rng.sample(range(20, 380, 15), rng.randint(2, 6)))
    ys = sorted(rng.sample(range(20, 380, 15), rng.randint(2, 6)))
    for _ in range(rng.randint(1, 20)):
        if rng.random() < 0.5:
            i = rng.randrange(len(xs) - 1)
            x0, x1, y = nudge(xs[i]), nudge(xs[rng.randrange(i + 1, len(xs))]), nudge(rng.choice(ys))
            x0, x1 = min(x0, x1), max(x0, x1)
            if rng.random() < 0.3:  # cut in two: a gap within or past the join tolerance
                cut, gap = (x0 + x1) / 2, rng.choice([0.0, 2.5, 3.0, 3.05, 4.0])
                objects.lines.append(box("line", cut + gap, y, x1, y))
                x1 = cut
            objects.lines.append(box("line", x0, y, x1, y))
        elif rng.random() < 0.15:  # a short line, near the least length of an edge
            x, y = nudge(rng.choice(xs)), nudge(rng.choice(ys))
            objects.lines.append(box("line", x, y, x, y + rng.choice([2.9, 3.0, 3.1])))
        else:
            j = rng.randrange(len(ys) - 1)
            y0, y1, x = nudge(ys[j]), nudge(ys[rng.randrange(j + 1, len(ys))]), nudge(rng.choice(xs))
            objects.lines.append(box("line", x, min(y0, y1), x, max(y0, y1)))
    for _ in range(rng.randint(0, 3)):
        i, j = rng.randrange(len(xs) - 1), rng.randrange(len(ys) - 1)
        objects.rects.append(box("rect", nudge(xs[i]), nudge(ys[j]), nudge(xs[i + 1]) + 0.5, nudge(ys[j + 1]) + 0.5))
    for _ in range(rng.randint(0, 2)):
        pts = [(nudge(rng.choice(xs)), nudge(rng.choice(ys)))]
        for _ in range(rng.randint(1, 4)):
            px, py = pts[-1]
            pts.append(rng.choice([(px, nudge(rng.choice(ys))), (nudge(rng.choice(xs)), py), (px + 7.5, py + 4)]))
        lx, ly = [p[0] for p in pts], [p[1] for p in pts]
        objects.curves.append(box("curve", min(lx), min(ly), max(lx), max(ly), pts=pts))
    if rng.random() < 0.2:
        objects.lines += objects.lines[: rng.randint(1, len(objects.lines))]  # repeated lines
    return PdfiumPage(objects, 1)


def test_find_tables_is_pdfplumbers_on_random_ruling():
    """Edges snapped, joined and crossed as pdfplumber's finder does (its edge dicts replaced
    by tuples): the same cells and tables on random ruling."""
    import random

    rng = random.Random(7)
    cells = tables = 0
    for _ in range(1500):
        page = _random_ruled_page(rng)
        finder = pt.TableFinder(page, pt.TableSettings.resolve(None))
        found = find_tables(page)
        assert [t.cells for t in found] == [t.cells for t in finder.tables]
        cells += len(finder.cells)
        tables += len(found)
    assert cells > 2000 and tables > 300
