"""What PDF text extractors do to the rows of a table, as text transformations (pure, seeded).

Each function takes a report printed in the ``pdf_space`` or ``paragraphs`` layout of
``testkit.synth`` (a row is "label v v v" on one line, or label and values as paragraphs)
and moves labels and numbers the way extractors do (issue #15, trap 1). The numbers stay
the report's: a parser reading the result must give each cell its true value or null.
"""

from __future__ import annotations

import random
import re

from transforms import cells as cellgrammar

_LABEL_LINE = re.compile(r"^(?P<label>\S.*?\S)(?P<values>(?: (?:[+-]?\d[\d.]*|/|-))+)$")
_HEADINGS = ("二、", "三、", "四、", "五、")


def _table_zone(lines: list[str]) -> tuple[int, int]:
    """Lines of tables 1 and 2 (between headings 二 and 四)."""
    start = next(i for i, ln in enumerate(lines) if ln.startswith("二、主动公开"))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("四、政府信息公开行政复议"))
    return start + 1, end


def _rows(text: str):
    lines = text.split("\n")
    lo, hi = _table_zone(lines)
    for i in range(lo, hi):
        m = _LABEL_LINE.match(lines[i])
        if m and not lines[i].startswith("信息内容") and re.search(r"[\u4e00-\u9fff]", m.group("label")):
            yield lines, i, m.group("label"), m.group("values").strip()


def _rewrite(text: str, fn) -> str:
    lines = text.split("\n")
    out = list(lines)
    for _lines, i, label, values in _rows(text):
        out[i] = fn(label, values)
    return "\n".join(out)


def values_before_labels(text: str) -> str:
    """Every row's numbers on the line before its label."""
    return _rewrite(text, lambda label, values: f"{values}\n{label}")


def values_before_labels_same_line(text: str) -> str:
    """Every row printed "v v v label"."""
    return _rewrite(text, lambda label, values: f"{values} {label}")


def values_on_next_line(text: str) -> str:
    """Every label on its own line, its numbers on the next."""
    return _rewrite(text, lambda label, values: f"{label}\n{values}")


def _split_label(label: str, parts: int) -> list[str]:
    k = max(1, len(label) // parts)
    pieces = [label[i:i + k] for i in range(0, len(label), k)]
    return pieces[:parts - 1] + ["".join(pieces[parts - 1:])] if len(pieces) > parts else pieces


def labels_broken_values_after_first_line(text: str, parts: int = 3) -> str:
    """Long labels over 2-4 lines; the numbers on the first line."""
    def fn(label: str, values: str) -> str:
        if len(label) < 12:
            return f"{label} {values}"
        pieces = _split_label(label, parts)
        return "\n".join([f"{pieces[0]} {values}", *pieces[1:]])
    return _rewrite(text, fn)


def labels_broken_values_in_the_middle(text: str) -> str:
    """Long labels broken in two, the numbers on a line of their own between the halves
    (the label's first half starts with its numbering, its key words in the second)."""
    def fn(label: str, values: str) -> str:
        m = re.match(r"^(.*?\d[.、])(.*)$", label)
        if not m or len(label) < 12:
            return f"{label} {values}"
        head = m.group(1) + m.group(2)[:3]
        return f"{head}\n{values}\n{m.group(2)[3:]}"
    return _rewrite(text, fn)


def page_footers(text: str, rng: random.Random | int = 0) -> str:
    """Page footers "— 5 —" between some rows of the tables."""
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    lines = text.split("\n")
    lo, hi = _table_zone(lines)
    out = []
    for i, ln in enumerate(lines):
        out.append(ln)
        if lo <= i < hi and rng.random() < 0.2:
            out.append(f"— {rng.randint(2, 30)} —")
    return "\n".join(out)


def lone_number_line(text: str, rng: random.Random | int = 0, value: str = "1") -> str:
    """A lone "1" line (a footnote mark, a page number) after one row of table 2."""
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    rows = [i for _l, i, label, v in _rows(text) if len(v.split()) == 7]
    pick = rng.choice(rows)
    lines = text.split("\n")
    lines.insert(pick + 1, value)
    return "\n".join(lines)


def swap_rows(text: str, rng: random.Random | int = 0) -> str:
    """Two whole rows (label and numbers) of table 2 printed in each other's place."""
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    rows = [i for _l, i, label, v in _rows(text) if len(v.split()) == 7]
    a, b = rng.sample(rows, 2)
    lines = text.split("\n")
    lines[a], lines[b] = lines[b], lines[a]
    return "\n".join(lines)


def is_value(token: str) -> bool:
    return cellgrammar.is_value_token(token)


MOVES = {
    "values_before_labels": values_before_labels,
    "values_before_labels_same_line": values_before_labels_same_line,
    "values_on_next_line": values_on_next_line,
    "labels_broken_2": lambda t: labels_broken_values_after_first_line(t, 2),
    "labels_broken_4": lambda t: labels_broken_values_after_first_line(t, 4),
    "labels_broken_values_in_the_middle": labels_broken_values_in_the_middle,
    "page_footers": page_footers,
    "lone_number_line": lone_number_line,
    "swap_rows": swap_rows,
}


# --------------------------------------------------------------------------- per-row styles
# A PDF extractor's table, row by row: the direction (labels after or before their
# numbers) holds for the whole table, as it does for one extractor on one document; how
# each row falls on lines varies from row to row.
AFTER_STYLES = ("same", "next", "broken_2", "broken_3", "broken_4", "broken_mid")
BEFORE_STYLES = ("same", "prev")


def _row_text(labels: list[str], values: list[str], direction: str, style: str) -> str:
    label = " ".join(labels)
    vals = " ".join(values)
    if direction == "before":
        return f"{vals} {label}" if style == "same" else f"{vals}\n{label}"
    if style == "same" or (style.startswith("broken") and len(label) < 12):
        return f"{label} {vals}"
    if style == "next":
        return f"{label}\n{vals}"
    if style == "broken_mid":
        m = re.match(r"^(.*?\d[.、])(.*)$", label)
        if not m or len(m.group(2)) < 8:
            return f"{label} {vals}"
        return f"{m.group(1)}{m.group(2)[:3]}\n{vals}\n{m.group(2)[3:]}"
    pieces = _split_label(label, int(style[-1]))
    return "\n".join([f"{pieces[0]} {vals}", *pieces[1:]])


def render_extracted(report: dict, rng: random.Random, direction: str, styles=None, footers: bool = False) -> str:
    """The report as PDF text: tables 1 and 2 row by row in ``direction``, each row in a
    style drawn from ``styles``; table 3 as its 15 numbers under its header words."""
    from testkit import synth

    styles = styles or (AFTER_STYLES if direction == "after" else BEFORE_STYLES)
    text = synth.render_text(report, "pdf_space")
    lines = text.split("\n")
    out: list[str] = []
    t1 = synth._t1_rows(report, {})
    t2 = synth._t2_rows(report, {})
    rows = {" ".join(c): c for c, _f, header in t1 + t2 if not header}
    for ln in lines:
        cells = rows.get(ln)
        if cells is None:
            out.append(ln)
            continue
        k = next(i for i, c in enumerate(cells) if is_value(c) and not re.search(r"[\u4e00-\u9fff]", c))
        out.append(_row_text(cells[:k], cells[k:], direction, rng.choice(styles)))
        if footers and rng.random() < 0.15:
            out.append(f"— {rng.randint(2, 30)} —")
    return "\n".join(out)
