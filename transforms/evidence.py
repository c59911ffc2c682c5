"""Evidence from outside a report's tables for cells the tables leave open (pure).

Runs of digits whose cell boundaries were lost (``transforms.digits``) are split where the
invariants leave one answer. Where several splits remain, other printed figures can pick
one (issue #15, item 5):

* the narrative's figures (S1): "新收政府信息公开申请81件" (``transforms.narrative``);
* the same agency's previous report: last year's 结转下年度继续办理 is this year's
  上年结转 (X1), and last year's 现行有效件数 plus this year's 本年制发 minus 本年废止 is
  this year's 现行有效件数 (X2, F2021).

Evidence only ever chooses among splits the invariants allow, and only when exactly one
of them agrees with it; a value decided that way is ``derived`` and its finding names the
evidence. Soft rules (S1, X1, X2) that the report breaks leave the cells null.
"""

from __future__ import annotations

from transforms import formatspec as fs

X1 = "X1"
X2 = "X2"
S1 = "S1"
NAMES = {
    S1: "the figures the report's narrative states (S1)",
    X1: "the previous year's report: its 结转下年度继续办理 is this year's 上年结转 (X1)",
    X2: "the previous year's report: its 现行有效件数 + 本年制发 - 本年废止 (X2)",
}


def previous_year_figures(previous: dict | None) -> dict[str, int]:
    """X1: the previous report's 结转下年度 row, keyed as this year's 上年结转 cells
    ("applications.carried_over.<column>"), in the form the digits solver takes."""
    rows = (previous or {}).get(fs.APPLICATIONS) or {}
    carried = rows.get(fs.CARRIED_FORWARD) or {}
    return {f"{fs.APPLICATIONS}.{fs.CARRIED_OVER}.{col}": v for col, v in carried.items()
            if type(v) is int and v >= 0}


def previous_in_force(previous: dict | None) -> dict[str, int]:
    """X2: the previous report's 现行有效件数 per item (F2021 regulations, normative documents)."""
    if not previous or (previous.get("templates") or {}).get(fs.ACTIVE_DISCLOSURE) != fs.F2021:
        return {}
    ad = previous.get(fs.ACTIVE_DISCLOSURE) or {}
    out = {}
    for item in (fs.REGULATIONS, fs.NORMATIVE_DOCUMENTS):
        v = (ad.get(item) or {}).get(fs.IN_FORCE)
        if type(v) is int and v >= 0:
            out[item] = v
    return out

