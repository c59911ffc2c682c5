"""Tables that are pictures, read by OCR end to end (slow: ~5-10 CPU-s per page).

The pictures are made by the generator (ocrgen) from the seeds' numbers in the official
templates; the bundled 淮安 PDF rendered to pictures is a real public case. The goal:
>= 95% of cells exact and not one wrong number.
"""

from __future__ import annotations

import json
from pathlib import Path

import ocrgen
import pytest

from transforms import formatspec as fs
from transforms.imagetable import read_tables
from transforms.parse import parse_document

pytestmark = pytest.mark.slow
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _seed(n: str) -> dict:
    return json.loads(next((FIXTURES / "seeds").glob(f"{n}_*.expected.json")).read_text(encoding="utf-8"))


def _score(expected: dict, got: dict) -> tuple[int, int, list[str]]:
    exact, null, wrong = 0, 0, []
    for t in fs.TABLES:
        for r, cols in (expected.get(t) or {}).items():
            for c, want in cols.items():
                v = ((got.get(t) or {}).get(r) or {}).get(c)
                if v is None:
                    null += 1
                elif v == want:
                    exact += 1
                else:
                    wrong.append(f"{t}.{r}.{c}: {v} (printed {want})")
    return exact, null, wrong


def test_scanned_pdf_with_table_broken_across_pages():
    rep = _seed("003")
    agency = "淮安市人民政府办公室"  # the seed's own name has glyphs the test font lacks
    title = f"{agency}{rep['year']}年政府信息公开工作年度报告"
    pages = [ocrgen.degrade(p, seed=i + 3) for i, p in enumerate(ocrgen.scan_pages(rep, title))]
    assert len(pages) == 2
    got = parse_document(ocrgen.scanned_pdf(pages)).report
    exact, null, wrong = _score(rep, got)
    assert wrong == []
    assert exact >= 0.95 * (exact + null), (exact, null)
    assert (got["agency"], got["year"]) == (agency, rep["year"])  # from the OCR'd first page
    assert got["templates"] == rep["templates"]
    assert {f["where"] for f in got["findings"] if f["code"] == "table_from_image"} == set(fs.TABLES)
    assert not [f for f in got["findings"] if f["code"] == "tables_missing"]


def test_page_whose_tables_are_png_pictures():
    rep = _seed("004")
    html, pictures = ocrgen.image_page(rep)
    text_only = parse_document(html).report
    assert [f["where"] for f in text_only["findings"] if f["code"] == "tables_missing"] == list(fs.TABLES)
    got = parse_document(html, pictures=pictures).report
    exact, null, wrong = _score(rep, got)
    assert wrong == []
    assert exact >= 0.95 * (exact + null), (exact, null)
    assert (got["agency"], got["year"], got["templates"]) == (rep["agency"], rep["year"], rep["templates"])


def test_real_pdf_rendered_to_pictures():
    """淮安 2024 (a real report with a text layer) rendered at 150 dpi and read as pictures."""
    import pypdfium2 as pdfium

    from transforms import ocr

    expected = json.loads((FIXTURES / "pdf" / "huaian_city_2024.expected.json").read_text(encoding="utf-8"))
    doc = pdfium.PdfDocument((FIXTURES / "pdf" / "huaian_city_2024.pdf").read_bytes())
    bands = []
    for i in range(len(doc)):
        text = doc[i].get_textpage().get_text_range()
        if not any(k in text for k in ("第二十条", "本年新收", "复议后起诉", "结转下年度", "不予处理")):
            continue  # pages past (or before) the tables are not OCR'd
        bands += ocr.read_page(doc[i].render(scale=150 / 72, grayscale=True).to_pil().convert("L"), page=i)
    got = read_tables(bands)
    exact, null, wrong = _score(expected, got.values)
    assert wrong == []
    assert exact >= 0.95 * (exact + null), (exact, null)


def test_docx_whose_tables_are_embedded_pictures():
    import io
    import zipfile

    rep = _seed("000")
    title = f"{rep['agency']}{rep['year']}年政府信息公开工作年度报告"
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paras = [title, "一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
             "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况"]
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paras)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", f'<w:document xmlns:w="{w}"><w:body>{body}</w:body></w:document>')
        for i, img in enumerate(ocrgen.table_images(rep), start=1):
            zf.writestr(f"word/media/image{i}.png", ocrgen.png_bytes(img))
    got = parse_document(buf.getvalue()).report
    exact, null, wrong = _score(rep, got)
    assert wrong == []
    assert exact >= 0.95 * (exact + null), (exact, null)
    assert (got["agency"], got["year"]) == (rep["agency"], rep["year"])
