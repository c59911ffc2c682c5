"""transforms.pdfobjects and the PDF reader's fast paths: the same values as the plain code."""

from __future__ import annotations

import ctypes
from itertools import repeat
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium

from transforms import pdf as pdf_mod
from transforms import pdfobjects as po
from transforms.pdftables import find_tables

FIXTURES = Path(__file__).parent.parent / "fixtures"
PDFS = sorted(FIXTURES.rglob("*.pdf"))


def test_text_facts_once_per_text_object_equal_each_characters_own():
    """Font size and matrix asked once per run of one text object's characters: the same as
    asked of every character (corpus-made PDFs have runs, 淮安 one object per character)."""
    runs = 0
    for path in PDFS:
        pdf = pdfium.PdfDocument(path.read_bytes())
        raw = ctypes.cast(pdf.raw, ctypes.c_void_p).value
        for i in range(len(pdf)):
            page = po._LOAD_PAGE(raw, i)
            tp = po._LOAD_TEXT_PAGE(page)
            n = po._COUNT_CHARS(tp)
            keep = [j for j in range(n) if po._GET_TEXT_OBJECT(tp, j)]  # PDFium's own blanks have none
            handles = list(map(po._GET_TEXT_OBJECT, repeat(tp, len(keep)), keep))
            if keep:
                runs += len(set(handles)) < len(keep)
                n = len(keep)
                got = po._text_facts(tp, keep, handles)
                sizes = np.array([round(po._GET_FONT_SIZE(tp, j), 4) for j in keep])
                descents = np.array([po._descent(po._TEXT_OBJECT_FONT(h)) for h in handles])
                matrices = (pdfium.raw.FS_MATRIX * n)()
                for at, j in enumerate(keep):
                    po._GET_MATRIX(tp, j, ctypes.addressof(matrices) + 24 * at)
                abcd = np.frombuffer(matrices, dtype=np.float32).astype(np.float64).reshape(n, 6)[:, :4]
                lo = descents * sizes
                expected = (lo, lo + sizes, *(np.rint(abcd * 1e4) / 1e4).T)
                for a, b in zip(got, expected, strict=True):
                    assert np.array_equal(a, b)
            po._CLOSE_TEXT_PAGE(tp)
            po._CLOSE_PAGE(page)
        pdf.close()
    assert runs > 0


def test_outside_and_middles_from_the_box_array_equal_the_per_character_code():
    tested = 0
    for path in PDFS:
        pdf = pdfium.PdfDocument(path.read_bytes())
        for i in range(len(pdf)):
            page = po.PdfiumPage(po.read_page(pdf, i), i + 1)
            boxes = [t.bbox for t in find_tables(page)]
            if not boxes or not page.rows:
                continue
            expected = page.rows
            for bbox in boxes:
                expected = pdf_mod._outside(expected, bbox, page.bbox)
            assert pdf_mod._outside_all(page.rows, page.char_boxes, boxes, page.bbox) == expected
            fast, plain = pdf_mod._Middles(page.rows, page.char_boxes), pdf_mod._Middles(page.rows)
            for bbox in boxes:
                assert fast.within(bbox) == plain.within(bbox)
            tested += 1
        pdf.close()
    assert tested >= 3


def test_plain_digits_cell_is_cleaned_as_before():
    for cell in ["0", "12345", "007"]:
        text = pdf_mod.unicodedata.normalize("NFC", cell).replace("\n", "")
        assert pdf_mod._clean(cell) == pdf_mod._CJK_GAP.sub("", text).strip() == cell
    assert pdf_mod._clean("１２") == "１２" and pdf_mod._clean(" 1 2 ") == "12"


def test_cells_text_is_pdfplumbers_table_extract():
    """Each character to its cell by bisection (cells side by side) or by testing every
    cell: the same texts as pdfplumber's ``Table.extract()``."""
    tables = 0
    for path in PDFS:
        pdf = pdfium.PdfDocument(path.read_bytes())
        for i in range(len(pdf)):
            page = po.PdfiumPage(po.read_page(pdf, i), i + 1)
            mids = pdf_mod._Middles(page.rows, page.char_boxes)
            for table in find_tables(page):
                assert pdf_mod._extract(table.rows, mids) == table.extract()
                tables += 1
        pdf.close()
    assert tables >= 4
