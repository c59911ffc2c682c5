"""The pictures of a document, for OCR (pure): PDF pages rendered with PDFium, the images
embedded in a .docx, the ``<img>`` sources of an HTML page.

Limits: at most ``MAX_PAGES`` pages are rendered and only lazily (the caller stops once
the tables are read, so a 200-page scan costs the pages up to its tables), pictures over
``MAX_PICTURE_BYTES`` are skipped, a .docx gives at most ``MAX_PICTURES`` images.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser

DPI = 150
MAX_PAGES = 12  # pages rendered for OCR, at most: a scan's tables come early, and each page costs ~1.5 CPU-s
MAX_PICTURES = 20  # images taken from one page or .docx
MAX_PICTURE_BYTES = 15_000_000
PICTURE_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM")  # PNG, JPEG, GIF, WebP, BMP
_IMAGE_NAME = re.compile(r"\.(png|jpe?g|gif|bmp|tiff?|webp)$", re.IGNORECASE)


def pdf_pages(data: bytes, max_pages: int = MAX_PAGES, text_chars: int = 50) -> Iterator[tuple[int, object]]:
    """(page index, PIL grayscale image at 150 dpi) of each page with (almost) no text layer."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    try:
        for i in range(min(len(doc), max_pages)):
            page = doc[i]
            try:
                textpage = page.get_textpage()
                chars = textpage.count_chars()
                textpage.close()
                if chars > text_chars:
                    continue
                yield i, page.render(scale=DPI / 72, grayscale=True).to_pil().convert("L")
            finally:
                page.close()
    finally:
        doc.close()


def docx_images(data: bytes) -> list[bytes]:
    """The pictures embedded in a .docx (word/media), in their numbering order."""
    out: list[bytes] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = [i for i in zf.infolist() if i.filename.startswith("word/media/") and _IMAGE_NAME.search(i.filename)]
            names.sort(key=lambda i: [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", i.filename)])
            for info in names[:MAX_PICTURES]:
                if info.file_size <= MAX_PICTURE_BYTES:
                    out.append(zf.read(info))
    except zipfile.BadZipFile:
        return []
    return out


class _Imgs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.srcs: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "noscript"):
            self._skip += 1
        if tag == "img" and not self._skip:
            a = dict(attrs)
            src = (a.get("src") or a.get("data-src") or "").strip()
            if src and not src.startswith("data:") and src not in self.srcs:
                self.srcs.append(src)
        if tag == "a" and not self._skip:  # a linked picture file (an image attachment)
            href = (dict(attrs).get("href") or "").strip()
            if _IMAGE_NAME.search(re.split(r"[?#]", href, maxsplit=1)[0]) and href not in self.srcs:
                self.srcs.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "noscript") and self._skip:
            self._skip -= 1


def html_image_srcs(html: str) -> list[str]:
    """The ``src`` of every ``<img>`` of a page and the ``href`` of every link to a picture file
    (.png, .jpg, ...), in page order, once each (at most MAX_PICTURES)."""
    p = _Imgs()
    try:
        p.feed(html)
        p.close()
    except Exception:  # noqa: BLE001 - a broken page has no pictures worth reading
        pass
    return p.srcs[:MAX_PICTURES]
