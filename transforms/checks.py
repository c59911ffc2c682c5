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


def _lookup(report: dict | None, path: str):
    if report is None:
        return "missing"
    table, item, measure = path.split(".")
    body = report.get(table)
    if not isinstance(body, dict):
        return "missing"
    return (body.get(item) or {}).get(measure, "missing")


def _num(v) -> Decimal:
    return Decimal(str(v))


def _plain(d: Decimal) -> int | float:
    return int(d) if d == d.to_integral_value() else float(d)


def evaluate_check(check: fs.Check, report: dict, prev: dict | None = None, markers=None) -> CheckResult:
    markers = cell_markers(report) if markers is None else markers
    prev_markers = cell_markers(prev) if prev is not None else {}
    sides: list[Decimal] = []
    na_used: list[str] = []
    blank: list[str] = []
    for side in (check.lhs, check.rhs):
        total = Decimal(0)
        for term in side:
            sign = -1 if term.startswith("-") else 1
            term = term.lstrip("-")
            if term.replace(".", "", 1).isdigit():
                total += sign * _num(term)
                continue
            src, mk = (prev, prev_markers) if term.startswith("prev:") else (report, markers)
            path = term.removeprefix("prev:")
            value = _lookup(src, path)
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
    terms = " + ".join(check.lhs) + f" {check.op} " + " + ".join(check.rhs)
    if blank:
        return CheckResult(check.id, check.scope, check.severity, SKIPPED_BLANK, None, None,
                           f"not checked, blank or unreadable: {', '.join(blank)}")
    lhs, rhs = sides
    ok = _OPS[check.op](lhs, rhs)
    detail = terms + (f" (not-applicable cells counted as 0: {', '.join(na_used)})" if na_used else "")
    return CheckResult(check.id, check.scope, check.severity, PASS if ok else FAIL, _plain(lhs), _plain(rhs), detail)


def evaluate(report: dict, prev: dict | None = None, cross_year: bool = False) -> list[CheckResult]:
    """All sum rules that apply to the report's templates (cross-year ones need ``prev``)."""
    tpl = report.get("templates") or {}
    markers = cell_markers(report)
    checks = fs.checks_for(tpl.get("active_disclosure"), tpl.get("applications"), cross_year=cross_year)
    if cross_year:
        ptpl = (prev or {}).get("templates") or {}
        # X4: never chain across the format boundary.
        checks = [
            c for c in checks
            if (c.lhs[0].split(".")[0] == fs.APPLICATIONS and ptpl.get("applications") == tpl.get("applications"))
            or (c.lhs[0].split(".")[0] == fs.ACTIVE_DISCLOSURE
                and ptpl.get("active_disclosure") == tpl.get("active_disclosure"))
        ]
    return [evaluate_check(c, report, prev, markers) for c in checks]
