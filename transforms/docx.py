"""Word (.docx) attachments to text (pure), tables as ``cell | cell |`` rows.

Many bodies publish the report as an attachment. A .docx is a zip of XML: only
``word/document.xml`` is read, with limits on the archive (entries, sizes, compression
ratio) so that a zip bomb is refused with a reason instead of filling memory, and with
an XML parser that resolves no entities and fetches nothing.
"""

from __future__ import annotations

import contextlib
import io
import zipfile
import zlib

from lxml import etree

MAX_ENTRIES = 2000
MAX_DOCUMENT_BYTES = 30_000_000
MAX_RATIO = 200  # uncompressed / compressed: real documents stay far below this

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)


class DocxError(ValueError):
    """The file is not a readable .docx; the message says why."""


def _own(el, tag):
    """Descendants of ``el`` with ``tag`` that are not inside a table nested in ``el``."""
    for child in el:
        if child.tag == tag:
            yield child
        elif child.tag != f"{_W}tbl":
            yield from _own(child, tag)


def _para_text(p) -> str:
    # A superscript run is a footnote reference: glued to a number ("67" + "1") it would be a digit.
    out: list[str] = []
    for t in p.iter(f"{_W}t"):
        run = t.getparent()
        align = run.find(f"{_W}rPr/{_W}vertAlign") if run is not None else None
        if align is not None and align.get(f"{_W}val") == "superscript" and len((t.text or "").strip()) <= 3:
            if not (out and out[-1] == "*"):
                out.append("*")
        else:
            out.append(t.text or "")
    return "".join(out)


def _cell_text(tc) -> str:
    return " ".join(_para_text(p) for p in _own(tc, f"{_W}p")).strip()


def _render_table(tbl, out: list[str]) -> None:
    # A table nested in a cell (Word layout tables) is rendered as rows of its own: flattening it
    # into the outer cell's text would run a whole table's numbers together on one line.
    for tr in _own(tbl, f"{_W}tr"):
        cells, fillers, nested = [], 0, []
        for tc in _own(tr, f"{_W}tc"):
            cells.append(_cell_text(tc).replace("|", "/"))
            nested += list(_own(tc, f"{_W}tbl"))
            span = tc.find(f"{_W}tcPr/{_W}gridSpan")
            if span is not None:
                with contextlib.suppress(ValueError):
                    fillers += max(0, min(int(span.get(f"{_W}val", "1")), 100) - 1)
        if any(cells) or not nested:
            out.append(" | ".join(cells + [""] * fillers) + " |")
        for inner in nested:
            _render_table(inner, out)


def _render(body, out: list[str]) -> None:
    for el in body:
        if el.tag == f"{_W}p":
            out.append(_para_text(el))
        elif el.tag == f"{_W}tbl":
            _render_table(el, out)
        elif el.tag == f"{_W}sdt":
            content = el.find(f"{_W}sdtContent")
            if content is not None:
                _render(content, out)


def docx_to_text(data: bytes) -> str:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError, OSError, NotImplementedError) as exc:
        raise DocxError(f"not a zip archive: {exc}") from exc
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise DocxError(f"archive has {len(infos)} entries (limit {MAX_ENTRIES})")
    try:
        info = zf.getinfo("word/document.xml")
    except KeyError as exc:
        raise DocxError("no word/document.xml: not a Word document") from exc
    if info.file_size > MAX_DOCUMENT_BYTES or info.file_size > MAX_RATIO * max(1, info.compress_size):
        raise DocxError(f"word/document.xml expands to {info.file_size} bytes: refused (zip bomb?)")
    try:
        with zf.open(info) as fh:
            xml = fh.read(MAX_DOCUMENT_BYTES + 1)
    except (RuntimeError, NotImplementedError, zlib.error, zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        # encrypted entry, unknown compression, corrupt deflate, a header that lies
        raise DocxError(f"word/document.xml cannot be read: {type(exc).__name__}: {exc}") from exc
    if len(xml) > MAX_DOCUMENT_BYTES:
        raise DocxError("word/document.xml is larger than its header says: refused")
    try:
        root = etree.fromstring(xml, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DocxError(f"broken XML: {exc}") from exc
    body = root.find(f"{_W}body")
    out: list[str] = []
    if body is not None:
        _render(body, out)
    return "\n".join(out)
