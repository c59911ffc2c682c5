"""transforms.pdftables: the same cells and tables as pdfplumber's own finder."""

from __future__ import annotations

import io
from pathlib import Path

import pdfplumber.table as pt
import pypdfium2 as pdfium
from reportlab.pdfgen import canvas

from transforms.pdfobjects import PdfiumPage, read_page
from transforms.pdftables import find_tables, intersections_to_cells

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
