"""The one evaluator of the rule book's sums (``formatspec.INVARIANTS``), pure.

The rule book writes each invariant once, as data (``lhs op rhs``, each side a sum of
cell paths, ``-`` for a subtracted term, a number for a constant, ``prev:`` for the same
agency's previous year). ``formatspec.expand`` turns an invariant into concrete checks;
this module is the only code that reads those terms, and serves every consumer:

* the parser's findings (``transforms.checks``): ``evaluate_check`` over a report's cells,
  pass / fail / skipped with the numbers (FORMAT.md §9.2-9.3 for blank and "/" cells);
* the GX expectations (``expectations.suites``/``custom``/``validate``): ``linear`` gives
  a check's normal form ``Σ weight·cell + constant  op  0`` and ``evaluate_matrix`` holds it
  row-wise over a frame of reports (the custom expectation's metric calls it);
* the digit solver (``transforms.digits``): ``cross_row_equations`` (hard rules across rows
  of a table, as terms over (row, column)) and ``item_rule`` (rules inside one row of
  table 1, to order candidates or check a previous-year continuity) -- the invariants whose
  ``solver`` flag the rule book sets.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from transforms import formatspec as fs

PASS = "pass"
FAIL = "fail"
SKIPPED_BLANK = "skipped_blank"
SKIPPED_MISSING = "skipped_missing"

OPS = {"==": operator.eq, "<=": operator.le, ">=": operator.ge, "<": operator.lt}
PREV = "prev:"

# Float evaluation (frames of many reports): cells are whole numbers or 万元 decimals with a
# few places, so a small tolerance absorbs float noise without hiding a difference of 0.01.
TOLERANCE = 1e-6


# --------------------------------------------------------------------------- terms


@dataclass(frozen=True)
class Term:
    """One term of a side as the rule book writes it."""

    sign: int  # +1, or -1 for a subtracted term
    text: str  # the term without its sign: a cell path, "prev:" + a path, or a number
    const: Decimal | None  # the number, for a constant term
    prev: bool  # a cell of the previous year
    path: str | None  # the cell path (without "prev:"); None for a constant


def parse_term(raw: str) -> Term:
    sign = -1 if raw.startswith("-") else 1
    text = raw.lstrip("-")
    if text.replace(".", "", 1).isdigit():
        return Term(sign, text, Decimal(text), False, None)
    return Term(sign, text, None, text.startswith(PREV), text.removeprefix(PREV))


@lru_cache(maxsize=4096)
def parse_side(raw: tuple[str, ...]) -> tuple[Term, ...]:
    return tuple(parse_term(t) for t in raw)


def sides(check: fs.Check) -> tuple[tuple[Term, ...], tuple[Term, ...]]:
    return parse_side(check.lhs), parse_side(check.rhs)


@dataclass(frozen=True)
class Linear:
    """A check in normal form: ``Σ weight · cell + constant  op  0``.

    ``weights``: (column, weight) per cell term, left side first, in the rule book's order
    (a left term weighs +1, a right one -1, a subtracted one the opposite); the column is the
    term's text (a cell path, or ``prev:`` + path). Constants fold into ``constant``."""

    weights: tuple[tuple[str, int], ...]
    constant: Decimal
    op: str


def linear_terms(lhs: tuple[str, ...], rhs: tuple[str, ...], op: str) -> Linear:
    weights, constant = [], Decimal(0)
    for side_sign, side in ((1, parse_side(lhs)), (-1, parse_side(rhs))):
        for t in side:
            if t.const is not None:
                constant += side_sign * t.sign * t.const
            else:
                weights.append((t.text, side_sign * t.sign))
    return Linear(tuple(weights), constant, op)


@lru_cache(maxsize=4096)
def linear(check: fs.Check) -> Linear:
    return linear_terms(check.lhs, check.rhs, check.op)


def rule_text(rule: fs.Invariant | fs.Check) -> str:
    """The rule as written, e.g. ``a + b == c - d`` (docs, check details)."""
    def side(raw: tuple[str, ...]) -> str:
        text = ""
        for i, t in enumerate(parse_side(raw)):
            text += ((" - " if i else "-") if t.sign < 0 else (" + " if i else "")) + t.text
        return text

    return f"{side(rule.lhs)} {rule.op} {side(rule.rhs)}"


def side_sums(check: fs.Check, value_of: Callable[[str], object]) -> tuple | None:
    """(left sum, right sum) with ``value_of(term)`` for each cell term (a path, or ``prev:`` +
    a path); None as soon as a cell has no value. Compare them with ``OPS[check.op]``."""
    out = []
    for side in sides(check):
        total = 0
        for t in side:
            if t.const is not None:
                total += t.sign * _number(t.const)
                continue
            v = value_of(t.text)
            if v is None:
                return None
            total += t.sign * v
        out.append(total)
    return out[0], out[1]


def cells_of(check: fs.Check) -> list[str]:
    """The check's cell terms (``prev:`` kept), in order, a repeated one repeated."""
    return [column for column, _ in linear(check).weights]


def solve_for(check: fs.Check, target: str, known: dict):
    """The value of ``target`` that makes an equality of plain cells (no subtracted or constant
    term) hold, given every other cell's value in ``known``; None for any other rule or when
    ``target`` is not exactly one of its terms."""
    if check.op != "==" or plain_paths(check) is None:
        return None
    lin = linear(check)
    weight = [w for column, w in lin.weights if column == target]
    if len(weight) != 1:
        return None
    rest = sum(w * known[column] for column, w in lin.weights if column != target)
    return -rest * weight[0]


def table_of(check: fs.Check) -> str:
    return fs.INVARIANTS_BY_ID[check.id].table


# --------------------------------------------------------------------------- one report


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


@lru_cache(maxsize=4096)
def statement(check: fs.Check) -> str:
    return " + ".join(check.lhs) + f" {check.op} " + " + ".join(check.rhs)


@lru_cache(maxsize=4096)
def plain_paths(check: fs.Check) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """Both sides as plain cell paths of this year, or None when a term is subtracted,
    constant or of the previous year (those take the general path)."""
    out = []
    for side in sides(check):
        if any(t.sign < 0 or t.const is not None or t.prev for t in side):
            return None
        out.append(tuple(t.path for t in side))
    return out[0], out[1]


def sum_sides(paths: tuple[tuple[str, ...], tuple[str, ...]], cells: dict) -> tuple[int, int] | None:
    """Both sides' sums when every cell is a whole number (the common case), else None."""
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


def _num(v) -> Decimal | int:
    return v if isinstance(v, int) else Decimal(str(v))  # exact sums for decimal cells


def _plain(d: Decimal | int) -> int | float:
    if isinstance(d, int):
        return d
    return int(d) if d == d.to_integral_value() else float(d)


def evaluate_check(check: fs.Check, cells: dict, markers: dict, prev_cells: dict | None = None,
                   prev_markers: dict | None = None) -> CheckResult:
    """The check over one report's cells (path -> value; markers: path -> "na", ...).

    A not-applicable cell counts as 0 and the detail says so; a blank or unreadable one makes
    the check ``skipped_blank`` (never a silent pass); an absent cell ``skipped_missing``."""
    paths = plain_paths(check)
    fast = sum_sides(paths, cells) if paths is not None else None
    if fast is not None:
        lhs, rhs = fast
        return CheckResult(check.id, check.scope, check.severity, PASS if OPS[check.op](lhs, rhs) else FAIL,
                           lhs, rhs, statement(check))
    prev_cells = prev_cells or {}
    prev_markers = prev_markers or {}
    totals: list[Decimal | int] = []
    na_used: list[str] = []
    blank: list[str] = []
    for side in sides(check):
        total: Decimal | int = 0
        for t in side:
            if t.const is not None:
                total += t.sign * t.const
                continue
            src, mk = (prev_cells, prev_markers) if t.prev else (cells, markers)
            value = src.get(t.path, "missing")
            if value == "missing":
                return CheckResult(check.id, check.scope, check.severity, SKIPPED_MISSING, None, None,
                                   f"{t.text} is not in the report")
            if value is None:
                (na_used if mk.get(t.path) == "na" else blank).append(t.text)
                continue
            total += t.sign * _num(value)
        totals.append(total)
    if blank:
        return CheckResult(check.id, check.scope, check.severity, SKIPPED_BLANK, None, None,
                           f"not checked, blank or unreadable: {', '.join(blank)}")
    lhs, rhs = totals
    ok = OPS[check.op](lhs, rhs)
    detail = statement(check) + (f" (not-applicable cells counted as 0: {', '.join(na_used)})" if na_used else "")
    return CheckResult(check.id, check.scope, check.severity, PASS if ok else FAIL, _plain(lhs), _plain(rhs), detail)


# --------------------------------------------------------------------------- frames of reports


def compare(s, op: str):
    """Element-wise ``s op 0`` within ``TOLERANCE`` (numpy arrays of floats)."""
    import numpy as np

    if op == "==":
        return np.abs(s) <= TOLERANCE
    if op == "<=":
        return s <= TOLERANCE
    if op == ">=":
        return s >= -TOLERANCE
    if op == "<":
        return s < -TOLERANCE
    raise ValueError(f"unknown operator {op!r} in a sum rule")


def evaluate_matrix(values, rules: Sequence[Sequence[tuple[int, float]]], constants: Sequence[float], op: str):
    """Row-wise evaluation of k linear rules over the columns of ``values`` (rows x columns).

    Rule i, a list of ``(column index, weight)``, holds when ``Σ weight * value + constants[i]
    op 0``. Returns ``(ok, evaluated)``, both rows x k: a rule touching a missing (NaN) value
    is not evaluated and counts as ok (the caller reports it as skipped, never as passed)."""
    import numpy as np

    n = values.shape[0]
    ok = np.ones((n, len(rules)), dtype=bool)
    evaluated = np.ones((n, len(rules)), dtype=bool)
    for i, terms in enumerate(rules):
        idx = [int(c) for c, _ in terms]
        w = np.array([float(x) for _, x in terms])
        sub = values[:, idx]
        nan = np.isnan(sub).any(axis=1)
        s = np.nan_to_num(sub) @ w + float(constants[i])
        ok[:, i] = compare(s, op) | nan
        evaluated[:, i] = ~nan
    return ok, evaluated


# --------------------------------------------------------------------------- the digit solver


@dataclass(frozen=True)
class Equation:
    """A hard rule across the rows of one table: ``Σ coef · cell[row][column]  op  0``,
    ``op`` "==" or "<=" (a ">=" rule is negated into "<=")."""

    check_id: str
    terms: tuple[tuple[str, str, int], ...]  # (row, column, coefficient)
    op: str


@lru_cache(maxsize=16)
def cross_row_equations(table: str, template: str) -> tuple[Equation, ...]:
    """The solver's hard rules across rows of ``table`` (formatspec: ``solver`` and error
    severity, ``each`` not "row"/"group": the per-row sums are the solver's own cut), per
    column in column order, each column's rules in the rule book's order."""
    tpl_ad, tpl_app = (template, None) if table == fs.ACTIVE_DISCLOSURE else (None, template)
    wanted = {inv.id for inv in fs.INVARIANTS
              if inv.solver and inv.table == table and inv.severity == fs.ERROR and inv.each not in ("row", "group")}
    by_column: dict[str, list[Equation]] = {}
    for check in fs.checks_for(tpl_ad, tpl_app):
        if check.id not in wanted:
            continue
        lin = linear(check)
        if lin.constant or lin.op not in ("==", "<=", ">="):
            raise ValueError(f"{check.name}: the solver takes sums without constants, ==, <= or >=")
        flip = -1 if lin.op == ">=" else 1
        terms = tuple((row, column, flip * w) for row, column, w in
                      ((*_row_column(path, table), w) for path, w in lin.weights))
        column = check.scope.partition("=")[2]
        by_column.setdefault(column, []).append(Equation(check.id, terms, "<=" if flip < 0 else lin.op))
    return tuple(e for eqs in by_column.values() for e in eqs)


def _row_column(path: str, table: str) -> tuple[str, str]:
    t, row, column = path.split(".")
    if t != table:
        raise ValueError(f"{path}: the solver's equations stay inside {table}")
    return row, column


def row_total(table: str) -> tuple[str, tuple[str, ...]]:
    """(the total column, the columns it sums) of the rule book's per-row sum of ``table``
    (H2: applications, H4: review/litigation): the solver cuts every run so that its last
    number is the sum of the others, and checks here that the rule book says so."""
    inv = next(i for i in fs.INVARIANTS
               if i.solver and i.table == table and i.each in ("row", "group") and i.severity == fs.ERROR)
    lin = linear_terms(inv.lhs, inv.rhs, inv.op)
    columns = [(p.rsplit(".", 1)[1], w) for p, w in lin.weights]
    if lin.op != "==" or lin.constant or columns[0][1] != 1 or any(w != -1 for _, w in columns[1:]):
        raise ValueError(f"{inv.id} is not 'a total = the sum of its parts'")
    return columns[0][0], tuple(c for c, _ in columns[1:])


@lru_cache(maxsize=64)
def item_rule(template: str, item: str, measures: tuple[str, ...], cross_year: bool = False) -> Callable | None:
    """The table 1 rules inside one item's row that the solver uses (formatspec: ``solver``)
    as one predicate ``holds(values in measures order, previous-year cells by path)``, or None
    when the item has none.

    Same year: the soft rules that order candidates (S3, S4 and ``fs.SOLVER_HINTS``);
    ``cross_year``: the continuity that picks one (X2)."""
    checks = [c for c in fs.checks_for(template, None, cross_year=cross_year)
              if fs.INVARIANTS_BY_ID[c.id].solver and c.scope == f"item={item}"]
    if not cross_year:
        checks += [c for inv in fs.SOLVER_HINTS for c in fs.expand(inv, template, None) if c.scope == f"item={item}"]
    compiled = []
    for check in checks:
        lin = linear(check)
        here, prev = [], []
        for text, w in lin.weights:
            t = parse_term(text)
            if t.prev:
                prev.append((t.path, w))
            else:
                here.append((measures.index(_row_column(t.path, fs.ACTIVE_DISCLOSURE)[1]), w))
        compiled.append((tuple(here), tuple(prev), _number(lin.constant), OPS[lin.op]))
    if not compiled:
        return None
    compiled_rules = tuple(compiled)

    def holds_for(values: Sequence, prev_cells: dict | None = None) -> bool:
        for here, prev, constant, compare_op in compiled_rules:
            total = constant
            for i, w in here:
                total += w * values[i]
            for path, w in prev:
                total += w * prev_cells[path]
            if not compare_op(total, 0):
                return False
        return True

    return holds_for


def _number(d: Decimal) -> int | Decimal:
    return int(d) if d == d.to_integral_value() else d
