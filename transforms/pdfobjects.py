"""A PDF page's characters, ruling lines and rectangles read by PDFium, as pdfplumber's objects.

PDFium (pypdfium2) reads a page's content stream in C, ~10x faster than pdfminer's Python
interpreter. The objects are built the way pdfminer and pdfplumber build them, so that
pdfplumber's table finder and text-line grouping give the same answers as before:

* a character's box is pdfminer's: from its origin and advance (PDFium's loose box), the
  font's descent and size, through the character's matrix; ``upright`` and ``size`` as
  pdfminer computes them (a character is a tuple of the values the word and line grouping
  and the table reader read, ``char_dict`` gives pdfplumber's dict of it);
* a path is split into subpaths at each move, a subpath with one segment is a line, a closed
  axis-aligned four-sided one a rectangle, anything else a curve with its end points (as
  ``pdfminer.converter.PDFLayoutAnalyzer.paint_path`` classifies them);
* a page's /Rotate and a MediaBox off the origin are applied as pdfminer's
  ``process_page`` does, then turned into pdfplumber's top-down coordinates.

Characters PDFium inserts itself (spaces and line breaks between text runs) are left out:
pdfminer does not see them. A character without a Unicode mapping reads "(cid:N)", as
pdfminer has it.
"""

from __future__ import annotations

import ctypes
import os
import sys
from array import array
from collections import deque
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import filterfalse, repeat
from pathlib import Path

import cffi
import numpy as np
import pypdfium2.raw as pdfium_c
from pdfplumber.page import Page
from pypdfium2 import PdfiumError

_TEXT = pdfium_c.FPDF_PAGEOBJ_TEXT
_PATH = pdfium_c.FPDF_PAGEOBJ_PATH
_FORM = pdfium_c.FPDF_PAGEOBJ_FORM
_MOVETO = pdfium_c.FPDF_SEGMENT_MOVETO
_BEZIERTO = pdfium_c.FPDF_SEGMENT_BEZIERTO
_WHITESPACE_OR_CONTROL = 0x20  # PDFium's generated characters are spaces and line breaks
_HYPHEN_MARK = 0x2  # what PDFium's text page makes of a hyphen that ends a line


@dataclass
class PageObjects:
    width: float
    height: float
    rotation: int
    mediabox: tuple[float, float, float, float]  # pdfplumber's (top-down) box
    # the characters as tuples (``Row`` below); pdfplumber's dicts of them built when asked for
    rows: list[tuple] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)
    rects: list[dict] = field(default_factory=list)
    curves: list[dict] = field(default_factory=list)
    unmapped: int = 0  # characters without a Unicode mapping
    # PDFium's text page left out or rewrote text that pdfminer reads as it is (below): the
    # page is to be read by pdfminer
    needs_pdfminer: str | None = None
    # each character's (x0, top, x1, bottom), the values of its dict, in one array (None: not read)
    boxes: np.ndarray | None = None

    @property
    def chars(self) -> list[dict]:
        """pdfplumber's dicts of the characters."""
        return list(map(char_dict, self.rows))


# A character as a tuple, in this order: its text, x0, x1, top, bottom, width, size (its
# dict's height and size), upright, and the dict it was made of (pdfminer's) or None. The
# PDF reader's hot path reads these; pdfplumber's own code, where it is asked, the dicts.
TEXT, X0, X1, TOP, BOTTOM, WIDTH, SIZE, UPRIGHT, DICT = range(9)


def char_dict(row: tuple) -> dict:
    """pdfplumber's dict of a character (the keys its word and line grouping and the table
    reader read: text, x0, x1, top, bottom, doctop, width, height, size, upright)."""
    if row[DICT] is not None:
        return row[DICT]
    text, x0, x1, top, bottom, width, size, upright, _ = row
    return {"text": text, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top, "width": width,
            "height": size, "size": size, "upright": upright}


def rows_of(chars: list[dict]) -> list[tuple]:
    """Characters' dicts (pdfminer's or pdfplumber's) as tuples that keep their dict."""
    return [(c["text"], c["x0"], c["x1"], c["top"], c["bottom"], c.get("width"), c.get("size"), c["upright"], c)
            for c in chars]


def _mul(m1: tuple, m2: tuple) -> tuple:
    """pdfminer's mult_matrix: m1 then m2."""
    a1, b1, c1, d1, e1, f1 = m1
    a0, b0, c0, d0, e0, f0 = m2
    return (a0 * a1 + c0 * b1, b0 * a1 + d0 * b1, a0 * c1 + c0 * d1, b0 * c1 + d0 * d1,
            a0 * e1 + c0 * f1 + e0, b0 * e1 + d0 * f1 + f0)


def _r(v: float) -> float:
    """PDFium keeps coordinates as 32-bit floats; the content stream's decimals, back."""
    return round(v, 4)


def _rotation_ctm(rotate: int, box: tuple[float, float, float, float]) -> tuple:
    x0, y0, x1, y1 = box
    if rotate == 90:
        return (0, -1, 1, 0, -y0, x1)
    if rotate == 180:
        return (-1, 0, 0, -1, x1, y1)
    if rotate == 270:
        return (0, 1, -1, 0, y1, -x0)
    return (1, 0, 0, 1, -x0, -y0)


def read_page(pdf, index: int) -> PageObjects:
    """The characters and paths of page ``index`` of a ``pypdfium2.PdfDocument`` (the page and
    its text page opened and closed through PDFium's own calls: pypdfium2's page objects cost
    more than their use here)."""
    page = _LOAD_PAGE(ctypes.cast(pdf.raw, ctypes.c_void_p).value, index)
    if not page:
        raise PdfiumError("Failed to load page.")
    try:
        rotate = _PAGE_ROTATION(page) * 90
        media = _media_box(page)
        if media is None:  # PDFium's default, as pdfminer's: US Letter
            media = (0.0, 0.0, 612.0, 792.0)
        ctm = _rotation_ctm(rotate, media)
        # pdfplumber's mediabox: the raw box normalised for the rotation, inverted top-down
        x0, y0, x1, y1 = media
        if rotate in (90, 270):
            x0, y0, x1, y1 = y0, x0, y1, x1
        height = y1 - y0
        mediabox = (x0, height - y1, x1, height - y0)
        out = PageObjects(width=x1 - x0, height=height, rotation=rotate, mediabox=mediabox)
        mb_x0, mb_top = mediabox[0], mediabox[1]

        a, b, c, d, e, f = ctm

        def to_top_down(x: float, y: float) -> tuple[float, float]:
            px, py = a * x + c * y + e, b * x + d * y + f
            return px + mb_x0, height - py + mb_top

        textpage = _LOAD_TEXT_PAGE(page)
        if not textpage:
            raise PdfiumError("Failed to load text page.")
        try:
            seen = _read_chars(textpage, ctm, height, mb_x0, mb_top, out)
        finally:
            _CLOSE_TEXT_PAGE(textpage)
        text_objects = _read_paths(page, to_top_down, out, seen)
        if out.needs_pdfminer is None and text_objects > len(seen):
            # a text object without characters: PDFium drops an object whose glyphs have no
            # box (a CJK font neither embedded nor installed), or one repeated at nearly the
            # same place (fake bold), where pdfminer keeps every character
            out.needs_pdfminer = f"{text_objects - len(seen)} text objects without characters"
        return out
    finally:
        _CLOSE_PAGE(page)


def _media_box(page: int) -> tuple[float, float, float, float] | None:
    vals = (ctypes.c_float * 4)()
    at = ctypes.addressof(vals)
    if not _PAGE_MEDIA_BOX(page, at, at + 4, at + 8, at + 12):
        return None
    left, bottom, right, top = (_r(v) for v in vals)
    return (min(left, right), min(bottom, top), max(left, right), max(bottom, top))


def _read_chars(tp: int, ctm: tuple, height: float, mb_x0: float, mb_top: float, out: PageObjects) -> set[int]:
    """Append the page's characters to ``out.rows``; returns the text objects they come from.

    PDFium writes each character's origin and loose box straight into arrays (one call per
    character and value, no Python work between calls); the boxes are then computed for the
    whole page at once with numpy, in the same floating-point operations as pdfminer's
    per-character code, so every coordinate is the same to the last bit.
    """
    n = _COUNT_CHARS(tp)
    if n <= 0:
        return set()
    codes = _codes(tp, n)
    keep, codes, handles, xy, box, unmapped = (_chars_in_c if _CALLS is not None else _chars_in_python)(tp, codes)
    k = len(keep)
    if not k:
        return set()
    if _HYPHEN_MARK in codes:  # a line-end hyphen PDFium rewrote (and maybe spaces before it dropped)
        out.needs_pdfminer = "line-end hyphen"
    lo, hi, a, b, c, d = _text_facts(tp, keep, handles)
    with np.errstate(all="ignore"):  # a damaged page's inf and nan go through as pdfminer's would
        e, f = _round4(xy[0::2]), _round4(xy[1::2])
        along_x = (b == 0) & (c == 0) & (a != 0)
        adv = (_round4(box[:, 2]) - _round4(box[:, 0])) / np.where(along_x, a, 1.0)
        if ctm[:4] != (1, 0, 0, 1):
            ma, mb, mc, md, me, mf = _mul((a, b, c, d, e, f), ctm)
        else:
            ma, mb, mc, md, me, mf = a, b, c, d, e + ctm[4], f + ctm[5]
        # upright or mirrored, the common case: two corners suffice
        xa, xb = me, ma * adv + me
        ya, yb = md * lo + mf, md * hi + mf
        x0, x1 = np.where(xa <= xb, xa, xb), np.where(xa <= xb, xb, xa)
        y0, y1 = np.where(ya <= yb, ya, yb), np.where(ya <= yb, yb, ya)
    # characters off the two-corner case (rotated text, or a rotated page), one by one
    turned = [(j, _turned_box([v[j].item() for v in (lo, hi, a, b, c, d)], e[j].item(), f[j].item(), box[j].tolist(),
                              ctm)) for j in np.flatnonzero(~along_x | (mb != 0) | (mc != 0)).tolist()]
    if turned:
        ma, mb, mc, md, me, mf, x0, x1, y0, y1 = (v.copy() for v in (ma, mb, mc, md, me, mf, x0, x1, y0, y1))
        for j, row in turned:
            for column, v in zip((ma, mb, mc, md, me, mf, x0, x1, y0, y1), row, strict=True):
                column[j] = v
    # pdfplumber's top-down coordinates, each value the same operation as in pdfplumber's own code
    top = height - y1 + mb_top
    size = y1 - y0
    with np.errstate(all="ignore"):
        upright = ((ma * md > 0) & (mb * mc <= 0)).tolist()
    texts = _texts(codes)
    if 1 in unmapped:  # pdfminer's text for a code without a Unicode mapping
        for j in (j for j, error in enumerate(unmapped) if error == 1):
            texts[j] = f"(cid:{codes[j]})"
            out.unmapped += 1
    if None in texts:  # a code past Unicode that has a mapping: chr's error, as before
        chr(codes[texts.index(None)])
    # the keys pdfplumber's word and line grouping and the table reader read
    columns = (x0 + mb_x0, top, x1 + mb_x0, height - y0 + mb_top)
    boxes = np.column_stack(columns)
    x0s, tops, x1s, bottoms = (v.tolist() for v in columns)
    out.rows.extend(zip(texts, x0s, x1s, tops, bottoms, (x1 - x0).tolist(), size.tolist(), upright, repeat(None)))
    out.boxes = boxes if out.boxes is None else np.concatenate((out.boxes, boxes))
    objects = set(handles if isinstance(handles, list) else handles.tolist())
    objects.discard(0)
    return objects


def _chars_in_python(tp: int, codes: list[int]) -> tuple:
    """The characters kept (PDFium's own spaces and line breaks between text runs are left
    out: pdfminer has none), their codes, text objects, origins (x, y, ...), loose boxes
    (k x 4: left, top, right, bottom) and Unicode-map errors: one PDFium call per character
    and value, written straight into arrays (no Python work between calls)."""
    keep = [i for i, u in enumerate(codes) if u > _WHITESPACE_OR_CONTROL or not _IS_GENERATED(tp, i)]
    k = len(keep)
    if not k:
        return keep, [], [], None, None, []
    codes = [codes[i] for i in keep]
    handles = list(map(_GET_TEXT_OBJECT, repeat(tp, k), keep))
    origins = (ctypes.c_double * (2 * k))()
    at = ctypes.addressof(origins)
    deque(map(_GET_CHAR_ORIGIN, repeat(tp, k), keep, range(at, at + 16 * k, 16), range(at + 8, at + 16 * k, 16)), 0)
    boxes = (ctypes.c_float * (4 * k))()  # FS_RECTF: left, top, right, bottom
    at = ctypes.addressof(boxes)
    deque(map(_GET_LOOSE_CHAR_BOX, repeat(tp, k), keep, range(at, at + 16 * k, 16)), 0)
    unmapped = list(map(_HAS_UNICODE_MAP_ERROR, repeat(tp, k), keep))
    xy = np.frombuffer(origins, dtype=np.float64)
    box = np.frombuffer(boxes, dtype=np.float32).astype(np.float64).reshape(k, 4)
    return keep, codes, handles, xy, box, unmapped


def _chars_in_c(tp: int, codes: list[int]) -> tuple:
    """``_chars_in_python``'s values, the same PDFium calls made by the compiled helper in one
    call per page (``keep`` and ``handles`` as arrays)."""
    n = len(codes)
    codes_in = array("I", codes)
    keep, handles = np.empty(n, dtype=np.int32), np.empty(n, dtype=np.intp)
    # zeros, as ctypes' arrays in the Python path: what PDFium does not write reads 0 in both
    origins, boxes = np.zeros(2 * n, dtype=np.float64), np.zeros(4 * n, dtype=np.float32)
    unmapped = np.empty(n, dtype=np.int32)
    buf = _CALLS_FFI.from_buffer
    k = _CALLS.pdfcalls_chars(_IS_GENERATED_AT, _GET_TEXT_OBJECT_AT, _GET_CHAR_ORIGIN_AT, _GET_LOOSE_CHAR_BOX_AT,
                              _HAS_UNICODE_MAP_ERROR_AT, tp, n, buf("uint32_t[]", codes_in), buf("int32_t[]", keep),
                              buf("intptr_t[]", handles), buf("double[]", origins), buf("float[]", boxes),
                              buf("int32_t[]", unmapped))
    keep = keep[:k]
    return (keep, [codes[i] for i in keep.tolist()], handles[:k], origins[: 2 * k],
            boxes[: 4 * k].astype(np.float64).reshape(k, 4), unmapped[:k].tolist())


_UTF32 = "utf-32-le" if sys.byteorder == "little" else "utf-32-be"


def _texts(codes: list[int]) -> list[str | None]:
    """Each code's character (``_odd_text`` of a code that is none): the codes decoded at once
    where all are characters (UTF-32 refuses surrogates and codes past Unicode; 0 is looked
    for first), else one by one."""
    if 0 not in codes:
        try:
            return list(array("I", codes).tobytes().decode(_UTF32))
        except (UnicodeDecodeError, OverflowError):
            pass
    return [chr(u) if 0 < u < 0xD800 or 0xDFFF < u < 0x110000 else _odd_text(u) for u in codes]


def _odd_text(u: int) -> str | None:
    """The text of a code that is no character: U+FFFD for 0 and surrogates; None past Unicode."""
    return "\ufffd" if u < 0x110000 else None


def _round4(v):
    """``round(x, 4)`` of each value, exactly: PDFium's coordinates are 32-bit floats, so
    ``x * 10000`` is exact in 64 bits, its nearest integer (ties to even) is the one Python's
    decimal rounding finds, and the division by 10000 is rounded as Python's string
    conversion rounds the decimal."""
    return np.rint(v * 10000.0) / 10000.0


def _text_facts(tp: int, keep: list[int], handles: list[int]) -> tuple:
    """Each character's bottom and top in text space (from its font's descent and its text
    object's font size, Tf) and its matrix's a, b, c, d rounded to the content stream's
    decimals. PDFium gives every character its text object's font size and matrix, so they
    are asked once per run of characters of one text object (of its first character), and
    per character where a character has no text object."""
    objects = np.array(handles, dtype=np.uint64)
    if objects.all():  # a run of characters of one text object: asked once
        run_starts = np.concatenate(([True], objects[1:] != objects[:-1]))
        first = np.flatnonzero(run_starts)
        of = np.cumsum(run_starts) - 1 if len(first) < len(keep) else None
        asked = _pick(keep, first) if of is not None else keep
        font_objects = _pick(handles, first)
        has_object = None
    else:  # a character without a text object: every character asked
        asked, of, font_objects = keep, None, handles
        has_object = objects != 0
    sizes, matrices, fonts = (_facts_in_c if _CALLS is not None else _facts_in_python)(tp, asked, font_objects)
    sizes = _round4(sizes)
    descent = {font: _descent(font) for font in set(fonts)}  # per unit of font size
    descents = np.array(list(map(descent.__getitem__, fonts)), dtype=np.float64)
    abcd = _round4(matrices.astype(np.float64)[:, :4])
    if of is not None:
        sizes, descents, abcd = sizes[of], descents[of], abcd[of]
    elif has_object is not None:
        sizes, descents = np.where(has_object, sizes, 0.0), np.where(has_object, descents, 0.0)
    lo = descents * sizes
    return (lo, lo + sizes, *abcd.T)


def _pick(values, at: np.ndarray):
    """``values[at]`` of a list (the Python path's) or an array (the compiled helper's)."""
    if isinstance(values, np.ndarray):
        return values[at]
    return [values[j] for j in at.tolist()]


def _facts_in_python(tp: int, asked: list[int], font_objects: list[int]) -> tuple:
    """The asked characters' font sizes and matrices (n x 6 float32) and the text objects' fonts."""
    n = len(asked)
    fonts = list(map(_TEXT_OBJECT_FONT, font_objects))
    sizes = np.array(list(map(_GET_FONT_SIZE, repeat(tp, n), asked)))
    matrices = (pdfium_c.FS_MATRIX * n)()
    at = ctypes.addressof(matrices)
    deque(map(_GET_MATRIX, repeat(tp, n), asked, range(at, at + 24 * n, 24)), 0)
    return sizes, np.frombuffer(matrices, dtype=np.float32).reshape(n, 6), fonts


def _facts_in_c(tp: int, asked: np.ndarray, font_objects: np.ndarray) -> tuple:
    """``_facts_in_python``'s values, the same PDFium calls made by the compiled helper."""
    n, m = len(asked), len(font_objects)
    asked, font_objects = np.asarray(asked, dtype=np.int32), np.asarray(font_objects, dtype=np.intp)
    sizes, matrices, fonts = np.empty(n), np.zeros((n, 6), dtype=np.float32), np.empty(m, dtype=np.intp)
    buf = _CALLS_FFI.from_buffer
    _CALLS.pdfcalls_text_facts(_GET_FONT_SIZE_AT, _GET_MATRIX_AT, _TEXT_OBJECT_FONT_AT, tp, n,
                               buf("int32_t[]", asked), buf("double[]", sizes), buf("float[]", matrices), m,
                               buf("intptr_t[]", font_objects), buf("intptr_t[]", fonts))
    return sizes, matrices, fonts.tolist()


def _turned_box(facts: list[float], e: float, f: float, loose: list[float], ctm: tuple) -> tuple:
    """pdfminer's matrix and box of a character whose baseline is not along x (rotated
    text, or any text on a rotated page): its four corners through the matrix."""
    lo, hi, a, b, c, d = facts
    left, top, right, bottom = loose
    if b == 0 and c == 0 and a != 0:
        adv = (round(right, 4) - round(left, 4)) / a
    else:  # the advance along the baseline
        adv = ((right - left) ** 2 + (top - bottom) ** 2) ** 0.5 / max((a * a + b * b) ** 0.5, 1e-9)
    if ctm[:4] != (1, 0, 0, 1):
        ma, mb, mc, md, me, mf = _mul((a, b, c, d, e, f), ctm)
    else:
        ma, mb, mc, md, me, mf = a, b, c, d, e + ctm[4], f + ctm[5]
    if mb == 0 and mc == 0:
        xa, xb = me, ma * adv + me
        ya, yb = md * lo + mf, md * hi + mf
        x0, x1 = (xa, xb) if xa <= xb else (xb, xa)
        y0, y1 = (ya, yb) if ya <= yb else (yb, ya)
    else:
        corners = ((0.0, lo), (0.0, hi), (adv, lo), (adv, hi))
        xs = [ma * px + mc * py + me for px, py in corners]
        ys = [mb * px + md * py + mf for px, py in corners]
        x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    return ma, mb, mc, md, me, mf, x0, x1, y0, y1


def _codes(tp: int, n: int) -> list[int]:
    """The Unicode value of each of the text page's ``n`` characters: the page's text in one
    call when it holds exactly one code point per character (PDFium leaves control characters
    out of it), else one call per character."""
    buf = (ctypes.c_ushort * (2 * n + 1))()
    written = _GET_TEXT(tp, 0, n, ctypes.addressof(buf))
    if written > 0:
        text = bytes(buf)[: 2 * (written - 1)].decode("utf-16-le", "surrogatepass")
        if len(text) == n:
            return list(map(ord, text))
    return list(map(_GET_UNICODE, repeat(tp, n), range(n)))


def _prototype(name: str, signature: str):
    """A PDFium function called through cffi with handles and addresses as plain ints (a
    pointer and an ``intptr_t`` are passed alike): a call costs about half of a ctypes call,
    and the characters of a page take several calls each."""
    return _FFI.cast(signature, ctypes.cast(getattr(pdfium_c, name), ctypes.c_void_p).value)


_FFI = cffi.FFI()
_LOAD_PAGE = _prototype("FPDF_LoadPage", "intptr_t(*)(intptr_t, int)")
_CLOSE_PAGE = _prototype("FPDF_ClosePage", "void(*)(intptr_t)")
_LOAD_TEXT_PAGE = _prototype("FPDFText_LoadPage", "intptr_t(*)(intptr_t)")
_CLOSE_TEXT_PAGE = _prototype("FPDFText_ClosePage", "void(*)(intptr_t)")
_PAGE_ROTATION = _prototype("FPDFPage_GetRotation", "int(*)(intptr_t)")
_PAGE_MEDIA_BOX = _prototype("FPDFPage_GetMediaBox", "int(*)(intptr_t, intptr_t, intptr_t, intptr_t, intptr_t)")
_COUNT_CHARS = _prototype("FPDFText_CountChars", "int(*)(intptr_t)")
_GET_TEXT_OBJECT = _prototype("FPDFText_GetTextObject", "intptr_t(*)(intptr_t, int)")
_GET_UNICODE = _prototype("FPDFText_GetUnicode", "unsigned int(*)(intptr_t, int)")
_GET_TEXT = _prototype("FPDFText_GetText", "int(*)(intptr_t, int, int, intptr_t)")
_IS_GENERATED = _prototype("FPDFText_IsGenerated", "int(*)(intptr_t, int)")
_HAS_UNICODE_MAP_ERROR = _prototype("FPDFText_HasUnicodeMapError", "int(*)(intptr_t, int)")
_GET_CHAR_ORIGIN = _prototype("FPDFText_GetCharOrigin", "int(*)(intptr_t, int, intptr_t, intptr_t)")
_GET_LOOSE_CHAR_BOX = _prototype("FPDFText_GetLooseCharBox", "int(*)(intptr_t, int, intptr_t)")
_GET_MATRIX = _prototype("FPDFText_GetMatrix", "int(*)(intptr_t, int, intptr_t)")
_GET_FONT_SIZE = _prototype("FPDFText_GetFontSize", "double(*)(intptr_t, int)")
_TEXT_OBJECT_FONT = _prototype("FPDFTextObj_GetFont", "intptr_t(*)(intptr_t)")
_FONT_DESCENT = _prototype("FPDFFont_GetDescent", "int(*)(intptr_t, float, intptr_t)")


def _descent(font: int) -> float:
    descent = ctypes.c_float()
    if not font or not _FONT_DESCENT(font, 1.0, ctypes.addressof(descent)):
        return 0.0
    return round(descent.value, 4)


def _read_paths(page: int, to_top_down, out: PageObjects, with_chars: set[int]) -> int:
    """Append the page's lines, rectangles and curves to ``out``; returns its number of text
    objects. ``with_chars``: the text objects the text page gave characters of (their type is
    known; only their marks are asked)."""
    text_objects = 0
    stack = [(page, _PAGE_COUNT_OBJECTS, _PAGE_GET_OBJECT, None)]
    m = pdfium_c.FS_MATRIX()  # the one matrix PDFium writes each path's and form's into
    p_m = ctypes.addressof(m)
    paths: list[tuple[int, tuple]] = []  # (path object, its matrix), in pdfminer's order
    while stack:
        parent, count, get, outer = stack.pop()
        n = count(parent)
        if _CALLS is not None:
            n_texts, texts, others = _objects_in_c(parent, get, n, m)
        else:
            objects = list(map(get, repeat(parent, n), range(n)))
            texts = list(filter(with_chars.__contains__, objects))
            others = list(filterfalse(with_chars.__contains__, objects))
            others = list(zip(others, map(_OBJECT_TYPE, others), repeat(None), strict=False))
            n_texts = len(texts)
        for obj, kind, matrix in others:
            if kind == _TEXT:
                texts.append(obj)
                n_texts += 1
                continue
            if kind not in (_PATH, _FORM):
                continue
            if matrix is None:
                _OBJECT_MATRIX(obj, p_m)
                matrix = (_r(m.a), _r(m.b), _r(m.c), _r(m.d), _r(m.e), _r(m.f))
            if outer is not None:
                matrix = _mul(matrix, outer)
            if kind == _FORM:
                stack.append((obj, _FORM_COUNT_OBJECTS, _FORM_GET_OBJECT, matrix))
            else:
                paths.append((obj, matrix))
        text_objects += n_texts
        if any(map(_COUNT_MARKS, texts)) and any(map(_has_actual_text, texts)):
            out.needs_pdfminer = "marked content with /ActualText"
    for path in _subpaths([obj for obj, _ in paths], [matrix for _, matrix in paths]):
        for sub in path:
            _add_path(sub, to_top_down, out)
    return text_objects


def _objects_in_c(parent: int, get, n: int, m) -> tuple[int, list[int], list[tuple[int, int, tuple | None]]]:
    """A page's or form's objects by the compiled helper: its number of text objects, those
    with content marks (the others hold no /ActualText), and every other object with its
    type and, for a path or form, its matrix (rounded as ``_r``; PDFium writes it into ``m``,
    the page's FS_MATRIX, as in the Python path), in order. Every object's type is asked (the
    Python path does not ask the text page's objects: they are text objects,
    FPDFText_GetTextObject's)."""
    n = max(n, 0)  # -1: an object PDFium cannot count in, as range(-1) in the Python path
    objects, kinds, marks = np.empty(n, dtype=np.intp), np.empty(n, dtype=np.int32), np.empty(n, dtype=np.int32)
    matrices = np.zeros((n, 6), dtype=np.float32)
    if n:
        buf = _CALLS_FFI.from_buffer
        _CALLS.pdfcalls_objects(_ADDRESS[get], get is _FORM_GET_OBJECT, _OBJECT_TYPE_AT, _COUNT_MARKS_AT,
                                _OBJECT_MATRIX_AT, _PATH, _FORM, parent, n, buf("intptr_t[]", objects),
                                buf("int32_t[]", kinds), buf("int32_t[]", marks), _CALLS_FFI.cast("float *", ctypes.addressof(m)),
                                buf("float[]", matrices))
    is_text = kinds == _TEXT
    others = ~is_text
    drawn = ((kinds == _PATH) | (kinds == _FORM))[others].tolist()
    rounded = map(tuple, _round4(matrices[others].astype(np.float64)).tolist())
    return int(is_text.sum()), objects[is_text & (marks != 0)].tolist(), list(zip(
        objects[others].tolist(), kinds[others].tolist(),
        (matrix if is_drawn else None for matrix, is_drawn in zip(rounded, drawn, strict=True)), strict=True))


def _has_actual_text(obj: int) -> bool:
    """PDFium's text page puts a marked-content /ActualText in place of the drawn characters."""
    for k in range(_COUNT_MARKS(obj)):
        mark = _GET_MARK(obj, k)
        if mark and _MARK_PARAM_TYPE(mark, b"ActualText") != pdfium_c.FPDF_OBJECT_UNKNOWN:
            return True
    return False


_PAGE_COUNT_OBJECTS = _prototype("FPDFPage_CountObjects", "int(*)(intptr_t)")
_PAGE_GET_OBJECT = _prototype("FPDFPage_GetObject", "intptr_t(*)(intptr_t, int)")
_FORM_COUNT_OBJECTS = _prototype("FPDFFormObj_CountObjects", "int(*)(intptr_t)")
_FORM_GET_OBJECT = _prototype("FPDFFormObj_GetObject", "intptr_t(*)(intptr_t, unsigned long)")
_OBJECT_TYPE = _prototype("FPDFPageObj_GetType", "int(*)(intptr_t)")
_OBJECT_MATRIX = _prototype("FPDFPageObj_GetMatrix", "int(*)(intptr_t, intptr_t)")
_COUNT_MARKS = _prototype("FPDFPageObj_CountMarks", "int(*)(intptr_t)")
_GET_MARK = _prototype("FPDFPageObj_GetMark", "intptr_t(*)(intptr_t, unsigned long)")
_MARK_PARAM_TYPE = _prototype("FPDFPageObjMark_GetParamValueType", "int(*)(intptr_t, char *)")
_COUNT_SEGMENTS = _prototype("FPDFPath_CountSegments", "int(*)(intptr_t)")
_GET_SEGMENT = _prototype("FPDFPath_GetPathSegment", "intptr_t(*)(intptr_t, int)")
_SEGMENT_POINT = _prototype("FPDFPathSegment_GetPoint", "int(*)(intptr_t, intptr_t, intptr_t)")
_SEGMENT_TYPE = _prototype("FPDFPathSegment_GetType", "int(*)(intptr_t)")
_SEGMENT_CLOSES = _prototype("FPDFPathSegment_GetClose", "int(*)(intptr_t)")


def _subpaths(objects: list[int], matrices: list[tuple]) -> list[list[list[tuple[str, float, float]]]]:
    """Each path's subpaths as pdfminer's (op, x, y) lists, in user space (all the page's
    path points read and rounded at once)."""
    counts, points, kinds, closes = (_segments_in_c if _CALLS is not None else _segments_in_python)(objects)
    xy = _round4(points.astype(np.float64)).tolist()
    out = []
    start = 0
    for (a, b, c, d, e, f), n in zip(matrices, counts, strict=True):
        subs: list[list[tuple[str, float, float]]] = []
        cur: list[tuple[str, float, float]] = []
        bezier = 0
        for s in range(start, start + n):
            px, py = xy[2 * s], xy[2 * s + 1]
            pt = (a * px + c * py + e, b * px + d * py + f)
            kind = kinds[s]
            if kind == _MOVETO:
                if cur:
                    subs.append(cur)
                cur = [("m", *pt)]
                bezier = 0
            elif kind == _BEZIERTO:
                bezier += 1
                if bezier == 3:  # two control points, then the end point: one "c"
                    cur.append(("c", *pt))
                    bezier = 0
            else:
                cur.append(("l", *pt))
            if closes[s] and cur:
                cur.append(("h", cur[0][1], cur[0][2]))
        if cur:
            subs.append(cur)
        out.append(subs)
        start += n
    return out


def _segments_in_python(objects: list[int]) -> tuple:
    """Each path's number of segments, and every segment's point (x, y, ... as float32), type
    and close flag."""
    counts = [max(n, 0) for n in map(_COUNT_SEGMENTS, objects)]
    total = sum(counts)
    segments = [seg for obj, n in zip(objects, counts, strict=True) for seg in map(_GET_SEGMENT, repeat(obj, n), range(n))]
    points = (ctypes.c_float * (2 * total))()
    at = ctypes.addressof(points)
    deque(map(_SEGMENT_POINT, segments, range(at, at + 8 * total, 8), range(at + 4, at + 8 * total, 8)), 0)
    return counts, np.frombuffer(points, dtype=np.float32), list(map(_SEGMENT_TYPE, segments)), \
        list(map(_SEGMENT_CLOSES, segments))


def _segments_in_c(objects: list[int]) -> tuple:
    """``_segments_in_python``'s values, the same PDFium calls made by the compiled helper."""
    n = len(objects)
    paths, counts = np.array(objects, dtype=np.intp), np.zeros(n, dtype=np.int32)
    buf = _CALLS_FFI.from_buffer
    total = _CALLS.pdfcalls_segment_counts(_COUNT_SEGMENTS_AT, n, buf("intptr_t[]", paths), buf("int32_t[]", counts)) \
        if n else 0
    points, kinds, closes = np.zeros(2 * total, dtype=np.float32), np.empty(total, dtype=np.int32), \
        np.empty(total, dtype=np.int32)
    if total:
        _CALLS.pdfcalls_segments(_GET_SEGMENT_AT, _SEGMENT_POINT_AT, _SEGMENT_TYPE_AT, _SEGMENT_CLOSES_AT, n,
                                 buf("intptr_t[]", paths), buf("int32_t[]", counts), buf("float[]", points),
                                 buf("int32_t[]", kinds), buf("int32_t[]", closes))
    return counts.tolist(), points, kinds.tolist(), closes.tolist()


# ------------------------------------------------------------------ the compiled helper (optional)
# transforms/_pdfcalls.c makes the per-character and per-segment PDFium calls above in C loops
# (one call per page or path list instead of one per value from Python, ~0.25 us each): the
# same PDFium functions, their values stored unchanged, so every answer is the same. `make`
# builds it beside its source when a C compiler is there; without it (or with
# XXGK_PDF_NATIVE=0) the Python calls above are used. Loading that library when this module is
# imported is the only I/O in transforms/.
_CALLS_VERSION = 2
_CALLS_LIBRARY = Path(__file__).with_name("_pdfcalls.so")
_CALLS_FFI = cffi.FFI()
_CALLS_FFI.cdef("""
int pdfcalls_version(void);
int pdfcalls_chars(intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t tp, int n, const uint32_t *codes,
                   int32_t *keep, intptr_t *objects, double *origins, float *boxes, int32_t *unmapped);
void pdfcalls_text_facts(intptr_t, intptr_t, intptr_t, intptr_t tp, int n, const int32_t *asked, double *sizes,
                         float *matrices, int m, const intptr_t *font_objects, intptr_t *fonts);
void pdfcalls_objects(intptr_t, int, intptr_t, intptr_t, intptr_t, int, int, intptr_t parent, int n, intptr_t *objects,
                      int32_t *types, int32_t *marks, float *m, float *matrices);
long pdfcalls_segment_counts(intptr_t, int n, const intptr_t *paths, int32_t *counts);
void pdfcalls_segments(intptr_t, intptr_t, intptr_t, intptr_t, int n, const intptr_t *paths, const int32_t *counts,
                       float *points, int32_t *kinds, int32_t *closes);
""")


def _load_calls():
    """The compiled helper, or None (absent, not loadable, another version, or XXGK_PDF_NATIVE=0)."""
    if os.environ.get("XXGK_PDF_NATIVE", "1") == "0":
        return None
    try:
        lib = _CALLS_FFI.dlopen(str(_CALLS_LIBRARY))
        return lib if lib.pdfcalls_version() == _CALLS_VERSION else None
    except (OSError, AttributeError):
        return None


def _address(name: str) -> int:
    return ctypes.cast(getattr(pdfium_c, name), ctypes.c_void_p).value


_CALLS = _load_calls()
LOADED = _CALLS is not None  # whether the compiled helper loaded (bench_parse and the tests report it)
_IS_GENERATED_AT = _address("FPDFText_IsGenerated")
_GET_TEXT_OBJECT_AT = _address("FPDFText_GetTextObject")
_GET_CHAR_ORIGIN_AT = _address("FPDFText_GetCharOrigin")
_GET_LOOSE_CHAR_BOX_AT = _address("FPDFText_GetLooseCharBox")
_HAS_UNICODE_MAP_ERROR_AT = _address("FPDFText_HasUnicodeMapError")
_GET_FONT_SIZE_AT = _address("FPDFText_GetFontSize")
_GET_MATRIX_AT = _address("FPDFText_GetMatrix")
_TEXT_OBJECT_FONT_AT = _address("FPDFTextObj_GetFont")
_OBJECT_TYPE_AT = _address("FPDFPageObj_GetType")
_COUNT_MARKS_AT = _address("FPDFPageObj_CountMarks")
_OBJECT_MATRIX_AT = _address("FPDFPageObj_GetMatrix")
_ADDRESS = {_PAGE_GET_OBJECT: _address("FPDFPage_GetObject"), _FORM_GET_OBJECT: _address("FPDFFormObj_GetObject")}
_COUNT_SEGMENTS_AT = _address("FPDFPath_CountSegments")
_GET_SEGMENT_AT = _address("FPDFPath_GetPathSegment")
_SEGMENT_POINT_AT = _address("FPDFPathSegment_GetPoint")
_SEGMENT_TYPE_AT = _address("FPDFPathSegment_GetType")
_SEGMENT_CLOSES_AT = _address("FPDFPathSegment_GetClose")


def use_compiled_calls(on: bool) -> bool:
    """Switch between the compiled helper (if it loads) and the Python calls; returns whether
    the helper is now used (tests and the benchmark compare the two in one process)."""
    global _CALLS
    _CALLS = _load_calls() if on else None
    return _CALLS is not None





def _add_path(path: list[tuple[str, float, float]], to_top_down, out: PageObjects) -> None:
    if not path or path[0][0] != "m":
        return
    shape = "".join([p[0] for p in path])
    pts = [(p[1], p[2]) for p in path]
    if len(shape) > 3 and shape[-2:] == "lh" and pts[-2] == pts[0]:
        shape = shape[:-2] + "h"
        pts.pop()
    if shape in ("mlh", "ml"):
        kind, pts = "line", pts[:2]
    elif shape in ("mlllh", "mllll"):
        (x0, y0), (x1, y1), (x2, y2), (x3, y3), _ = pts
        square = (x0 == x1 and y1 == y2 and x2 == x3 and y3 == y0) or (y0 == y1 and x1 == x2 and y2 == y3 and x3 == x0)
        if pts[0] == pts[4] and square:
            kind, pts = "rect", [(x0, y0), (x2, y0), (x2, y2), (x0, y2)]
        else:
            kind = "curve"
    else:
        kind = "curve"
    # pdfminer's bbox in its space, then pdfplumber's conversion of it
    tl = [to_top_down(px, py) for px, py in pts]
    lx, ly = zip(*tl, strict=True)
    x0, x1, top, bottom = min(lx), max(lx), min(ly), max(ly)
    obj = {"object_type": kind, "x0": x0, "x1": x1, "top": top, "bottom": bottom, "doctop": top,
           "width": x1 - x0, "height": bottom - top, "y0": out.height - bottom, "y1": out.height - top}
    if kind == "line":
        out.lines.append(obj)
    elif kind == "rect":
        out.rects.append(obj)
    else:
        obj["pts"] = tl
        out.curves.append(obj)


class PdfiumPage(Page):
    """A pdfplumber page whose objects come from PDFium (no pdfminer behind it)."""

    def __init__(self, objects: PageObjects, page_number: int) -> None:  # noqa: D107 - no super(): no pdfminer page
        self.pdf = None
        self.root_page = self
        self.page_obj = None
        self.page_number = page_number
        self.initial_doctop = 0
        self.rotation = objects.rotation
        self.mediabox = self.cropbox = self.bbox = objects.mediabox
        self.get_textmap = lru_cache()(self._get_textmap)
        # the characters' dicts are made only if pdfplumber's own code asks for them
        self._objects = {"line": objects.lines, "rect": objects.rects, "curve": objects.curves}
        self.rows = objects.rows
        self._chars: list[dict] | None = None
        self.unmapped = objects.unmapped
        self.char_boxes = objects.boxes

    @property
    def chars(self) -> list[dict]:
        if self._chars is None:
            self._chars = list(map(char_dict, self.rows))
        return self._chars
