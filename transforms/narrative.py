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

# The phrase -> cell-path table is format knowledge: it lives in formatspec.
CELLS: dict[str, tuple[str, ...]] = fs.NARRATIVE_CELLS
_PATTERNS = fs.NARRATIVE_PHRASES
_COMPILED = {k: (re.compile(p), need, avoid) for k, (p, need, avoid) in _PATTERNS.items()}


# Every phrase ends in "N件", so only a line holding 件 can state a figure (None: some phrase does not,
# and every line is searched).
_ANCHOR: str | None = "件" if all(p.endswith("件") for p, _need, _avoid in _PATTERNS.values()) else None

# "842 件", "8 42件" from PDF layouts: drop spaces around digits only (never across lines).
_DIGIT_SPACES = re.compile(r"(?<=\d)[ \t\u00a0]+(?=[\d件])")


def extract(text: str | None) -> dict[str, int]:
    """Headline figures the narrative states, by key of ``CELLS``."""
    if not text:
        return {}
    found: dict[str, set[int]] = {}
    # Only a line with the phrases' last character (once NFKC-normalised; dropping spaces adds none) can
    # state a figure: the others are neither cleaned nor searched (most of a report's lines).
    text = unicodedata.normalize("NFKC", text)
    anchor = _ANCHOR or ""
    if anchor not in text:
        return {}
    for line in text.splitlines():
        if anchor not in line or "|" in line:
            continue
        line = _DIGIT_SPACES.sub("", line)
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
