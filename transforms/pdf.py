"""The text layer of a PDF report, laid out so that the parser can read its tables.

pdfplumber rather than bare pdfminer.six: it is pdfminer.six plus ruling-line table
detection (cells, row/col spans), which is exactly what the reports' grid tables need.

Output: the page text in reading order, with every table row on one line as
``label | v1 | v2 | ... |`` (the parser's pipe mode). Label columns (row-span group
labels, sub-labels) are merged into the one label cell; cells covered by a span are
dropped, empty cells are kept as empty cells. Wrapped cell text is joined. Across pages
(FORMAT.md §7.6): page markers ("- 4 -", "第4页") are removed, a table continued on the next
page continues (a repeated header row is dropped, a row whose label was cut by the page
break is joined), a section heading repeated after a page break is dropped, and a running
header/footer (a margin line recurring on several pages) is kept only where it first occurs.
Where a page has no ruled table, lines are built from words grouped by their y position;
a line ending in numbers becomes ``label | n1 | n2 |``, vertical header letters (one CJK
character per line) are dropped, and a label wrapped around its value line is joined.

Errors: :class:`PdfError` for input that is not a readable PDF (not a PDF, malformed,
encrypted with a user password, more than ``MAX_PAGES`` pages or ``MAX_BYTES`` bytes, a
text layer that decodes only to "(cid:N)" codes). Copy-protected PDFs (owner password
only) are read. A PDF without a text layer (a scan) gives "".
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import zlib
from bisect import bisect_left, bisect_right
from collections import Counter
from dataclasses import dataclass
from operator import itemgetter

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.page import test_proposed_bbox
from pdfplumber.utils.geometry import get_bbox_overlap

from transforms import formatspec as fs
from transforms.pdfobjects import BOTTOM, SIZE, TEXT, TOP, X0, X1, PdfiumPage, read_page, rows_of
from transforms.pdftables import cell_text, find_tables, text_lines

# pdfminer warns at length on damaged files; what matters reaches the caller as PdfError.
logging.getLogger("pdfminer").setLevel(logging.ERROR)

MAX_PAGES = 200
MAX_BYTES = 100 * 1024 * 1024


class PdfError(ValueError):
    """The bytes are not a PDF whose text can be read; the message says why."""


_TEXT_OF = itemgetter(TEXT)
_CID = re.compile(r"\(cid:\d+\)")
_NUM = re.compile(r"[+-]?\d[\d,，]*(\.\d+)?")
_CJK = r"\u3400-\u9fff\uf900-\ufaff"
_CJK_GAP = re.compile(rf"(?<=[{_CJK}（）(),，、。：:“”])\s+(?=[{_CJK}（）(),，、。：:“”])")
_PAGE_MARK = re.compile(r"^\s*([-—–－]+\s*\d{1,4}\s*[-—–－]+|第\s*\d{1,4}\s*页(\s*[,，/]?\s*共\s*\d{1,4}\s*页)?)\s*$")
_BARE_NUM = re.compile(r"^\s*\d{1,4}\s*$")
_LABEL_START = re.compile(r"^\s*([（(][一二三四五六七八九十]+[)）]|\d+\s*[.、．]|[一二三四五六七八九十]+\s*[、.．]|第二十条)")
_HEADING = re.compile(fs.SECTION_HEADING)


@dataclass
class _Row:
    label: str
    values: list[str]  # cells of the value columns, "" for an empty cell
    ncols: int  # columns of the table it came from


@dataclass
class _Item:
    top: float
    text: str | None = None  # a text line
    row: _Row | None = None  # a table row
    table_id: int = -1
    margin: bool = False  # a text line in the top or bottom margin (running header/footer?)


MAX_INFLATED = 60 * 1024 * 1024  # all Flate streams together, inflated; real reports stay far below
MAX_STREAM_RATIO = 400  # one stream inflating more than this (and past 4 MB) is a compression bomb
_PROBE = 64 * 1024  # inflated bytes of each stream looked at first: its ratio tells a bomb from a font
_FLATE_STREAM = re.compile(rb"/FlateDecode[^>]*>>\s*stream\r?\n", re.DOTALL)
_REF_END = re.compile(rb"R\s*endobj")
_BARE_REF_OBJ = re.compile(rb"(?<![\d])(\d{1,7})\s+(\d{1,5})\s+obj\s*(\d{1,7})\s+(\d{1,5})\s+R\s*endobj")


def _refuse_traps(data: bytes) -> None:
    """Inputs that keep pdfminer busy for minutes or for ever, refused up front (found by
    fuzzing): compression bombs, and an object that is nothing but a reference to itself."""
    for r in _REF_END.finditer(data):  # rare: an object that is a bare reference; then the whole pattern
        m = _BARE_REF_OBJ.search(data, max(0, r.start() - 64), r.end())
        if m and m.group(1, 2) == m.group(3, 4):
            raise PdfError(f"malformed PDF: object {int(m.group(1))} refers to itself")
    streams = [(m.end(), data.find(b"endstream", m.end())) for m in _FLATE_STREAM.finditer(data)]
    if not _surely_no_bomb(data, streams):
        _refuse_bombs(data, streams)


def _refuse_bombs(data: bytes, streams: list[tuple[int, int]]) -> None:
    """Each Flate stream (start, end) inflated to ``_PROBE`` bytes; a bomb or a sum past
    ``MAX_INFLATED`` refused."""
    inflated = 0
    for start, end in streams:
        raw = data[start: end if end > 0 else len(data)]
        d = zlib.decompressobj()
        try:
            size = len(d.decompress(raw, _PROBE))
            consumed = len(raw) - len(d.unconsumed_tail)
            if size == _PROBE and consumed * MAX_STREAM_RATIO < size:  # compresses like a bomb: the whole
                size += len(d.decompress(d.unconsumed_tail, max(1, MAX_INFLATED - inflated - size + 1)))
            elif size == _PROBE:  # an ordinary stream: its size estimated from the first chunk's ratio
                size = size * len(raw) // max(1, consumed)
        except zlib.error:
            continue  # not ours to judge: PDFium and pdfminer report broken streams themselves
        inflated += size
        if inflated > MAX_INFLATED or (size > 4 * 1024 * 1024 and size > MAX_STREAM_RATIO * max(1, len(raw))):
            raise PdfError(f"PDF stream inflates to more than {size // (1024 * 1024)} MB: refused (compression bomb?)")


_GLANCES = (2 * 1024, 8 * 1024)  # inflated bytes of each stream looked at by the quick bound below
_LOOKAHEAD = 16  # input bytes zlib may have taken ahead of the output it gave


def _surely_no_bomb(data: bytes, streams: list[tuple[int, int]]) -> bool:
    """True where the full check below surely refuses nothing, found by inflating only the
    first few KB (``_GLANCES``) of each stream: a stream that took ``c`` input bytes for
    them takes at least ``c - _LOOKAHEAD`` for the first ``_PROBE``, so it is no bomb (ratio
    past 400) and the check counts it at most ``_PROBE * len(raw) // (c - _LOOKAHEAD)``
    (or at its exact size, if shorter). The bounds adding up to ``MAX_INFLATED`` or less,
    no stream and no sum can be refused: the same answer at a fraction of the inflating. A
    stream whose first 2 KB took too few bytes to tell is looked at again to 8 KB."""
    bound = 0
    floor = -(-_PROBE // MAX_STREAM_RATIO) + _LOOKAHEAD  # fewer input bytes than this: maybe a bomb
    for start, end in streams:
        raw = data[start: end if end > 0 else len(data)]
        for glance in _GLANCES:
            d = zlib.decompressobj()
            try:
                size = len(d.decompress(raw, glance))
            except zlib.error:
                size = None  # the full check stops at the same error: the stream counts nothing there
                break
            if size < glance:  # the whole stream, inflated: the full check counts its exact size
                break
            consumed = len(raw) - len(d.unconsumed_tail)
            if consumed >= floor:
                break
        else:
            return False
        if size is None:
            continue
        if size < glance:
            bound += size
            continue
        bound += max(_PROBE - 1, _PROBE * len(raw) // (consumed - _LOOKAHEAD))
        if bound > MAX_INFLATED:
            return False
    return True


def pdf_to_text(data: bytes, *, max_pages: int = MAX_PAGES) -> str:
    """Text of a PDF report with its table rows as pipe-separated lines."""
    if not isinstance(data, bytes | bytearray):
        raise TypeError("pdf_to_text takes bytes")
    if len(data) > MAX_BYTES:
        raise PdfError(f"PDF too large: {len(data)} bytes (limit {MAX_BYTES})")
    if b"%PDF-" not in data[:1024]:
        raise PdfError("not a PDF: no %PDF- header")
    _refuse_traps(data)
    pages = _read_pages(data, max_pages)
    _drop_running_lines(pages)
    text = _assemble(pages)
    cid = sum(len(m) for m in _CID.findall(text))
    if cid and cid > 0.3 * len(re.sub(r"\s+", "", text)):
        raise PdfError("the text layer cannot be decoded: its fonts have no Unicode map ((cid:N) codes)")
    return text


def _without_footnote_refs(chars: list[tuple]) -> list[tuple]:
    """Drop superscript footnote references set after a number ("228" + a raised small "1"):
    read with the number's characters they would be its last digit (2281). A digit is
    tested against the last full-size digit before it, so only a digit right after a digit
    (kept, or dropped itself: then against that one's anchor) is tested."""
    digit = list(map(str.isdigit, map(_TEXT_OF, chars)))
    anchor_of: dict[int, int] = {}  # a dropped digit -> the digit it was tested against
    for i in [i for i in range(1, len(chars)) if digit[i] and digit[i - 1]]:
        a = anchor_of.get(i - 1, i - 1)
        ch, anchor = chars[i], chars[a]
        size, big = ch[SIZE] or 0, anchor[SIZE] or 0
        if (0 < size <= 0.72 * big and ch[BOTTOM] < anchor[BOTTOM] - 0.2 * big
                and -0.5 * big < ch[X0] - anchor[X1] < 0.6 * big):
            anchor_of[i] = a
    if not anchor_of:
        return chars
    return [ch for i, ch in enumerate(chars) if i not in anchor_of]


def _read_pages(data: bytes, max_pages: int) -> list[list[_Item]]:
    """Every page's items: PDFium's objects through pdfplumber's table finder; pdfminer's for
    a page whose text PDFium's text page does not give as drawn."""
    try:
        pdf = pdfium.PdfDocument(bytes(data))
    except pdfium.PdfiumError as e:
        if getattr(e, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise PdfError("PDF is encrypted and cannot be opened without a password") from e
        raise PdfError(f"malformed PDF: {e}") from e
    try:
        n = len(pdf)
        if n > max_pages:
            raise PdfError(f"PDF has {n} pages, more than the limit of {max_pages}")
        pages = []
        plumber = None  # pdfminer's reading, opened for the pages PDFium cannot serve
        for i in range(n):
            try:
                objects = read_page(pdf, i)
            except Exception as e:  # noqa: BLE001 - a damaged page fails in many ways
                raise PdfError(f"malformed PDF: page {i + 1}: {type(e).__name__}: {e}") from e
            if objects.needs_pdfminer:
                if plumber is None:
                    plumber = _open_pdfminer(data)
                pages.append(_pdfminer_items(plumber, i))
                continue
            rows = _without_footnote_refs(objects.rows)
            if rows is not objects.rows:  # some dropped: the boxes no longer line up
                objects.rows, objects.boxes = rows, None
            pages.append(_page_items(PdfiumPage(objects, i + 1)))
        if plumber is not None:
            plumber.close()
        return pages
    finally:
        pdf.close()


def _open_pdfminer(data: bytes):
    import pdfplumber  # only for the rare page PDFium cannot serve: not on the hot path

    try:
        return pdfplumber.open(io.BytesIO(data))
    except Exception as e:  # noqa: BLE001 - pdfminer fails on broken files in many ways
        raise PdfError(f"malformed PDF: {type(e).__name__}: {e}") from e


def _pdfminer_items(plumber, index: int) -> list[_Item]:
    try:
        items = _page_items(plumber.pages[index])
    except Exception as e:  # noqa: BLE001 - pdfminer fails on broken files in many ways
        raise PdfError(f"malformed PDF: page {index + 1}: {type(e).__name__}: {e}") from e
    return items


# --------------------------------------------------------------------------- one page


def _clean(cell: str | None) -> str | None:
    if cell is None:
        return None
    if cell.isascii() and cell.isdigit():  # a plain number (most cells): nothing below changes it
        return cell
    text = unicodedata.normalize("NFC", cell).replace("\n", "")
    text = _CJK_GAP.sub("", text).strip()
    if _NUM.fullmatch(text.replace(" ", "")):
        text = text.replace(" ", "")
    return text


def _is_value(cell: str | None) -> bool:
    return cell is not None and bool(_NUM.fullmatch(cell))


def _page_items(page) -> list[_Item]:
    items: list[_Item] = []
    found = find_tables(page)
    # the characters as tuples (pdfobjects.Row): PDFium's as read, pdfminer's made of its dicts
    chars = page.rows if isinstance(page, PdfiumPage) else rows_of(page.chars)
    boxes = page.char_boxes if isinstance(page, PdfiumPage) else None
    mids = _Middles(chars, boxes) if found else None
    tables = []  # (table, its rows: pdfplumber computes them anew at each ``table.rows``, its cells' text)
    for table in found:
        table_rows = table.rows
        cells = _extract(table_rows, mids)
        if _is_grid(cells):
            tables.append((table, table_rows, cells))
    rest = _outside_all(chars, boxes, [t[0].bbox for t in tables], page.bbox)
    for ti, (_, table_rows, cells) in enumerate(tables):
        rows = [[_clean(c) for c in r] for r in cells]
        value_cols = [next((i for i, c in enumerate(r) if _is_value(c)), None) for r in rows]
        known = [v for v in value_cols if v is not None]
        first_value = min(known) if known else None
        for r, row_cells, row_obj in zip(range(len(rows)), rows, table_rows, strict=True):
            top = min(c[1] for c in row_obj.cells if c is not None) if any(row_obj.cells) else row_obj.bbox[1]
            label_cols = first_value if first_value is not None else 0
            label = "".join(c for c in row_cells[:label_cols] if c)
            values = [c for c in row_cells[label_cols:] if c is not None]  # None: covered by a span
            if first_value is None or (value_cols[r] is None and not label):
                # header / caption row: its non-empty cells
                cells = [c for c in row_cells if c]
                if cells:
                    items.append(_Item(top, row=_Row("", cells, len(row_cells)), table_id=ti))
                continue
            items.append(_Item(top, row=_Row(label, values, len(row_cells)), table_id=ti))
    items.extend(
        _Item(line["top"], text=line["text"], margin=line["top"] < 0.08 * page.height or line["top"] > 0.9 * page.height)
        for line in _text_lines(rest, page.height)
    )
    items.sort(key=lambda it: it.top)
    return items


def _outside_all(chars: list[tuple], boxes, bboxes: list[tuple], page_bbox: tuple) -> list[tuple]:
    """The characters outside every box of ``bboxes`` (_outside of each in turn); with the
    characters' boxes in an array (``boxes``, rows of x0, top, x1, bottom) pdfplumber's
    overlap test is done for all of them at once, in its own operations."""
    if boxes is None or not bboxes or not (np.isfinite(boxes).all() and np.isfinite(bboxes).all()):
        for bbox in bboxes:
            chars = _outside(chars, bbox, page_bbox)
        return chars
    for bbox in bboxes:
        test_proposed_bbox(bbox, page_bbox)  # pdfplumber's check that the box lies on the page
    x0, top, x1, bottom = boxes.T
    overlaps = np.zeros(len(chars), dtype=bool)
    for bx0, btop, bx1, bbottom in bboxes:  # get_bbox_overlap(char, bbox) is not None
        width = np.minimum(x1, bx1) - np.maximum(x0, bx0)
        height = np.minimum(bottom, bbottom) - np.maximum(top, btop)
        overlaps |= (height >= 0) & (width >= 0) & (height + width > 0)
    return [c for c, inside in zip(chars, overlaps.tolist(), strict=True) if not inside]


def _outside(chars: list[tuple], bbox: tuple, page_bbox: tuple) -> list[tuple]:
    """pdfplumber's ``page.outside_bbox(bbox).chars``: the characters whose box does not
    overlap ``bbox`` (touching along an edge is no overlap)."""
    test_proposed_bbox(bbox, page_bbox)  # pdfplumber's check that the box lies on the page
    x0, top, x1, bottom = bbox
    out = []
    for c in chars:
        cx0, ctop, cx1, cbottom = c[X0], c[TOP], c[X1], c[BOTTOM]
        # clear of it (the common case, two comparisons) or else pdfplumber's own test
        if cx1 < x0 or cx0 > x1 or cbottom < top or ctop > bottom or get_bbox_overlap(
                (cx0, ctop, cx1, cbottom), bbox) is None:
            out.append(c)
    return out


class _Middles:
    """The middles of a page's characters, found by height: pdfplumber tests each character's
    middle against each table, row and cell; here the characters whose middle lies in a
    band of height are found by bisection, then tested across, in page order."""

    def __init__(self, chars: list[tuple], boxes=None) -> None:
        self.chars = chars
        if boxes is not None:  # the characters' boxes in an array: the same sums, at once
            column = (boxes[:, 1] + boxes[:, 3]) / 2
            xs, ys = ((boxes[:, 0] + boxes[:, 2]) / 2).tolist(), column.tolist()
            if not np.isnan(column).any():  # sorted by height at once (a stable sort, as below)
                order = np.argsort(column, kind="stable")
                self.xs, self.by_y, self.ys, self.all_ys = xs, order.tolist(), column[order].tolist(), ys
                return
        else:
            xs = [(c[X0] + c[X1]) / 2 for c in chars]
            ys = [(c[TOP] + c[BOTTOM]) / 2 for c in chars]
        self.xs = xs
        self.by_y = sorted((k for k, y in enumerate(ys) if y == y), key=ys.__getitem__)  # no NaN: in no band
        self.ys = [ys[k] for k in self.by_y]
        self.all_ys = ys

    def band(self, top: float, bottom: float) -> list[int]:
        """The characters whose middle lies at top <= y < bottom, in page order."""
        ys = self.ys
        return sorted(self.by_y[bisect_left(ys, top):bisect_left(ys, bottom)])

    def within(self, bbox: tuple) -> list[tuple[float, float, tuple]]:
        """The characters whose middle lies in ``bbox`` (x0 <= x < x1, top <= y < bottom), as
        (middle x, middle y, character)."""
        x0, top, x1, bottom = bbox
        xs, all_ys, chars = self.xs, self.all_ys, self.chars
        return [(xs[k], all_ys[k], chars[k]) for k in self.band(top, bottom) if x0 <= xs[k] < x1]


def _extract(rows: list, mids: _Middles) -> list[list[str | None]]:
    """pdfplumber's ``Table.extract()`` of a table with these ``rows`` (same characters per
    cell, in the same order, the same text), with each character's middle computed once, each
    row's characters found by height (_Middles) and only the row's tested against its cells."""
    out = []
    xs, ys, page_chars = mids.xs, mids.all_ys, mids.chars
    for row in rows:
        present = [c for c in row.cells if c is not None]
        starts = [c[0] for c in present]
        if all(c[0] <= c[2] for c in present) and all(
                a[2] <= b[0] for a, b in zip(present, present[1:], strict=False)):
            # cells side by side (x0 <= x < x1 of at most one): each character of the row
            # (its middle in the row's box) to its cell by bisection, in the row's order
            x0, top, x1, bottom = row.bbox
            found: list[list] = [[] for _ in present]
            for k in mids.band(top, bottom):
                x = xs[k]
                if x0 <= x < x1:
                    j = bisect_right(starts, x) - 1
                    if j >= 0:
                        cx0, ctop, cx1, cbottom = present[j]
                        if x < cx1 and ctop <= ys[k] < cbottom:
                            found[j].append(page_chars[k])
            texts = iter([cell_text(chars) for chars in found])
            out.append([None if cell is None else next(texts) for cell in row.cells])
            continue
        row_chars = mids.within(row.bbox)
        cells: list[str | None] = []
        for cell in row.cells:
            if cell is None:
                cells.append(None)
                continue
            cx0, ctop, cx1, cbottom = cell
            chars = [m[2] for m in row_chars if cx0 <= m[0] < cx1 and ctop <= m[1] < cbottom]
            cells.append(cell_text(chars))
        out.append(cells)
    return out


def _is_grid(cells: list[list[str | None]]) -> bool:
    """A real table: some row has two or more cells with text (not a boxed paragraph)."""
    return any(sum(1 for c in row if c and c.strip()) >= 2 for row in cells)


def _text_lines(chars: list[tuple], height: float) -> list[dict]:
    """Lines of words outside tables, with numbers at the end turned into pipe cells."""
    out = []
    raw = text_lines(chars)
    lines = [ln for ln in raw if not _is_marker(ln, height)]
    # vertical header text: two or more consecutive one-character lines are dropped
    single = [len(ln["text"].strip()) == 1 and re.fullmatch(f"[{_CJK}]", ln["text"].strip()) for ln in lines]
    keep = [
        not (single[i] and ((i > 0 and single[i - 1]) or (i + 1 < len(lines) and single[i + 1])))
        for i in range(len(lines))
    ]
    lines = [ln for ln, k in zip(lines, keep, strict=True) if k]
    for ln in lines:
        out.append({"top": ln["top"], "text": ln["text"], "x0": ln["x0"], "bottom": ln["bottom"]})
    return _words_rows(out)


def _is_marker(line: dict, height: float) -> bool:
    text = line["text"]
    if _PAGE_MARK.match(text):
        return True
    # a bare page number only in the top or bottom margin
    return bool(_BARE_NUM.match(text)) and (line["top"] > 0.9 * height or line["bottom"] < 0.06 * height)


def _split_numbers(text: str) -> tuple[str, list[str]]:
    tokens = text.split()
    k = len(tokens)
    while k > 0 and _NUM.fullmatch(tokens[k - 1]):
        k -= 1
    return " ".join(tokens[:k]), tokens[k:]


def _words_rows(lines: list[dict]) -> list[dict]:
    """Turn "label n1 n2 ..." lines into pipe rows; join labels wrapped around a value line."""
    parsed = []
    for ln in lines:
        label, nums = _split_numbers(ln["text"])
        parsed.append({**ln, "label": label, "nums": nums})
    out: list[dict] = []
    i = 0
    while i < len(parsed):
        cur = parsed[i]
        if len(cur["nums"]) >= 2 and not cur["label"]:
            # a value line without label: a label wrapped around it sits just above/below
            prev = out[-1] if out and not out[-1].get("nums") and _close(out[-1], cur) else None
            nxt = parsed[i + 1] if i + 1 < len(parsed) else None
            label = ""
            if prev is not None:
                out.pop()
                label = prev["label"]
            if nxt is not None and not nxt["nums"] and _close(cur, nxt) and prev is not None and not (
                _LABEL_START.match(nxt["label"])
            ):
                label += nxt["label"]
                i += 1
            out.append({**cur, "label": label})
        else:
            out.append(cur)
        i += 1
    rows = []
    for ln in out:
        if ln["nums"] and (ln["label"] or len(ln["nums"]) >= 2) and _numeric_row(ln):
            label = _CJK_GAP.sub("", ln["label"])
            rows.append({"top": ln["top"], "text": " | ".join([label] * bool(label) + ln["nums"]) + " |"})
        else:
            rows.append({"top": ln["top"], "text": ln["text"]})
    return rows


def _numeric_row(ln: dict) -> bool:
    """A table row, not a sentence that happens to end in numbers ("共计 95")."""
    label = ln["label"]
    if not label:
        return len(ln["nums"]) >= 2
    return len(label) <= 60 and "。" not in label and _has_key(label)


def _close(a: dict, b: dict) -> bool:
    height = max(a["bottom"] - a["top"], 1.0)
    return 0 <= b["top"] - a["bottom"] < 1.2 * height


# --------------------------------------------------------------------------- across pages


def _drop_running_lines(pages: list[list[_Item]]) -> None:
    """Remove running headers/footers: margin lines that recur on several pages.

    The first occurrence stays (it may be the report's title); section headings are left
    to the repeated-heading rule.
    """
    def key(it: _Item) -> str:
        return re.sub(r"\d+", "#", re.sub(r"\s+", "", it.text or ""))

    def candidate(it: _Item) -> bool:
        return it.margin and bool(it.text) and not _HEADING.match(_norm(it.text or ""))

    keys = [{id(it): key(it) for it in items if it.margin and candidate(it)} for items in pages]
    seen = Counter(k for page_keys in keys for k in set(page_keys.values()))
    running = {k for k, n in seen.items() if n >= 2}
    if not running:
        return
    emitted: set[str] = set()
    for items, page_keys in zip(pages, keys, strict=True):
        kept = []
        for it in items:
            k = page_keys.get(id(it))
            if k is not None and k in running:
                if k in emitted:
                    continue
                emitted.add(k)
            kept.append(it)
        items[:] = kept


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _row_line(row: _Row) -> str:
    cells = ([row.label] if row.label else []) + row.values
    return " | ".join(cells) + " |"


def _has_key(text: str) -> bool:
    """The text holds a row label of its own (a key of formatspec's rows or items)."""
    norm = _norm(text)
    if any(re.search(p, norm) for r in fs.APP_ROWS for p in r.match):
        return True
    return any(m in norm for items in fs.AD_ITEMS.values() for it in items for m in it.match)


def _is_fragment(text: str) -> bool:
    """Text that continues a label cut by a page break, not a label of its own."""
    return bool(text) and not _LABEL_START.match(text) and not _has_key(text)


def _assemble(pages: list[list[_Item]]) -> str:
    lines: list[str] = []
    headings_seen: set[str] = set()
    last_table: tuple[int, int] | None = None  # (page, table id) of the last emitted row
    header_texts: dict[tuple[int, int], list[str]] = {}
    origin: dict[tuple[int, int], tuple[int, int]] = {}  # continuation table -> its first part
    # Continuation parts that printed a row other than a repeated header: a header row
    # after such a row is the table's own (the next sub-table's header), not a repeat.
    past_repeats: set[tuple[int, int]] = set()
    last_row: _Row | None = None
    for pi, items in enumerate(pages):
        at_top = True  # nothing but markers and repeated headings seen yet on this page
        for it in items:
            if it.text is not None:
                text = it.text.strip()
                if not text:
                    continue
                m = _HEADING.match(_norm(text))
                if m:
                    if m.group(1) in headings_seen and at_top and pi > 0:
                        continue  # the section heading repeated after a page break
                    headings_seen.add(m.group(1))
                lines.append(text)
                last_table, last_row, at_top = None, None, False
                continue
            row = it.row
            assert row is not None
            key = (pi, it.table_id)
            if key not in origin:
                cont = at_top and last_table is not None and last_table[0] == pi - 1 and (
                    last_row is not None and last_row.ncols == row.ncols
                )
                origin[key] = origin[last_table] if cont and last_table else key
            base = origin[key]
            continued = base != key
            first_here = continued and last_table != key  # first row of a continuation
            at_top = False
            if not row.label and not any(_is_value(v) for v in row.values):
                text = " | ".join(row.values) + " |"
                if continued and key not in past_repeats and text in header_texts.get(base, []):
                    continue  # header row repeated on the continuation page
                past_repeats.add(key)
                if not continued:
                    header_texts.setdefault(base, []).append(text)
                lines.append(text)
                last_row, last_table = row, key
                continue
            past_repeats.add(key)
            has_values = any(row.values)
            if first_here and last_row is not None:
                if not has_values and any(last_row.values) and last_row.label and _is_fragment(row.label):
                    last_row = _Row(last_row.label + row.label, last_row.values, last_row.ncols)
                    lines[-1] = _row_line(last_row)  # the rest of a label cut by the page break
                    last_table = key
                    continue
                head = _label_only(last_row)
                if has_values and head and not head.startswith("第二十条") and _is_fragment(row.label):
                    row = _Row(head + row.label, row.values, row.ncols)  # label began on the last page
                    lines.pop()
            lines.append(_row_line(row))
            last_row, last_table = row, key
    return "\n".join(lines) + ("\n" if lines else "")


def _label_only(row: _Row) -> str | None:
    """The text of a row that holds a label and no value, else None."""
    if row.label and not any(row.values):
        return row.label
    if not row.label and len(row.values) == 1 and not _is_value(row.values[0]):
        return row.values[0]
    return None
