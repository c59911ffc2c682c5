"""Word attachments: tables read like pages; zip bombs and broken files refused with a reason."""

from __future__ import annotations

import io
import zipfile

from testkit.synth import make_report, render_text
from transforms.docx import MAX_DOCUMENT_BYTES
from transforms.parse import parse_report

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _docx(text: str) -> bytes:
    """A minimal .docx whose pipe rows become real Word tables (gridSpan for fillers)."""
    body = []
    table: list[str] = []

    def flush():
        if table:
            body.append("<w:tbl>" + "".join(table) + "</w:tbl>")
            table.clear()

    for line in text.split("\n"):
        if "|" in line:
            cells = [c.strip() for c in line.strip().rstrip("|").split("|")]
            table.append("<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in cells)
                         + "</w:tr>")
        else:
            flush()
            body.append(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>")
    flush()
    xml = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>{"".join(body)}</w:body></w:document>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", xml)
    return buf.getvalue()


def test_docx_attachment_is_parsed_like_a_page():
    want = make_report(11)
    got = parse_report(_docx(render_text(want, "pipe_rows")))
    assert got["applications"] == want["applications"]
    assert got["active_disclosure"] == want["active_disclosure"]
    assert got["review_litigation"] == want["review_litigation"]


def test_zip_bomb_disguised_as_docx_is_refused_with_a_reason():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/document.xml", b"<a>" + b"0" * (MAX_DOCUMENT_BYTES + 10) + b"</a>")
    got = parse_report(buf.getvalue())
    reasons = [f["message"] for f in got["findings"] if f["where"] == "document"]
    assert reasons and "refused" in reasons[0]
    assert got["applications"] is None


def test_entity_expansion_is_not_performed():
    xml = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
           f'<w:document xmlns:w="{W}"><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", xml)
    got = parse_report(buf.getvalue())
    assert got["contract"] == "xxgk.report/1"


def test_broken_zip_and_legacy_doc_are_findings_not_crashes():
    for data in (b"PK\x03\x04garbage", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100):
        got = parse_report(data)
        assert any(f["where"] == "document" for f in got["findings"])
