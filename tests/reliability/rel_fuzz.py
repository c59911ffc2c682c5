"""Hostile inputs for the parser, and worker processes that parse them under a time limit.

Two halves:

* generators: ``generate(family, seed, index) -> (bytes, content_type)`` is deterministic,
  so a failing input is reproduced from its three coordinates alone. Families mutate real
  seeds (tests/fixtures/seeds), testkit.synth renderings in every layout, render_html
  pages and small PDFs, or build hostile documents (deep nesting, huge tables, entity
  expansion, XXE, malformed/encrypted PDFs, compression bombs, zip bombs as .docx).
* :class:`FuzzPool`: N worker processes (``python rel_fuzz.py --worker``), each parsing
  one document at a time with ``transforms.parse.parse_report``. The parent enforces a
  hard per-document time limit (a worker stuck in C code is killed and replaced) and the
  worker a memory limit (RLIMIT_AS), so a bomb ends as a recorded failure, not a dead
  machine. Every input ends ``parsed`` or ``quarantined`` (the contract says why), or is
  a failure: ``crash`` (an exception escaped), ``invalid`` (output breaks the contract),
  ``hang`` (time limit) or ``died`` (the worker process died).
"""

from __future__ import annotations

import base64
import io
import json
import os
import random
import select
import subprocess
import sys
import threading
import time
import traceback
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SEEDS_DIR = REPO / "tests" / "fixtures" / "seeds"
PDF_FIXTURE = REPO / "tests" / "fixtures" / "pdf" / "huaian_city_2024.pdf"

FAMILIES = ("seed_mut", "synth_mut", "html_mut", "pdf_mut", "docx_mut", "random",
            "html_hostile", "pdf_hostile", "docx_hostile")
# Relative weights in a mixed (mutation) run: cheap text families dominate, PDFs are slower
# to parse. The *_hostile families are a fixed catalogue of kinds (index modulo the number
# of kinds), run on their own.
WEIGHTS = {"seed_mut": 30, "synth_mut": 28, "html_mut": 22, "pdf_mut": 8, "docx_mut": 4, "random": 8}


# --------------------------------------------------------------------------- building blocks
def _tokens() -> list[str]:
    """Words the parser keys on (from formatspec) plus separators and odd values."""
    from transforms import formatspec as fs

    words: list[str] = []
    for tpl in fs.TEMPLATES:
        words += [it.label for it in fs.AD_ITEMS[tpl]] + [m.label for m in fs.AD_MEASURES[tpl].values()]
        words += [r.label for r in fs.app_rows(tpl)]
    words += [g.label for g in fs.APP_GROUPS] + [g.label for g in fs.RL_GROUPS] + [o.label for o in fs.RL_OUTCOMES]
    words += list(fs.TABLE_LABELS.values()) + list(fs.APPLICATIONS_HEADER_MARKERS) + [fs.RL_HEADER_END]
    words += ["一、总体情况", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
              "四、政府信息公开行政复议、行政诉讼情况", "第二十条第(一)项", "2024年1月1日至2024年12月31日",
              "政府信息公开工作年度报告", "|", " | ", "||||||||", "\n", "\n\n", "\t", "/", "-", "—", "0", "12",
              "3.5", "-7", "1,234", "９９", "万元", "件", "\u3000", "\x00", "\ufeff", "\u202e", "(", ")", "（",
              "９" * 40, "1" * 300, "0" * 25, "1e308", "NaN", "inf", "-0", "9" * 19, "18446744073709551616"]
    return words


_TOKENS: list[str] | None = None


def tokens() -> list[str]:
    global _TOKENS
    if _TOKENS is None:
        _TOKENS = _tokens()
    return _TOKENS


def mutate_text(rng: random.Random, text: str, n: int | None = None) -> str:
    """A few structure-aware edits of report text."""
    toks = tokens()
    for _ in range(n or rng.randint(1, 8)):
        if not text:
            text = rng.choice(toks)
        op = rng.randrange(10)
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randint(0, 400))
        if op == 0:
            text = text[:i] + rng.choice(toks) + text[i:]
        elif op == 1:
            text = text[:i] + text[j:]
        elif op == 2:  # duplicate a span (repeated rows, tables, labels)
            text = text[:j] + text[i:j] * rng.randint(1, 5) + text[j:]
        elif op == 3:  # numbers become odd: long runs, signs, decimals
            text = text[:i] + rng.choice(["".join(rng.choice("0123456789") for _ in range(rng.randint(5, 90))),
                                          "-" + str(rng.randint(0, 10**12)), f"{rng.random() * 1e6:.4f}",
                                          "9" * rng.randint(20, 200)]) + text[i:]
        elif op == 4:  # separators: pipes and newlines removed or added
            seg = text[i:j]
            seg = seg.replace("|", "") if rng.random() < 0.5 else seg.replace(" ", " | ")
            text = text[:i] + seg + text[j:]
        elif op == 5:
            text = text[:i] + "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(1, 20))) + text[i:]
        elif op == 6:  # swap two spans (rows out of order)
            k = min(len(text), j + rng.randint(0, 400))
            text = text[:i] + text[j:k] + text[i:j] + text[k:]
        elif op == 7:
            text = text[:i] + "\n".join(rng.choice(toks) for _ in range(rng.randint(2, 60))) + text[i:]
        elif op == 8 and rng.random() < 0.2:  # now and then, one huge line
            text = text[:i] + rng.choice(toks) * rng.randint(100, 5000) + text[i:]
        else:
            text = text[:i] + text[i:j].upper().replace("\n", " ") + text[j:]
    return text


def mutate_bytes(rng: random.Random, data: bytes, n: int | None = None) -> bytes:
    b = bytearray(data)
    for _ in range(n or rng.randint(1, 10)):
        if not b:
            b += os.urandom(1)
        op = rng.randrange(7)
        i = rng.randrange(len(b) + 1)
        j = min(len(b), i + rng.randint(1, 64))
        if op == 0 and i < len(b):
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 32)))
        elif op == 2:
            del b[i:j]
        elif op == 3:
            b[i:i] = b[i:j] * rng.randint(2, 50)
        elif op == 4:  # truncate
            del b[i:]
        elif op == 5 and i < len(b):
            b[i] = rng.choice(b"\x00\xff<>&;\"'%|\n0123456789")
        else:
            b[i:i] = rng.choice([b"<", b"</td>", b"<tr>", b"&amp;", b"&#x0;", b"\xef\xbb\xbf", b"\xed\xa0\x80",
                                 b"\xc0\x80", b"endstream", b"endobj", b"%%EOF", b"/Length 999999999", b"obj"])
    return bytes(b)


_SEED_TEXTS: list[str] | None = None


def seed_texts() -> list[str]:
    global _SEED_TEXTS
    if _SEED_TEXTS is None:
        _SEED_TEXTS = [p.read_text(encoding="utf-8") for p in sorted(SEEDS_DIR.glob("*.txt"))]
    return _SEED_TEXTS


def synth_report(rng: random.Random) -> dict:
    from testkit import synth
    from transforms import formatspec as fs

    tpl = fs.F2019 if rng.random() < 0.2 else fs.F2021
    return synth.make_report(rng, template_ad=tpl, template_app=tpl, year=2020 if tpl == fs.F2019 else 2024,
                             scale=rng.choice([30, 300, 100000]))


def synth_text(rng: random.Random) -> str:
    from testkit import synth

    return synth.render_text(synth_report(rng), rng.choice(synth.LAYOUTS), narrative=rng.random() < 0.7,
                             title=rng.random() < 0.8)


PARAGRAPHS = ["一、总体情况", "本年度认真贯彻落实条例。", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
              "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]


def synth_html(rng: random.Random) -> bytes:
    from testkit.render import render_html

    rep = synth_report(rng)
    title = f"{rep['agency']}{rep['year']}年政府信息公开工作年度报告"
    return render_html(rep, title=title, paragraphs=PARAGRAPHS, encoding=rng.choice(["utf-8", "gbk"]),
                       fullwidth=rng.random() < 0.5)


def _encode(rng: random.Random, text: str) -> tuple[bytes, str | None]:
    enc = rng.choice(["utf-8", "utf-8", "gb18030", "utf-16", "big5"])
    data = text.encode(enc, errors="replace")
    if enc == "utf-8" and rng.random() < 0.2:
        data = b"\xef\xbb\xbf" + data
    # A declared charset that may lie (servers often send a default header).
    ctype = rng.choice([None, None, "text/plain", f"text/html; charset={enc}", "text/html; charset=iso-8859-1",
                        "text/html; charset=utf-7", "text/html; charset=bogus-42", "application/pdf"])
    return data, ctype


# --------------------------------------------------------------------------- hostile HTML
def hostile_html(rng: random.Random, index: int, loopback: str = "http://127.0.0.1:9") -> bytes:
    kind = index % 12
    row = "<tr>" + "".join(f"<td>{rng.randint(0, 999)}</td>" for _ in range(8)) + "</tr>"
    if kind == 0:  # deeply nested elements
        depth = rng.choice([1000, 10000, 100000])
        tag = rng.choice(["div", "span", "b", "table", "td", "font"])
        return ("<html><body>" + f"<{tag}>" * depth + "本年新收" + f"</{tag}>" * (depth // 2)).encode()
    if kind == 1:  # nested tables (layout tables inside tables)
        depth = rng.choice([50, 300, 2000])
        return ("<html><body>" + "<table><tr><td>" * depth + "<table>" + row * 3 + "</table>"
                + "</td></tr></table>" * depth).encode()
    if kind == 2:  # a huge table
        rows, cols = rng.choice([(3000, 10), (300, 300), (20000, 3)])
        cell = "<td>本年新收</td>" + "<td>1</td>" * (cols - 1)
        return ("<html><body><p>三、收到和处理政府信息公开申请情况</p><table>" + ("<tr>" + cell + "</tr>") * rows
                + "</table></body></html>").encode()
    if kind == 3:  # billion laughs in an internal subset
        ents = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
        return (f'<?xml version="1.0"?><!DOCTYPE html [{ents}]><html><body><p>&a9;</p>'
                f"<table>{row}</table></body></html>").encode()
    if kind == 4:  # external entities and DTDs pointing at loopback and local files
        return (f'<?xml version="1.0"?><!DOCTYPE html SYSTEM "{loopback}/dtd" [<!ENTITY x SYSTEM "file:///etc/passwd">'
                f'<!ENTITY y SYSTEM "{loopback}/xxe">]><html><body><p>&x;&y;</p><table>{row}</table>'
                f'<img src="{loopback}/img"><link rel="stylesheet" href="{loopback}/css"><iframe src="{loopback}/if">'
                "</iframe></body></html>").encode()
    if kind == 5:  # absurd spans
        return ("<html><body><table>" + "".join(
            f'<tr><td rowspan="{rng.choice(["-1", "0", "99999999", "1e9", "x"])}" colspan="'
            f'{rng.choice(["-5", "2147483648", "100000", "", "3"])}">本年新收</td><td>1</td></tr>' for _ in range(200))
            + "</table></body></html>").encode()
    if kind == 6:  # unclosed everything, comments, CDATA, PIs
        return ("<html><body><!-- " + "<table><tr><td>1" * 500 + "<![CDATA[" + "]]>" * 3 + "<?php x ?>"
                + "<script>" + "</" * 1000).encode()
    if kind == 7:  # many attachments links and images
        return ("<html><body>" + "".join(f'<a href="/f{i}.pdf">附件{i}</a><img src="x{i}.png">' for i in range(20000))
                + "</body></html>").encode()
    if kind == 8:  # charset declarations that lie or are exotic
        cs = rng.choice(["utf-7", "utf-16", "utf-32", "x-user-defined", "ebcdic-cp-us", "bogus", "gb2312" * 50])
        return (f'<html><head><meta charset="{cs}"></head><body>' + "本年新收 | 1 | 2 |" * 50
                + "</body></html>").encode("utf-8")
    if kind == 9:  # NUL bytes, lone surrogates, overlong sequences between cells
        return b"<html><body><table>" + b"<tr><td>\x00\xed\xa0\x80\xc0\x80\xf8\x88\x80\x80\x80</td><td>1</td></tr>" * 500
    if kind == 10:  # a synth page with every numeric cell blown up to a long run
        page = synth_html(rng).decode("utf-8", errors="replace")
        return page.replace("<td>0</td>", "<td>" + "1234567890" * 30 + "</td>").encode()
    # an SVG/MathML island with entity tricks
    return ("<html><body><svg><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]><text>&e;</text></svg>"
            "<math><mi>&lol;</mi></math><table>" + row * 20 + "</table></body></html>").encode()


# --------------------------------------------------------------------------- PDFs
def mini_pdf(objects: list[bytes], root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF from raw object bodies (object i+1 = objects[i]) with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, root, trailer_extra, xref))
    return out.getvalue()


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def _page_pdf(content: bytes, extra_pages: bytes = b"") -> bytes:
    return mini_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 " + extra_pages + b">>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        content,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ])


_PDF_BASES: list[bytes] | None = None


def pdf_bases() -> list[bytes]:
    """Small real PDFs (reportlab, CJK text of synthetic reports) plus the fixture PDF."""
    global _PDF_BASES
    if _PDF_BASES is not None:
        return _PDF_BASES
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    bases = []
    rng = random.Random(7)
    for i in range(3):
        from testkit import synth

        text = synth.render_text(synth_report(rng), "pipe_rows")
        buf = io.BytesIO()
        kw = {}
        if i == 1:
            kw = {"encrypt": "secret"}  # user password: the text cannot be read
        elif i == 2:
            from reportlab.lib import pdfencrypt

            kw = {"encrypt": pdfencrypt.StandardEncryption("", ownerPassword="owner", canCopy=0)}  # owner only
        c = canvas.Canvas(buf, pagesize=A4, **kw)
        y = 800
        for line in text.splitlines()[:160]:
            c.setFont("STSong-Light", 8)
            c.drawString(30, y, line[:90])
            y -= 10
            if y < 40:
                c.showPage()
                y = 800
        c.save()
        bases.append(buf.getvalue())
    _PDF_BASES = bases
    return bases


def hostile_pdf(rng: random.Random, index: int) -> bytes:
    kind = index % 10
    text_ops = b"BT /F1 12 Tf 72 712 Td (2024 | 1 | 2 | 3 |) Tj ET"
    if kind == 0:  # a compression bomb in a content stream (10-50 MB of zeros from a few KB)
        bomb = zlib.compress(b"\x00" * (rng.choice([10, 50]) * 1024 * 1024), 9)
        return _page_pdf(_stream(bomb, b"/Filter /FlateDecode "))
    if kind == 1:  # deeply nested arrays and dictionaries
        depth = rng.choice([1000, 100000])
        return _page_pdf(_stream(text_ops)).replace(b"/MediaBox [0 0 595 842]",
                                                    b"/MediaBox " + b"[" * depth + b"]" * depth)
    if kind == 2:  # a page tree that loops on itself, and a lying page count
        return mini_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                         b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 99999999 >>",
                         b"<< /Type /Page /Parent 3 0 R /Kids [2 0 R] >>"])
    if kind == 3:  # xref offsets and lengths that point anywhere
        pdf = _page_pdf(_stream(text_ops))
        return pdf.replace(b"/Length ", b"/Length 99999999").replace(b"startxref\n", b"startxref\n9")
    if kind == 4:  # encrypted with a user password, or with an unknown security handler
        if rng.random() < 0.5:
            return pdf_bases()[1]
        return mini_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>",
                         b"<< /Filter /Bogus /V 9 /R 9 /O <00> /U <00> /P -1 >>"], trailer_extra=b"/Encrypt 3 0 R ")
    if kind == 5:  # only the header, or garbage after it
        return b"%PDF-1.7\n" + os.urandom(rng.randint(0, 4096))
    if kind == 6:  # a stream with a broken filter chain
        return _page_pdf(_stream(os.urandom(2000), b"/Filter [/FlateDecode /LZWDecode /ASCII85Decode /DCTDecode] "))
    if kind == 7:  # an object stream referring to itself
        return mini_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"2 0 R", b"<< /Type /ObjStm /N 1 /First 4 /Length 5 >>"])
    if kind == 8:  # thousands of (empty) pages beyond the page limit
        n = 500
        kids = b" ".join(b"%d 0 R" % (i + 3) for i in range(n))
        objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % n]
        objs += [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>"] * n
        return mini_pdf(objs)
    # a text layer of "(cid:N)" codes only: a font without a ToUnicode map
    ops = b"BT /F1 10 Tf 10 10 Td <" + os.urandom(200).hex().encode() + b"> Tj ET"
    return mini_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        _stream(ops),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [6 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) "
        b"/Supplement 0 >> >>",
    ])


# --------------------------------------------------------------------------- .docx
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_xml(rng: random.Random, prolog: str = "", body_extra: str = "") -> str:
    from testkit import synth

    text = synth.render_text(synth_report(rng), "pipe_rows")
    paras = "".join(f"<w:p><w:r><w:t>{line.replace('&', '&amp;').replace('<', '&lt;')}</w:t></w:r></w:p>"
                    for line in text.splitlines())
    return f'<?xml version="1.0"?>{prolog}<w:document xmlns:w="{W_NS}"><w:body>{body_extra}{paras}</w:body></w:document>'


def _zip(entries: list[tuple[str, bytes]], method=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


def hostile_docx(rng: random.Random, index: int, loopback: str = "http://127.0.0.1:9") -> bytes:
    kind = index % 11
    good = docx_xml(rng).encode()
    if kind == 0:  # the classic: a small zip inflating to hundreds of MB
        return _zip([("word/document.xml", b"<" + b"a" * (rng.choice([50, 300]) * 1024 * 1024))])
    if kind == 1:  # a header that lies about the size (passes the ratio check, inflates far more)
        data = bytearray(_zip([("word/document.xml", b" " * (60 * 1024 * 1024))]))
        for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            p = data.find(sig)
            data[p + off:p + off + 4] = (1000).to_bytes(4, "little")
        return bytes(data)
    if kind == 2:  # entity expansion inside document.xml
        ents = '<!ENTITY a0 "lol">' + "".join(f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
        return _zip([("word/document.xml", docx_xml(rng, f"<!DOCTYPE w:document [{ents}]>", "<w:p><w:r><w:t>&a9;</w:t></w:r></w:p>").encode())])
    if kind == 3:  # external entities to a local file and to loopback
        pro = f'<!DOCTYPE w:document [<!ENTITY x SYSTEM "file:///etc/passwd"><!ENTITY y SYSTEM "{loopback}/xxe">]>'
        return _zip([("word/document.xml", docx_xml(rng, pro, "<w:p><w:r><w:t>&x;&y;</w:t></w:r></w:p>").encode())])
    if kind == 4:  # the encrypted-entry flag
        data = bytearray(_zip([("word/document.xml", good)]))
        for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            p = data.find(sig)
            data[p + off] |= 1
        return bytes(data)
    if kind == 5:  # an unsupported compression method
        data = bytearray(_zip([("word/document.xml", good)]))
        for sig, off in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
            p = data.find(sig)
            data[p + off:p + off + 2] = (99).to_bytes(2, "little")
        return bytes(data)
    if kind == 6:  # a corrupted deflate stream (CRC and inflate errors)
        data = bytearray(_zip([("word/document.xml", good)]))
        p = data.find(b"PK\x03\x04") + 30 + len("word/document.xml")
        for k in range(p + 10, min(len(data) - 200, p + 60)):
            data[k] ^= 0x5A
        return bytes(data)
    if kind == 7:  # too many entries
        return _zip([(f"x/{i}", b"") for i in range(3000)] + [("word/document.xml", good)], zipfile.ZIP_STORED)
    if kind == 8:  # deeply nested XML
        depth = rng.choice([300, 5000, 100000])
        return _zip([("word/document.xml", (f'<w:document xmlns:w="{W_NS}"><w:body>' + "<w:sdt><w:sdtContent>" * depth
                                            + "</w:sdtContent></w:sdt>" * depth + "</w:body></w:document>").encode())])
    if kind == 9:  # a valid document, mutated
        return mutate_bytes(rng, _zip([("word/document.xml", good)]))
    # a table whose gridSpan values are absurd
    tbl = "<w:tbl>" + ("<w:tr>" + "<w:tc><w:tcPr><w:gridSpan w:val=\"99999999\"/></w:tcPr><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>" * 50
                       + "</w:tr>") * 200 + "</w:tbl>"
    return _zip([("word/document.xml", docx_xml(rng, "", tbl).encode())])


# --------------------------------------------------------------------------- one input
def generate(family: str, seed: int, index: int, loopback: str = "http://127.0.0.1:9") -> tuple[bytes, str | None]:
    """The ``index``-th input of ``family`` for ``seed`` (deterministic)."""
    rng = random.Random(f"{family}/{seed}/{index}")
    if family == "seed_mut":
        base = rng.choice(seed_texts())
        data, ctype = _encode(rng, mutate_text(rng, base))
        return (mutate_bytes(rng, data, 2) if rng.random() < 0.3 else data), ctype
    if family == "synth_mut":
        return _encode(rng, mutate_text(rng, synth_text(rng)))
    if family == "html_mut":
        page = synth_html(rng)
        if rng.random() < 0.5:
            return mutate_bytes(rng, page), rng.choice([None, "text/html; charset=utf-8", "text/html; charset=gbk"])
        return mutate_text(rng, page.decode("gb18030", errors="replace")).encode("utf-8", "surrogatepass"), None
    if family == "html_hostile":
        return hostile_html(rng, index, loopback), rng.choice([None, "text/html"])
    if family == "pdf_mut":
        bases = pdf_bases()
        base = PDF_FIXTURE.read_bytes() if rng.random() < 0.01 else rng.choice(bases)
        return mutate_bytes(rng, base, rng.randint(1, 6)), rng.choice([None, "application/pdf"])
    if family == "pdf_hostile":
        return hostile_pdf(rng, index), "application/pdf"
    if family == "docx_mut":
        return mutate_bytes(rng, _zip([("word/document.xml", docx_xml(rng).encode())])), None
    if family == "docx_hostile":
        return hostile_docx(rng, index, loopback), None
    if family == "random":
        prefix = rng.choice([b"", b"%PDF-1.4\n", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"<html>", b"\xef\xbb\xbf",
                             b"\xff\xfe", b"\xfe\xff", b"<?xml version='1.0'?>"])
        return prefix + bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 16, 500, 5000]))), None
    if family == "_hang":  # for the harness's own test: a generator that never returns
        while True:
            time.sleep(0.01)
    raise ValueError(f"unknown family {family!r}")


# --------------------------------------------------------------------------- worker side
def check_one(data: bytes, ctype: str | None) -> dict:
    """Parse one input; classify the outcome (runs inside a worker)."""
    from rel_contract import contract_problems, outcome

    from transforms.parse import parse_report

    t0 = time.perf_counter()
    try:
        report = parse_report(data, content_type=ctype)
    except MemoryError:
        return {"status": "crash", "detail": "MemoryError", "seconds": time.perf_counter() - t0}
    except BaseException as e:  # noqa: BLE001 - whatever escapes the parser is the finding
        tb = traceback.extract_tb(e.__traceback__)[-3:]
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno}" for f in reversed(tb))
        return {"status": "crash", "detail": f"{type(e).__name__}: {str(e)[:200]} at {where}",
                "seconds": time.perf_counter() - t0}
    seconds = time.perf_counter() - t0
    problems = contract_problems(report)
    if problems:
        return {"status": "invalid", "detail": "; ".join(problems[:5])[:500], "seconds": seconds}
    reasons = [f["message"] for f in report["findings"] if f["severity"] == "error"][:2]
    return {"status": outcome(report), "detail": " / ".join(reasons)[:200], "seconds": seconds}


def worker_main() -> None:
    import resource

    limit = int(os.environ.get("XXGK_FUZZ_MEM_MB", "2048")) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    out = sys.stdout
    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if "data" in req:
                data, ctype = base64.b64decode(req["data"]), req.get("ctype")
            else:
                data, ctype = generate(req["family"], req["seed"], req["index"], req.get("loopback") or "http://127.0.0.1:9")
        except Exception as e:  # noqa: BLE001 - a generator bug is the test's, reported as such
            print(json.dumps({"status": "generator_error", "detail": f"{type(e).__name__}: {e}"}), file=out, flush=True)
            continue
        res = check_one(data, ctype)
        res["bytes"] = len(data)
        print(json.dumps(res), file=out, flush=True)


# --------------------------------------------------------------------------- parent side
@dataclass
class FuzzStats:
    counts: Counter = field(default_factory=Counter)  # status -> n
    by_family: dict = field(default_factory=dict)  # family -> Counter
    failures: list = field(default_factory=list)  # dicts with the input's coordinates
    slowest: float = 0.0
    slowest_input: str = ""

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def add(self, family: str, coord: str, res: dict) -> None:
        st = res["status"]
        self.counts[st] += 1
        self.by_family.setdefault(family, Counter())[st] += 1
        if res.get("seconds", 0) > self.slowest:
            self.slowest, self.slowest_input = res["seconds"], coord
        if st not in ("parsed", "quarantined"):
            self.failures.append({"input": coord, **res})


class _Worker:
    def __init__(self, env: dict):
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(HERE / "rel_fuzz.py"), "--worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=self.env, cwd=str(REPO))
        self.buf = b""
        ready = self.read(120)
        if not (ready and ready.get("ready")):
            raise RuntimeError("fuzz worker did not start")

    def read(self, timeout: float) -> dict | None:
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([fd], [], [], left)
            if r:
                chunk = os.read(fd, 65536)
                if not chunk:
                    return {"status": "died", "detail": f"worker exited with {self.proc.wait()}"}
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def ask(self, req: dict, timeout: float) -> dict:
        try:
            self.proc.stdin.write((json.dumps(req) + "\n").encode())
            self.proc.stdin.flush()
        except BrokenPipeError:
            self.restart()
            return {"status": "died", "detail": "worker pipe broken"}
        res = self.read(timeout)
        if res is None:
            self.restart()
            return {"status": "hang", "detail": f"no answer within {timeout:g} s", "seconds": timeout}
        if res.get("status") == "died":
            self.restart()
        return res

    def restart(self) -> None:
        self.stop()
        self.start()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()


class FuzzPool:
    """``workers`` parser processes; ``timeout`` is the per-document time limit in seconds."""

    def __init__(self, workers: int = 2, timeout: float = 20.0, mem_mb: int = 2048):
        env = dict(os.environ, XXGK_FUZZ_MEM_MB=str(mem_mb), PYTHONPATH=os.pathsep.join([str(HERE), str(REPO)]))
        self.timeout = timeout
        self.workers = [_Worker(env) for _ in range(workers)]

    def close(self) -> None:
        for w in self.workers:
            w.stop()

    def __enter__(self) -> FuzzPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, jobs: list[tuple[str, dict]], stats: FuzzStats) -> FuzzStats:
        """``jobs``: (family, request) pairs; requests carry either coordinates or base64 data."""
        lock = threading.Lock()
        it = iter(jobs)

        def loop(w: _Worker) -> None:
            while True:
                with lock:
                    job = next(it, None)
                if job is None:
                    return
                family, req = job
                res = w.ask(req, self.timeout)
                coord = (f"{family}/{req['seed']}/{req['index']}" if "index" in req
                         else f"{family}/bytes:{req['data'][:40]}")
                with lock:
                    stats.add(family, coord, res)

        threads = [threading.Thread(target=loop, args=(w,)) for w in self.workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return stats

    def parse_bytes(self, family: str, docs: list[tuple[bytes, str | None]], stats: FuzzStats) -> FuzzStats:
        jobs = [(family, {"data": base64.b64encode(d).decode(), "ctype": c}) for d, c in docs]
        return self.run(jobs, stats)


def mixed_jobs(total: int, seed: int, loopback: str | None = None) -> list[tuple[str, dict]]:
    """``total`` generated inputs spread over the families by WEIGHTS (each family at least a few)."""
    weight = sum(WEIGHTS.values())
    jobs = []
    for fam in WEIGHTS:
        n = max(4, total * WEIGHTS[fam] // weight)
        jobs += [(fam, {"family": fam, "seed": seed, "index": i, "loopback": loopback}) for i in range(n)]
    random.Random(seed).shuffle(jobs)  # mix slow and fast inputs across the workers
    return jobs


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        worker_main()
    else:  # reproduce one input: python rel_fuzz.py FAMILY SEED INDEX [OUT]
        fam, sd, ix = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
        data, ctype = generate(fam, sd, ix)
        if len(sys.argv) > 4:
            Path(sys.argv[4]).write_bytes(data)
        print(json.dumps({"ctype": ctype, **check_one(data, ctype)}))
