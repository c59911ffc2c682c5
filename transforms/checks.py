"""Evaluate the format's sum rules on one parsed report (pure).

The rules themselves live in ``formatspec.INVARIANTS``; this module only does the
arithmetic, with the blank/not-applicable semantics of FORMAT.md §9.2-9.3:

* a not-applicable cell ("/", "-") counts as 0, and the result says so (``na_as_zero``);
* a blank, unreadable or ambiguous cell makes the check ``skipped_blank``: it is never
  silently counted as a pass;
* a table the report does not contain makes it ``skipped_missing``.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from transforms import formatspec as fs
from transforms.records import cell_markers

PASS = "pass"
FAIL = "fail"
SKIPPED_BLANK = "skipped_blank"
SKIPPED_MISSING = "skipped_missing"

_OPS = {"==": operator.eq, "<=": operator.le, ">=": operator.ge, "<": operator.lt}


@dataclass(frozen=True)
class CheckResult:
    check_id: str  # H1, S3, X1, ...
    scope: str  # column=total, row=granted, ...
    severity: str
    status: str  # pass | fail | skipped_blank | skipped_missing
    expected: float | None  # the left-hand side
    actual: float | None  # the right-hand side
    detail: str  # the statement with the cells named

    @property
    def name(self) -> str:
        return f"{self.check_id}[{self.scope}]" if self.scope else self.check_id


def flat_cells(report: dict | None) -> dict[str, object]:
    """path -> value for every cell of the report (absent tables have no paths)."""
    out: dict[str, object] = {}
    for table in fs.TABLES:
        body = (report or {}).get(table)
        if isinstance(body, dict):
            for item, measures in body.items():
                if isinstance(measures, dict):
                    for measure, value in measures.items():
                        out[f"{table}.{item}.{measure}"] = value
    return out


def _num(v) -> Decimal | int:
    return v if isinstance(v, int) else Decimal(str(v))  # exact sums for decimal cells


@lru_cache(maxsize=4096)
def _statement(check: fs.Check) -> str:
    return " + ".join(check.lhs) + f" {check.op} " + " + ".join(check.rhs)


@lru_cache(maxsize=4096)
def _plain_paths(check: fs.Check) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Both sides as plain cell paths of this year, or None when a term is subtracted,
    constant or of the previous year (those take the general path)."""
    sides = []
    for side in _terms(check):
        if any(sign < 0 or const is not None or is_prev for sign, _t, const, is_prev, _p in side):
            return None
        sides.append(tuple(path for *_rest, path in side))
    return sides[0], sides[1]


def _int_sides(check: fs.Check, cells: dict) -> tuple[int, int] | None:
    paths = _plain_paths(check)
    if paths is None:
        return None
    return _sum_sides(paths, cells)


def _sum_sides(paths: tuple[tuple[str, ...], tuple[str, ...]], cells: dict) -> tuple[int, int] | None:
    sums = []
    for side in paths:
        total = 0
        for path in side:
            v = cells.get(path)
            if type(v) is not int:  # None (blank, "/", missing) or a decimal: the general path
                return None
            total += v
        sums.append(total)
    return sums[0], sums[1]


@lru_cache(maxsize=4096)
def _terms(check: fs.Check):
    """Each side's terms parsed once: (sign, term, constant or None, previous year?, path)."""
    sides = []
    for side in (check.lhs, check.rhs):
        parsed = []
        for raw in side:
            sign = -1 if raw.startswith("-") else 1
            term = raw.lstrip("-")
            const = Decimal(term) if term.replace(".", "", 1).isdigit() else None
            parsed.append((sign, term, const, term.startswith("prev:"), term.removeprefix("prev:")))
        sides.append(tuple(parsed))
    return tuple(sides)


def _plain(d: Decimal | int) -> int | float:
    if isinstance(d, int):
        return d
    return int(d) if d == d.to_integral_value() else float(d)


def evaluate_check(check: fs.Check, report: dict, prev: dict | None = None, markers=None,
                   cells=None, prev_cells=None, prev_markers=None) -> CheckResult:
    markers = cell_markers(report) if markers is None else markers
    cells = flat_cells(report) if cells is None else cells
    if prev_markers is None:
        prev_markers = cell_markers(prev) if prev is not None else {}
    if prev_cells is None:
        prev_cells = flat_cells(prev) if prev is not None else {}
    fast = _int_sides(check, cells)
    if fast is not None:  # the common case: every cell printed as a whole number
        lhs, rhs = fast
        return CheckResult(check.id, check.scope, check.severity, PASS if _OPS[check.op](lhs, rhs) else FAIL,
                           lhs, rhs, _statement(check))
    sides: list[Decimal | int] = []
    na_used: list[str] = []
    blank: list[str] = []
    for side in _terms(check):
        total: Decimal | int = 0
        for sign, term, const, is_prev, path in side:
            if const is not None:
                total += sign * const
                continue
            src, mk = (prev_cells, prev_markers) if is_prev else (cells, markers)
            value = src.get(path, "missing")
            if value == "missing":
                return CheckResult(check.id, check.scope, check.severity, SKIPPED_MISSING, None, None,
                                   f"{term} is not in the report")
            if value is None:
                if mk.get(path) == "na":
                    na_used.append(term)
                    continue
                blank.append(term)
                continue
            total += sign * _num(value)
        sides.append(total)
    terms = _statement(check)
    if blank:
        return CheckResult(check.id, check.scope, check.severity, SKIPPED_BLANK, None, None,
                           f"not checked, blank or unreadable: {', '.join(blank)}")
    lhs, rhs = sides
    ok = _OPS[check.op](lhs, rhs)
    detail = terms + (f" (not-applicable cells counted as 0: {', '.join(na_used)})" if na_used else "")
    return CheckResult(check.id, check.scope, check.severity, PASS if ok else FAIL, _plain(lhs), _plain(rhs), detail)


@lru_cache(maxsize=64)
def _plan(template_ad: str | None, template_app: str | None, cross_year: bool):
    """The checks of these templates, each with its plain paths (or None) and statement: expanded once."""
    return tuple((c, _plain_paths(c), _statement(c))
                 for c in fs.checks_for(template_ad, template_app, cross_year=cross_year))


def evaluate(report: dict, prev: dict | None = None, cross_year: bool = False) -> list[CheckResult]:
    """All sum rules that apply to the report's templates (cross-year ones need ``prev``)."""
    return _evaluate(report, prev, cross_year, failures_only=False)


def failures(report: dict) -> list[CheckResult]:
    """The results of evaluate(report) that are FAIL, in the same order (the parser needs
    no others, and most checks pass: they are not built)."""
    return _evaluate(report, None, False, failures_only=True)


def _evaluate(report: dict, prev: dict | None, cross_year: bool, failures_only: bool) -> list[CheckResult]:
    tpl = report.get("templates") or {}
    markers = cell_markers(report)
    plan = _plan(tpl.get("active_disclosure"), tpl.get("applications"), cross_year)
    if cross_year:
        ptpl = (prev or {}).get("templates") or {}
        # X4: never chain across the format boundary.
        plan = tuple(
            (c, paths, statement) for c, paths, statement in plan
            if (c.lhs[0].split(".")[0] == fs.APPLICATIONS and ptpl.get("applications") == tpl.get("applications"))
            or (c.lhs[0].split(".")[0] == fs.ACTIVE_DISCLOSURE
                and ptpl.get("active_disclosure") == tpl.get("active_disclosure"))
        )
    cells = flat_cells(report)
    prev_cells, prev_markers = flat_cells(prev), cell_markers(prev) if prev is not None else {}
    out = []
    for c, paths, statement in plan:
        # evaluate_check's fast path inlined (most checks): every cell a whole number
        fast = _sum_sides(paths, cells) if paths is not None else None
        if fast is not None:
            lhs, rhs = fast
            ok = _OPS[c.op](lhs, rhs)
            if not (ok and failures_only):
                out.append(CheckResult(c.id, c.scope, c.severity, PASS if ok else FAIL, lhs, rhs, statement))
        else:
            res = evaluate_check(c, report, prev, markers, cells, prev_cells, prev_markers)
            if not failures_only or res.status == FAIL:
                out.append(res)
    return out
