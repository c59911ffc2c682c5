"""The compiled helper for PDFium's per-character calls (transforms/_pdfcalls.c): the same page
objects and parse output as the Python calls, and built wherever CI runs."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from compiled import use_built
from reportlab.pdfgen import canvas

from transforms import pdfobjects as po
from transforms.parse import parse_document

ROOT = Path(__file__).resolve().parents[2]
PDFS = sorted([*(ROOT / "tests" / "fixtures").rglob("*.pdf"), *(ROOT / "sources" / "samples").glob("*.pdf")])


@pytest.fixture
def helper(monkeypatch, tmp_path):
    yield from use_built("pdfcalls", monkeypatch, tmp_path)


def _generated() -> list[tuple[str, bytes]]:
    """Corpus-made reports (benchmarks/pdfgen.py: runs of characters per text object, a CID
    font), a page with rotated text and forms, and 淮安 with its pages turned."""
    from benchmarks.corpus import plan, render

    docs = [(f"corpus {s.agency}", render(s)[0]) for s in plan(60, seed=3, pdf_share=1.0, text_share=0.0)[:3]]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(400, 400))
    c.setFont("Helvetica", 11)
    c.drawString(50, 350, "upright 123")
    c.saveState()
    c.translate(200, 200)
    c.rotate(30)
    c.drawString(0, 0, "turned 456")
    c.restoreState()
    c.rect(40, 40, 100, 60)
    c.bezier(50, 50, 80, 90, 120, 10, 150, 50)
    c.beginForm("box")
    c.line(0, 0, 50, 0)
    c.drawString(0, 10, "in a form")
    c.endForm()
    c.doForm("box")
    c.showPage()
    c.save()
    docs.append(("rotated text, curves and a form", buf.getvalue()))
    doc = pdfium.PdfDocument(PDFS[0].read_bytes())
    for i in range(len(doc)):
        doc[i].set_rotation(90 * (i % 4))
    buf = io.BytesIO()
    doc.save(buf)
    doc.close()
    docs.append(("pages turned", buf.getvalue()))
    return docs


def _objects(data: bytes) -> bytes:
    pdf = pdfium.PdfDocument(data)
    try:
        pages = [po.read_page(pdf, i) for i in range(len(pdf))]
    finally:
        pdf.close()
    return pickle.dumps([(p.rows, p.lines, p.rects, p.curves, p.unmapped, p.needs_pdfminer, p.width, p.height,
                          p.mediabox, None if p.boxes is None else p.boxes.tobytes()) for p in pages])


def _parsed(data: bytes) -> str:
    res = parse_document(data, agency="对比", year=2024)
    return repr((res.report, res.text))


def test_the_helper_gives_the_python_calls_values_to_the_bit(helper):
    docs = [(p.name, p.read_bytes()) for p in PDFS] + _generated()
    assert len(docs) >= 6
    for name, data in docs:
        assert po.use_compiled_calls(True)
        native, native_parse = _objects(data), _parsed(data)
        assert not po.use_compiled_calls(False)
        assert _objects(data) == native, name
        assert _parsed(data) == native_parse, name
