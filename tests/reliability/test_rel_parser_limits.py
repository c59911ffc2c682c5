"""The parser's answer to each hostile input the fuzzing found, one test per input.

Each was found by test_rel_fuzz.py; these name the input precisely so that a fix can be
checked in a second. The parser's promise (CONTRACT.md §1): any bytes give the contract
object (a file it cannot read is a finding, not an exception), in bounded time.
"""

from __future__ import annotations

import io
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest
import rel_fuzz as rf
from rel_contract import contract_problems

from testkit import synth
from transforms.parse import parse_report

pytestmark = pytest.mark.reliability
HERE = Path(__file__).resolve().parent


def assert_contract(data: bytes) -> dict:
    report = parse_report(data)  # must not raise
    assert contract_problems(report) == []
    return report


def test_review_litigation_row_with_too_few_values_is_ambiguous_not_a_crash():
    # Found by fuzzing (KeyError: '_all' in parse_text): a whitespace-separated table 3 whose
    # value line has fewer than 15 numbers.
    text = synth.render_text(synth.make_report(3), "pipe_rows")
    text = text[:text.index("四、政府信息公开行政复议")] + (
        "四、政府信息公开行政复议、行政诉讼情况\n行政复议 行政诉讼\n"
        "结果维持 结果纠正 其他结果 尚未审结 总计 未经复议直接起诉 复议后起诉\n1 2 3\n五、存在的主要问题及改进情况\n")
    report = assert_contract(text.encode())
    assert all(v is None for g in report["review_litigation"].values() for v in g.values())


def test_a_cell_of_thousands_of_digits_is_unreadable_not_a_crash():
    # Found by fuzzing (ValueError: Exceeds the limit (4300 digits) for integer string conversion).
    rep = synth.make_report(5)
    text = synth.render_text(rep, "pipe_rows", raw={"applications.new_received.natural_person": "7" * 5000})
    report = assert_contract(text.encode())
    assert report["applications"]["new_received"]["natural_person"] is None


def _docx(xml: bytes) -> bytearray:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", xml)
    return bytearray(buf.getvalue())


def _patch(data: bytearray, sig: bytes, offset: int, value: bytes) -> bytearray:
    p = data.find(sig)
    data[p + offset:p + offset + len(value)] = value
    return data


GOOD_XML = rf.docx_xml(__import__("random").Random(1)).encode()


def _encrypted_flag() -> bytes:
    d = _docx(GOOD_XML)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        d[d.find(sig) + off] |= 1
    return bytes(d)


def _unknown_method() -> bytes:
    d = _docx(GOOD_XML)
    for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        _patch(d, sig, off, (99).to_bytes(2, "little"))
    return bytes(d)


def _corrupt_deflate() -> bytes:
    d = _docx(GOOD_XML)
    p = d.find(b"PK\x03\x04") + 30 + len("word/document.xml")
    for k in range(p + 10, p + 60):
        d[k] ^= 0x5A
    return bytes(d)


def _lying_size() -> bytes:
    d = _docx(b" " * 3_000_000)
    for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        _patch(d, sig, off, (1000).to_bytes(4, "little"))
    return bytes(d)


def _bad_local_header() -> bytes:
    d = _docx(GOOD_XML)
    return bytes(_patch(d, b"PK\x03\x04", 0, b"PK\x07\x08"))  # central directory fine, local header gone


@pytest.mark.parametrize("make", [_encrypted_flag, _unknown_method, _corrupt_deflate, _lying_size, _bad_local_header],
                         ids=["encrypted-entry", "unknown-compression", "corrupt-deflate", "size-lies", "bad-header"])
def test_broken_docx_attachment_is_a_finding_not_a_crash(make):
    # Found by fuzzing: RuntimeError, NotImplementedError, zlib.error and BadZipFile escape
    # transforms.docx.docx_to_text, which only turns a zip that cannot be opened into DocxError.
    report = assert_contract(make())
    assert any(f["code"] == "cell_unreadable" and ".docx" in f["message"] for f in report["findings"])


def _in_subprocess(code: str, timeout: float) -> tuple[str, float]:
    """Run parser code in a child with a time limit: ('ok'|'hang'|'error: ...', seconds)."""
    import time

    t0 = time.monotonic()
    try:
        p = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, timeout=timeout,
                           cwd=str(HERE), text=True)
    except subprocess.TimeoutExpired:
        return "hang", time.monotonic() - t0
    return ("ok" if p.returncode == 0 else "error: " + p.stderr.strip().splitlines()[-1]), time.monotonic() - t0


PDF_TIME_LIMIT = 10.0


@pytest.mark.slow
def test_pdf_compression_bomb_is_refused_quickly():
    # Found by fuzzing: a 10 KB PDF whose content stream inflates to 10 MB of zeros keeps
    # pdfminer busy for ~45 s (about 4.5 s per inflated MB); 50 MB takes minutes.
    status, seconds = _in_subprocess("""
        import zlib, rel_fuzz as rf
        from rel_contract import contract_problems
        from transforms.parse import parse_report
        data = rf._page_pdf(rf._stream(zlib.compress(bytes(10 * 1024 * 1024), 9), b"/Filter /FlateDecode "))
        assert len(data) < 20_000
        assert contract_problems(parse_report(data)) == []
    """, PDF_TIME_LIMIT)
    assert status == "ok", f"{status} after {seconds:.1f} s (limit {PDF_TIME_LIMIT:g} s)"


@pytest.mark.slow
def test_pdf_whose_page_tree_refers_to_itself_does_not_hang():
    # Found by fuzzing: "/Pages 2 0 R" where object 2 is "2 0 R" loops for ever in pdfminer.
    status, seconds = _in_subprocess("""
        import rel_fuzz as rf
        from rel_contract import contract_problems
        from transforms.parse import parse_report
        data = rf.mini_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"2 0 R",
                            b"<< /Type /ObjStm /N 1 /First 4 /Length 5 >>"])
        assert contract_problems(parse_report(data)) == []
    """, PDF_TIME_LIMIT)
    assert status == "ok", f"{status} after {seconds:.1f} s (limit {PDF_TIME_LIMIT:g} s)"
