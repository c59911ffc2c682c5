"""transforms.pdf: the real 淮安 2024 PDF, and PDFs generated here with reportlab.

The 淮安 expected values were read off the page images (pages 3-5) by hand and are kept
in tests/fixtures/pdf/huaian_city_2024.expected.json; the test checks that each table row
comes out on one line as "label | v1 | ... |" ending with exactly those values.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zlib
from pathlib import Path

import pytest
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from transforms import formatspec as fs
from transforms.pdf import PdfError, pdf_to_text

FIXTURES = Path(__file__).parent.parent / "fixtures" / "pdf"
FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s))


def _cells(line: str) -> list[str]:
    parts = [p.strip() for p in line.split("|")]
    return parts[:-1] if parts and parts[-1] == "" else parts


def _find_row(lines: list[str], start: int, patterns: tuple[str, ...]) -> int:
    for i in range(start, len(lines)):
        label = _norm(_cells(lines[i])[0]) if "|" in lines[i] else ""
        if any(re.search(p, label) for p in patterns):
            return i
    raise AssertionError(f"no row matching {patterns} after line {start}")


def _num(s: str) -> int | float:
    return float(s) if "." in s else int(s)


# --------------------------------------------------------------------------- real sample


@pytest.fixture(scope="module")
def huaian() -> tuple[list[str], dict]:
    text = pdf_to_text((FIXTURES / "huaian_city_2024.pdf").read_bytes())
    expected = json.loads((FIXTURES / "huaian_city_2024.expected.json").read_text(encoding="utf-8"))
    return text.splitlines(), expected


def test_huaian_every_table_row_on_one_line_with_its_values(huaian):
    lines, expected = huaian
    pos = next(i for i, ln in enumerate(lines) if _norm(ln).startswith("二、主动公开"))
    for item in fs.AD_ITEMS[fs.F2021]:
        pos = _find_row(lines, pos, tuple(re.escape(m) for m in item.match))
        want = [expected["active_disclosure"][item.key][m] for m in item.measures]
        assert [_num(c) for c in _cells(lines[pos])[1:]] == want, lines[pos]
    for row in fs.app_rows(fs.F2021):
        pos = _find_row(lines, pos + 1, row.match)
        want = [expected["applications"][row.key][c.key] for c in fs.APPLICANT_COLUMNS]
        assert [_num(c) for c in _cells(lines[pos])[-7:]] == want, lines[pos]
        assert len(_cells(lines[pos])) == 8, f"label not one cell: {lines[pos]}"
    header = next(i for i in range(pos, len(lines)) if "复议后起诉" in lines[i])
    data = next(ln for ln in lines[header:] if re.fullmatch(r"[\d |]+", ln))
    want = [expected["review_litigation"][g.key][o.key] for g in fs.RL_GROUPS for o in fs.RL_OUTCOMES]
    assert [int(c) for c in _cells(data)] == want


def test_huaian_wrapped_labels_joined_and_page_markers_gone(huaian):
    lines, _ = huaian
    text = "\n".join(lines)
    assert not re.search(r"^\s*-\s*\d+\s*-\s*$", text, re.M)
    assert "（二）部分公开（区分处理的，只计这一情形，不计其他情形） | 447 |" in text
    assert "5.要求行政机关确认或重新出具已获取信息 | 1 |" in text
    assert any(ln.startswith("三、本年度办理结果（一）予以公开 | 1288 |") for ln in lines)
    # the boxed paragraphs on pages 1 and 3 are text, not one-cell tables
    assert any(ln.startswith("（五）政府信息公开监督保障情况") for ln in lines)
    assert sum("|" in ln for ln in lines) < 60


# --------------------------------------------------------------------------- generated PDFs

W, H = 595, 842


def _draw_table(c: canvas.Canvas, top: float, widths: list[float], rows: list[list[str]], size: int = 8) -> float:
    """Draw a ruled table (cell text may hold "\\n" for wrapped lines); return its bottom y."""
    c.setFont(FONT, size)
    y = top
    rows = [[_wrap(cell, w, size) for cell, w in zip(row, widths, strict=True)] for row in rows]
    for row in rows:
        nlines = max(len(cell.split("\n")) for cell in row)
        h = nlines * (size + 3) + 6
        x = 60.0
        for cell, w in zip(row, widths, strict=True):
            c.rect(x, y - h, w, h)
            for k, part in enumerate(cell.split("\n")):
                c.drawString(x + 3, y - 4 - size - k * (size + 3), part)
            x += w
        y -= h
    return y


def _wrap(cell: str, width: float, size: int) -> str:
    """Break over-long lines the way a word processor wraps a CJK cell."""
    per_line = max(int((width - 6) // size), 1)
    out = []
    for part in cell.split("\n"):
        out += [part[i:i + per_line] for i in range(0, len(part), per_line)] or [""]
    return "\n".join(out)


def _footer(c: canvas.Canvas, n: int) -> None:
    c.setFont(FONT, 10)
    c.drawString(W / 2 - 10, 30, f"- {n} -")
    c.drawString(60, 820, "某市人民政府2024年政府信息公开工作年度报告")  # running header


APP_WIDTHS = [200.0] + [38.0] * 7
APP_HEADER = ["", "自然人", "商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他", "总计"]


def _spanning_pdf() -> tuple[bytes, dict[str, list[str]]]:
    """Table 2 over two pages: repeated heading and header, a label cut by the page break,
    a label wrapped inside its cell, a blank cell, page markers."""
    rows = fs.app_rows(fs.F2021)
    values = {r.key: [str(i + 1), "1", "0", "0", "0", "0", str(i + 2)] for i, r in enumerate(rows)}
    values["denied_query"] = ["5", "", "0", "0", "0", "0", "5"]  # a blank cell stays a blank cell
    labels = {r.key: r.label for r in rows}
    labels["partially_granted"] = "(二)部分公开(区分处理的,只\n计这一情形,不计其他情形)"
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H))
    c.setFont(FONT, 14)
    c.drawString(60, 790, "三、收到和处理政府信息公开申请情况")
    cut = [r.key for r in rows].index("rejected_confirmation")
    page1 = [APP_HEADER] + [[labels[r.key], *values[r.key]] for r in rows[:cut]]
    page1.append(["5.要求行政机关确认或重新出", *values["rejected_confirmation"]])
    _draw_table(c, 770, APP_WIDTHS, page1)
    _footer(c, 1)
    c.showPage()
    c.setFont(FONT, 14)
    c.drawString(60, 790, "三、收到和处理政府信息公开申请情况")  # repeated after the page break
    page2 = [APP_HEADER, ["具已获取信息", "", "", "", "", "", "", ""]]
    page2 += [[labels[r.key], *values[r.key]] for r in rows[cut + 1:]]
    bottom = _draw_table(c, 770, APP_WIDTHS, page2)
    c.setFont(FONT, 14)
    c.drawString(60, bottom - 30, "四、政府信息公开行政复议、行政诉讼情况")
    rl_head = ["结果\n维持", "结果\n纠正", "其他\n结果", "尚未\n审结", "总计"] * 3
    _draw_table(c, bottom - 40, [32.0] * 15, [rl_head, [str(i) for i in range(15)]])
    _footer(c, 2)
    c.showPage()
    c.save()
    return buf.getvalue(), values


def test_generated_table_spanning_pages_continues():
    data, values = _spanning_pdf()
    lines = pdf_to_text(data).splitlines()
    text = "\n".join(lines)
    assert "- 1 -" not in text and "- 2 -" not in text
    assert sum(ln.startswith("三、收到和处理") for ln in lines) == 1
    assert lines[0] == "某市人民政府2024年政府信息公开工作年度报告"  # first kept, repeats dropped
    assert sum("年度报告" in ln for ln in lines) == 1
    assert sum(ln.startswith("自然人 | 商业企业") for ln in lines) == 1  # repeated header dropped
    pos = 0
    for row in fs.app_rows(fs.F2021):
        pos = _find_row(lines, pos, row.match)
        assert _cells(lines[pos])[1:] == values[row.key], lines[pos]
    assert "(二)部分公开(区分处理的,只计这一情形,不计其他情形) | 4 | 1 |" in text
    assert "5.要求行政机关确认或重新出具已获取信息 | 20 | 1 |" in text  # joined across the break
    assert "具已获取信息 |" not in lines
    assert "8.属于行政查询事项 | 5 |  | 0 |" in text
    assert "结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |" in text
    assert lines[-1] == " | ".join(str(i) for i in range(15)) + " |"


def test_generated_label_starting_on_previous_page_is_joined():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H))
    widths = [200.0] + [38.0] * 7
    _draw_table(c, 770, widths, [APP_HEADER, ["(七)总计", "3", "0", "0", "0", "0", "0", "3"],
                                 ["(二)部分公开(区分处理的,只计这一", "", "", "", "", "", "", ""]])
    _footer(c, 1)
    c.showPage()
    _draw_table(c, 770, widths, [["情形,不计其他情形)", "4", "0", "0", "0", "0", "0", "4"],
                                 ["行政强制", "", "", "", "", "", "", ""]])
    c.showPage()
    c.save()
    lines = pdf_to_text(buf.getvalue()).splitlines()
    assert "(二)部分公开(区分处理的,只计这一情形,不计其他情形) | 4 | 0 | 0 | 0 | 0 | 0 | 4 |" in lines
    # a blank row that is a label of its own is not glued onto the row before it
    assert lines[-1] == "行政强制 |  |  |  |  |  |  |  |"


def test_generated_page_without_ruling_lines_uses_word_lines():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H))
    c.setFont(FONT, 12)
    y = 780

    def line(x: float, text: str) -> None:
        nonlocal y
        c.drawString(x, y, text)

    line(60, "二、主动公开政府信息情况")
    y -= 20
    line(60, "行政许可")
    c.drawString(300, y, "447228")
    y -= 20
    line(60, "(二)部分公开(区分处理的,只计这一情")
    y -= 15
    for x, v in zip(range(300, 510, 30), ["447", "7", "0", "0", "0", "0", "454"], strict=True):
        c.drawString(x, y, v)
    y -= 15
    line(60, "形,不计其他情形)")
    y -= 20
    for ch in "结果维持":  # a header typeset one character per line
        line(60, ch)
        y -= 14
    for i, v in enumerate(["72", "64", "178", "37", "351"]):
        c.drawString(60 + 40 * i, y, v)
    y -= 20
    line(60, "全市在运维政务新媒体共计 95")
    _footer(c, 3)
    c.save()
    lines = pdf_to_text(buf.getvalue()).splitlines()
    assert "行政许可 | 447228 |" in lines
    assert "(二)部分公开(区分处理的,只计这一情形,不计其他情形) | 447 | 7 | 0 | 0 | 0 | 0 | 454 |" in lines
    assert "72 | 64 | 178 | 37 | 351 |" in lines
    assert not any(ln.strip() in "结果维持" for ln in lines)  # vertical header letters dropped
    assert "全市在运维政务新媒体共计 95" in lines  # a sentence ending in a number stays text
    assert "- 3 -" not in "\n".join(lines)


def _one_page(encrypt=None, font: str = FONT, text: str = "一、总体情况") -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H), encrypt=encrypt)
    c.setFont(font, 12)
    c.drawString(60, 780, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_encrypted_pdf_needing_a_password_is_an_error():
    data = _one_page(StandardEncryption("secret", ownerPassword="owner"))
    with pytest.raises(PdfError, match="encrypted"):
        pdf_to_text(data)


def test_owner_password_only_pdf_is_read():
    # copy-protected but openable: common for government PDFs; the text is readable
    data = _one_page(StandardEncryption("", ownerPassword="owner", canCopy=0), "Helvetica", "Annual report 2024")
    assert pdf_to_text(data).strip() == "Annual report 2024"


def _undecodable_pdf() -> bytes:
    """One line in a simple font whose glyph names map to no Unicode, without /ToUnicode."""
    names = " ".join(f"/g{i}" for i in range(1, 11))
    content = b"BT /F1 24 Tf 60 700 Td (\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding /Differences [1 "
        + names.encode() + b"] >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_undecodable_text_layer_is_an_error():
    with pytest.raises(PdfError, match="cannot be decoded"):
        pdf_to_text(_undecodable_pdf())


def test_cid_font_text_under_encryption_is_read():
    # pdfminer read this only as "(cid:N)" codes (an error before PDFium); PDFium decodes it
    data = _one_page(StandardEncryption("", ownerPassword="owner", canCopy=0))
    assert pdf_to_text(data).strip() == "一、总体情况"


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"<html>not a pdf</html>", "not a PDF"),
        (b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "malformed"),
    ],
)
def test_not_a_pdf_or_malformed(data, reason):
    with pytest.raises(PdfError, match=reason):
        pdf_to_text(data)


def test_truncated_pdf_is_an_error():
    data = _one_page()
    with pytest.raises(PdfError):
        pdf_to_text(data[: len(data) // 3])


def test_no_text_layer_gives_empty_text():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H))
    c.rect(100, 100, 300, 300, fill=1)  # what a scan looks like to a text extractor: no text
    c.showPage()
    c.save()
    assert pdf_to_text(buf.getvalue()) == ""


def test_page_limit():
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(W, H))
    for _ in range(3):
        c.setFont(FONT, 12)
        c.drawString(60, 780, "页")
        c.showPage()
    c.save()
    with pytest.raises(PdfError, match="3 pages"):
        pdf_to_text(buf.getvalue(), max_pages=2)
    assert pdf_to_text(buf.getvalue(), max_pages=3)


def test_damaged_pdfs_raise_pdf_error_only():
    import logging
    import random

    data, _ = _spanning_pdf()
    rng = random.Random(7)
    logger = logging.getLogger("pdfminer")
    level = logger.level
    logger.setLevel(logging.ERROR)  # damaged files make pdfminer log a warning per object
    outcomes = set()
    for i in range(25):
        b = bytearray(data)
        for _ in range(rng.choice([3, 40])):
            b[rng.randrange(len(b))] = rng.randrange(256)
        if i % 2:
            b = b[: rng.randrange(len(b))]
        try:
            outcomes.add(type(pdf_to_text(bytes(b))).__name__)
        except PdfError:
            outcomes.add("PdfError")
    logger.setLevel(level)
    assert outcomes <= {"str", "PdfError"} and "PdfError" in outcomes


def _flate_file(streams: list[bytes]) -> bytes:
    body = b"".join(b"%d 0 obj\n<</Filter /FlateDecode>>\nstream\n" % (k + 1) + s + b"\nendstream\nendobj\n"
                    for k, s in enumerate(streams))
    return b"%PDF-1.4\n" + body


def _stream(rng, head: int, ratio_bytes: int, tail: int) -> bytes:
    """``head`` bytes of a pattern that repeats every ``ratio_bytes`` bytes (it compresses the
    more the shorter that is), then ``tail`` random bytes (they do not compress)."""
    unit = rng.randbytes(max(1, ratio_bytes))
    data = (unit * (head // len(unit) + 1))[:head] + rng.randbytes(tail)
    return zlib.compress(data, 9)


def test_the_quick_bomb_bound_refuses_exactly_what_the_full_check_refuses():
    """_refuse_traps inflates 2 KB (or 8 KB) of each stream to prove no refusal, else does the full
    check (64 KB of each): on streams near each limit (ratios about 400, sums about
    MAX_INFLATED, bombs behind an ordinary start, broken streams) both give one answer."""
    import random

    from transforms import pdf as pdf_mod

    rng = random.Random(7)
    shortcut = refused = 0
    for case in range(60):
        streams = []
        for _ in range(rng.randint(1, 6)):
            kind = rng.choice(["text", "near_bomb", "bomb_late", "big_sum", "broken", "small"])
            if kind == "text":
                streams.append(_stream(rng, rng.randint(1000, 200_000), rng.randint(3, 40), rng.randint(0, 20_000)))
            elif kind == "near_bomb":
                streams.append(_stream(rng, rng.randint(70_000, 9_000_000), 1, rng.randint(0, 5_000)))
            elif kind == "bomb_late":  # ordinary for its first 64 KB, then zeros
                streams.append(zlib.compress(rng.randbytes(rng.randint(60_000, 70_000)) + bytes(rng.randint(0, 6_000_000))))
            elif kind == "big_sum":  # compresses some 100-600:1 at first, then a long random tail: a large estimate
                head = bytearray(70_000)
                for at in range(0, len(head), rng.randint(300, 3000)):
                    head[at] = rng.randrange(256)
                streams.append(zlib.compress(bytes(head) + rng.randbytes(rng.randint(50_000, 250_000)), 9))
            elif kind == "broken":
                streams.append(rng.randbytes(rng.randint(10, 5000)))
            else:
                streams.append(zlib.compress(rng.randbytes(rng.randint(0, 100))))
        data = _flate_file(streams)
        spans = [(m.end(), data.find(b"endstream", m.end())) for m in pdf_mod._FLATE_STREAM.finditer(data)]
        quick = pdf_mod._surely_no_bomb(data, spans)
        try:
            pdf_mod._refuse_bombs(data, spans)
            full = None
        except PdfError as e:
            full = str(e)
        try:
            pdf_mod._refuse_traps(data)
            answer = None
        except PdfError as e:
            answer = str(e)
        assert answer == full, case
        assert not (quick and full), case  # the bound never clears what the full check refuses
        shortcut += quick
        refused += full is not None
    assert shortcut and refused and shortcut + refused < 60  # all three outcomes were met
