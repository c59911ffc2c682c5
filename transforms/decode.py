"""Bytes to text: what kind of document, and in which encoding (pure, no I/O).

Order of evidence for the encoding (issue #3): the HTTP header's charset, then the
document's own ``<meta charset>``, then detection. GBK pages are decoded as GB18030,
its superset, so that rare characters outside GBK still come out right.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PDF = "pdf"
HTML = "html"
TEXT = "text"
DOCX = "docx"  # a zip container (Office Open XML): an attachment, not a page
DOC = "doc"  # an OLE compound file (legacy Word)

_META_CHARSET = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE
)
_HTML_SNIFF = re.compile(rb"<\s*(!doctype\s+html|html|head|body|table|meta|div|p|tr|td)\b", re.IGNORECASE)
_ALIASES = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "gb_2312-80": "gb18030",
    "utf8": "utf-8",
    "unicode": "utf-8",
    "big5-hkscs": "big5hkscs",
}


@dataclass(frozen=True)
class Decoded:
    kind: str  # pdf | html | text | docx | doc
    text: str  # "" for binary kinds
    encoding: str | None
    encoding_source: str | None  # header | meta | bom | utf-8 | detected | None


def sniff_kind(data: bytes) -> str:
    head = data[:2048].lstrip()
    if head.startswith(b"%PDF-") or b"%PDF-" in data[:1024]:
        return PDF
    # A zip: the local header, or (when that is damaged) the end-of-directory record.
    if head.startswith(b"PK\x03\x04") or (head.startswith(b"PK") and b"PK\x05\x06" in data[-70000:]):
        return DOCX
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return DOC
    if _HTML_SNIFF.search(data[:4096]):
        return HTML
    return TEXT


def normalise_charset(name: str | None) -> str | None:
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    name = _ALIASES.get(name, name)
    try:
        import codecs

        return codecs.lookup(name).name
    except LookupError:
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = re.search(r"charset\s*=\s*[\"']?([^;\"'\s]+)", content_type, re.IGNORECASE)
    return normalise_charset(m.group(1)) if m else None


def _try(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _cjk_share(text: str) -> float:
    if not text:
        return 0.0
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return cjk / max(1, len(text))


def decode_text(data: bytes, content_type: str | None = None) -> tuple[str, str, str]:
    """Decode bytes to text; returns (text, encoding, how the encoding was chosen)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8", "bom"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16", "bom"
    candidates: list[tuple[str, str]] = []
    header = charset_from_content_type(content_type)
    if header:
        candidates.append((header, "header"))
    m = _META_CHARSET.search(data[:8192])
    meta = normalise_charset(m.group(1).decode("ascii", "ignore")) if m else None
    if meta:
        candidates.append((meta, "meta"))
    for enc, source in candidates:
        text = _try(data, enc)
        # A declared charset that does not decode, or decodes to mojibake while another
        # declaration decodes cleanly, is wrong: servers often send a default header.
        if text is not None and not (source == "header" and meta and meta != enc and _cjk_share(text) == 0):
            return text, enc, source
    text = _try(data, "utf-8")
    if text is not None:
        return text, "utf-8", "utf-8"
    text = _try(data, "gb18030")
    if text is not None and _cjk_share(text) > 0.05:
        return text, "gb18030", "detected"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
        if best is not None and best.encoding:
            enc = normalise_charset(best.encoding) or "utf-8"
            return data.decode(enc, errors="replace"), enc, "detected"
    except Exception:  # noqa: BLE001 - detection is best effort; fall through to replace
        pass
    return data.decode("gb18030", errors="replace"), "gb18030", "detected"


def decode(data: bytes, content_type: str | None = None) -> Decoded:
    kind = sniff_kind(data)
    if kind in (PDF, DOCX, DOC):
        return Decoded(kind, "", None, None)
    text, enc, source = decode_text(data, content_type)
    if kind == TEXT and _HTML_SNIFF.search(text[:4096].encode("utf-8", "ignore")):
        kind = HTML
    return Decoded(kind, text, enc, source)
