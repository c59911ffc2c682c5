"""A page whose tables are only in a linked attachment: the attachment is fetched once and parsed."""

from __future__ import annotations

import io

import pytest

from flows.outcomes import PUBLISHED
from flows.plan import run_year
from flows.settings import load_settings
from testkit.synth import make_report, render_text

pytestmark = pytest.mark.slow


def _docx(text: str) -> bytes:
    import zipfile

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = []
    for line in text.split("\n"):
        if "|" in line:
            cells = [c.strip() for c in line.strip().rstrip("|").split("|")]
            body.append("<w:tbl><w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in cells)
                        + "</w:tr></w:tbl>")
        else:
            body.append(f"<w:p><w:r><w:t>{line}</w:t></w:r></w:p>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", f'<w:document xmlns:w="{w}"><w:body>{"".join(body)}</w:body></w:document>')
    return buf.getvalue()


def test_tables_in_an_attachment_are_fetched_once_and_parsed(httpserver, tmp_path):
    report = make_report(21, agency="某县人民政府办公室")
    page = ("<html><head><meta charset='utf-8'><title>某县人民政府办公室2024年政府信息公开工作年度报告</title></head>"
            "<body><p>一、总体情况</p><p>详见附件。</p><p>相关附件: <a href='files/report.docx'>"
            "某县人民政府办公室2024年政府信息公开工作年度报告.docx</a></p></body></html>")
    httpserver.expect_request("/nb/2024.html").respond_with_data(page, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/nb/files/report.docx").respond_with_data(
        _docx(render_text(report, "pipe_rows")), content_type="application/octet-stream")
    registry = tmp_path / "registry.csv"
    registry.write_text(f"agency,year,url\n某县人民政府办公室,2024,{httpserver.url_for('/nb/2024.html')}\n",
                        encoding="utf-8")
    settings = load_settings(env={}, home=tmp_path / "home", sources=str(registry), min_delay=0.0)
    summary = run_year(2024, settings)
    [o] = summary.reports
    assert o.outcome == PUBLISHED, o.reasons
    assert any("parsed from the attachment" in r for r in o.reasons)
    docx_requests = [r for r, _ in httpserver.log if r.path.endswith("report.docx")]
    assert len(docx_requests) == 1
