"""The cell-value grammar (FORMAT.md §9.2), pure.

``read_cell(raw, vtype)`` returns the value as printed, or ``None`` with the marker
that says why: blank, na (a not-applicable mark such as "/" or "-") or unreadable.
Numbers are never altered beyond removing separators; a unit that must be converted
(元 written where 万元 is the unit) is converted and reported, not hidden.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from transforms import formatspec as fs

BLANK = "blank"
NA = "na"
UNREADABLE = "unreadable"

_MAX_CELL_CHARS = 40  # no count or amount of these tables is longer; int() of huge strings is refused
_NA_MARKS = frozenset({"/", "\\", "-", "--", "---", "×", "x", "X", "-/-", "/ /", "//", "—", "——", "–", "－", "／"})
_ZERO_WORDS = frozenset({"〇", "零", "无", "0件"})
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:[,，]\d{3})+(?:\.\d+)?$")
_INT = re.compile(r"^[+-]?\d+$")
_DEC = re.compile(r"^\d+(?:\.\d+)?$")
_DIGITS_ACROSS_LINES = re.compile(r"\d[ \t]*\n\s*\d")
_STRAY = re.compile(r"[?？\s]")  # NBSP shown as "?" next to digits (FORMAT.md §7.10)
_VALUE_TOKEN = re.compile(
    r"^(?:[+-]?\d[\d,，]*(?:\.\d+)?(?:万元|元|件)?|[/\\×xX]+|-{1,3}|-/-|〇|零|无)$"
)

# OCR of a scanned table misreads digits as look-alike letters ("l2", "1O"): such a token is a
# cell (it keeps the row's count of cells) but no number; reading its digits alone ("2") would
# print a wrong number.
_OCR_GARBLED = re.compile(r"^(?=.*\d)(?=.*[lIOo])[\dlIOo]+$")
# A table's text as tokens: a number, a not-applicable mark, a run of words. An OCR-garbled
# number is one token (a word stops before it), so its digits are never read apart.
TOKEN = re.compile(r"[lIOo]*\d[\dlIOo]*[lIOo][\dlIOo]*(?![\d,，.])|[lIOo]+\d+(?![\d,，.])"
                   r"|[+-]?\d[\d,，]*(?:\.\d+)?(?:万元|元|件)?|[/\\×]+|-{1,3}"
                   r"|(?:(?![lIOo]+\d)[^\s\d/\\|+-])+|[+-]")


class Cell(NamedTuple):  # a tuple: built for every cell of every report, so cheap to make
    value: int | float | None
    marker: str | None  # None when read as printed
    note: str | None = None  # what a finding should say (unit converted, sign rejected, ...)


def is_value_token(token: str) -> bool:
    """Could this whitespace-separated token be a cell value (not part of a label)?"""
    if not token:
        return False
    if token.isdigit():
        return True
    compact = _STRAY.sub("", token)
    return bool(_VALUE_TOKEN.match(compact) or _OCR_GARBLED.match(compact))


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _as_python(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() and "." not in str(d) else float(d)


def read_cell(raw: str | None, vtype: str = fs.COUNT) -> Cell:
    text = (raw or "").strip()
    if len(text) > _MAX_CELL_CHARS:
        return Cell(None, UNREADABLE, f"a cell of {len(text)} characters is not a number of this table")
    if text.isascii():
        if text.isdigit() and vtype != fs.AMOUNT:  # the common case, fast
            return Cell(int(text), None)
        if vtype == fs.DECIMAL and _DEC.match(text):  # a plain decimal (万元): no mark, unit or separator to read
            return Cell(_as_python(Decimal(text)), None)
    if not text:
        return Cell(None, BLANK)
    if _DIGITS_ACROSS_LINES.search(text):  # "1\n0": a stray line above a cell, or a wrapped number?
        return Cell(None, UNREADABLE, f"{text!r}: digits on two lines, one number or two")
    compact = _STRAY.sub("", text)
    if not compact:
        return Cell(None, BLANK)
    if compact in _NA_MARKS or set(compact) <= set("/\\-×"):
        return Cell(None, NA, f"printed {text!r} (not applicable)")
    if compact in _ZERO_WORDS:
        return Cell(0, None)
    unit = None
    for suffix in ("万元", "元", "件"):
        if compact.endswith(suffix) and len(compact) > len(suffix):
            unit, compact = suffix, compact[: -len(suffix)]
            break
    if _THOUSANDS.match(compact):
        compact = re.sub(r"[,，]", "", compact)
    if vtype in (fs.COUNT, fs.SIGNED):
        if not _INT.match(compact):
            return Cell(None, UNREADABLE, f"{text!r} is not a whole number")
        if compact[0] in "+-" and vtype == fs.COUNT:
            return Cell(None, UNREADABLE, f"{text!r}: a sign where the template has a count")
        return Cell(int(compact), None)
    # decimal (万元) or amount (unit not fixed)
    if not _DEC.match(compact):
        return Cell(None, UNREADABLE, f"{text!r} is not an amount")
    d = _number(compact)
    if d is None:
        return Cell(None, UNREADABLE, f"{text!r} is not an amount")
    if vtype == fs.DECIMAL and unit == "元":
        return Cell(_as_python(d / Decimal(10000)), None, f"printed {text!r} in 元, converted to 万元")
    if vtype == fs.AMOUNT:
        return Cell(_as_python(d), None, f"printed {text!r}; unit {unit or 'not stated'}")
    return Cell(_as_python(d), None)
