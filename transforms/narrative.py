"""Figures the narrative of a report states (S1), pure.

``extract(text)`` finds a handful of headline figures in the prose of a report, such as
"全市新收政府信息公开申请842件" or "被申请行政复议43件". It is deliberately conservative:
only clear patterns count; a figure qualified by 万 or 余 (or followed by anything but 件)
is ignored, and so is a clause that mixes two categories (予以公开和部分公开543件,
行政复议和行政诉讼案件各3件); a key stated twice with different values is dropped. Table
lines (containing "|") are skipped so that table cells are never read as narrative.

``CELLS`` says which table cells each key is compared with (S1, a warning).
"""

from __future__ import annotations

import re
import unicodedata

from transforms import formatspec as fs

_T2 = fs.APPLICATIONS
_T3 = fs.REVIEW_LITIGATION

# key -> the cells whose sum the narrative figure should equal
CELLS: dict[str, tuple[str, ...]] = {
    "new_received": (f"{_T2}.new_received.total",),
    "carried_over": (f"{_T2}.carried_over.total",),
    "total_processed": (f"{_T2}.total_processed.total",),
    "carried_forward": (f"{_T2}.carried_forward.total",),
    "granted": (f"{_T2}.granted.total",),
    "admin_review_total": (f"{_T3}.admin_review.total",),
    "litigation_total": (f"{_T3}.litigation_direct.total", f"{_T3}.litigation_after_review.total"),
}

_GAP = r"[^。;；，,、:：\d|()（）]{0,%d}?"
# The number: not part of a longer number or decimal, directly followed by 件 (so 7万余件,
# 1000余件 and "15市级件" never match).
_NUM = r"(?<![\d.])(\d{1,7})件"

# key -> (regex, words that must appear in the matched span, words that must not)
_PATTERNS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "new_received": (
        r"(?:新收到?|收到|接收|受理)" + _GAP % 16 + r"(?:申请|政府信息)(?:共|数量|总数|合计|为)?" + _NUM,
        ("公开",),
        ("复议", "诉讼", "结转", "办结", "答复"),
    ),
    "carried_over": (r"上一?年度?结转" + _GAP % 12 + _NUM, (), ("下一?年", "复议", "诉讼")),
    "carried_forward": (r"结转(?:至|到)?下一?年度?" + _GAP % 8 + _NUM, (), ("复议", "诉讼")),
    "total_processed": (r"(?:办结|办理完[毕结]|答复完毕)" + _GAP % 10 + _NUM, (), ("结转", "复议", "诉讼")),
    "granted": (r"(?<!不)予以公开" + _GAP % 4 + _NUM, (), ("部分", "不予")),
    "admin_review_total": (r"行政复议" + _GAP % 10 + _NUM, (), ("诉讼", "败诉", "纠错", "纠正")),
    "litigation_total": (r"行政诉讼" + _GAP % 10 + _NUM, (), ("复议", "败诉", "纠错", "纠正")),
}
_COMPILED = {k: (re.compile(p), need, avoid) for k, (p, need, avoid) in _PATTERNS.items()}


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text)
    # "842 件", "8 42件" from PDF layouts: drop spaces around digits only.
    return re.sub(r"(?<=\d)[ \t\u00a0]+(?=[\d件])", "", text)


def extract(text: str | None) -> dict[str, int]:
    """Headline figures the narrative states, by key of ``CELLS``."""
    if not text:
        return {}
    found: dict[str, set[int]] = {}
    for line in _normalise(text).splitlines():
        if "|" in line:
            continue
        for key, (rx, need, avoid) in _COMPILED.items():
            for m in rx.finditer(line):
                span = m.group(0)
                if need and not any(w in span for w in need):
                    continue
                if any(re.search(w, span) for w in avoid) or "各" in span:
                    continue
                if m.start() and line[m.start() - 1] in "和及与":  # "复议和行政诉讼…": a joint figure
                    continue
                found.setdefault(key, set()).add(int(m.group(1)))
    return {k: next(iter(v)) for k, v in found.items() if len(v) == 1}
