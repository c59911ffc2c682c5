"""The format's sum rules on one parsed report (pure): the parser's findings.

The rules live in ``formatspec.INVARIANTS`` and are evaluated by ``transforms.evaluator`` (the
one evaluator, with the blank/not-applicable semantics of FORMAT.md §9.2-9.3); this module
picks the checks of a report's templates, flattens its cells and keeps the X4 boundary:

* a not-applicable cell ("/", "-") counts as 0, and the result says so (``na_as_zero``);
* a blank, unreadable or ambiguous cell makes the check ``skipped_blank``: it is never
  silently counted as a pass;
* a table the report does not contain makes it ``skipped_missing``.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import islice
from operator import itemgetter

from transforms import evaluator
from transforms import formatspec as fs
from transforms.evaluator import FAIL, PASS, SKIPPED_BLANK, SKIPPED_MISSING, CheckResult
from transforms.records import cell_markers

__all__ = ["FAIL", "PASS", "SKIPPED_BLANK", "SKIPPED_MISSING", "CheckResult", "evaluate", "evaluate_check",
           "failures", "flat_cells"]


def flat_cells(report: dict | None) -> dict[str, object]:
    """path -> value for every cell of the report (absent tables have no paths)."""
    out: dict[str, object] = {}
    for table in fs.TABLES:
        _flat_table(table, (report or {}).get(table), out)
    return out


def _flat_table(table: str, body, out: dict[str, object]) -> None:
    if isinstance(body, dict):
        for item, measures in body.items():
            if isinstance(measures, dict):
                row = f"{table}.{item}."
                for measure, value in measures.items():
                    out[row + measure] = value


def evaluate_check(check: fs.Check, report: dict, prev: dict | None = None, markers=None,
                   cells=None, prev_cells=None, prev_markers=None) -> CheckResult:
    markers = cell_markers(report) if markers is None else markers
    cells = flat_cells(report) if cells is None else cells
    if prev_markers is None:
        prev_markers = cell_markers(prev) if prev is not None else {}
    if prev_cells is None:
        prev_cells = flat_cells(prev) if prev is not None else {}
    return evaluator.evaluate_check(check, cells, markers, prev_cells, prev_markers)


@lru_cache(maxsize=64)
def _plan(template_ad: str | None, template_app: str | None, cross_year: bool):
    """The checks of these templates, each with its plain paths (or None), statement and fast sums
    (_sums_of): expanded once."""
    return tuple((c, paths, evaluator.statement(c), *_sums_of(evaluator.table_of(c), paths))
                 for c in fs.checks_for(template_ad, template_app, cross_year=cross_year)
                 for paths in (evaluator.plain_paths(c),))


def _sums_of(table: str, paths) -> tuple:
    """(table, cells -> left sum, cells -> right sum) read at C speed (KeyError when a cell is
    absent), for a check of plain paths within its own table; (None, None, None) otherwise."""
    if paths is None or not all(p.startswith(table + ".") for side in paths for p in side):
        return None, None, None
    return (table, *map(_side_sum, paths))


def _side_sum(paths: tuple[str, ...]):
    if not paths:
        return lambda cells: 0
    get = itemgetter(*paths)
    return get if len(paths) == 1 else lambda cells: sum(get(cells))


def evaluate(report: dict, prev: dict | None = None, cross_year: bool = False) -> list[CheckResult]:
    """All sum rules that apply to the report's templates (cross-year ones need ``prev``)."""
    return _evaluate(report, prev, cross_year)


def failures(report: dict) -> list[CheckResult]:
    """The results of evaluate(report) that are FAIL, in the same order (the parser needs
    no others, and most checks pass: they are not built)."""
    return _failures(report, report.get("templates") or {})


def _evaluate(report: dict, prev: dict | None, cross_year: bool) -> list[CheckResult]:
    tpl = report.get("templates") or {}
    markers = cell_markers(report)
    plan = _plan(tpl.get("active_disclosure"), tpl.get("applications"), cross_year)
    if cross_year:
        ptpl = (prev or {}).get("templates") or {}
        # X4: never chain across the format boundary.
        plan = tuple(
            (c, *rest) for c, *rest in plan
            if (evaluator.table_of(c) == fs.APPLICATIONS and ptpl.get("applications") == tpl.get("applications"))
            or (evaluator.table_of(c) == fs.ACTIVE_DISCLOSURE
                and ptpl.get("active_disclosure") == tpl.get("active_disclosure"))
        )
    cells: dict[str, object] = {}
    whole = set()  # the tables whose every cell is a whole number (most)
    for table in fs.TABLES:
        n = len(cells)
        _flat_table(table, report.get(table), cells)
        if n < len(cells) and set(map(type, islice(cells.values(), n, None))) == {int}:
            whole.add(table)
    prev_cells, prev_markers = flat_cells(prev), cell_markers(prev) if prev is not None else {}
    return _checked(plan, cells, whole, set(), markers, prev_cells, prev_markers, False)


def _checked(plan, cells: dict, whole: set, holding: set, markers: dict, prev_cells: dict, prev_markers: dict,
             failures_only: bool) -> list[CheckResult]:
    out = []
    ops, sum_sides = evaluator.OPS, evaluator.sum_sides
    for c, paths, statement, table, lhs_of, rhs_of in plan:
        if table in holding:
            continue
        # evaluator.evaluate_check's fast path inlined (most checks): every cell a whole number
        if table in whole:
            try:
                fast = lhs_of(cells), rhs_of(cells)  # sum_sides's sums, its test for int done above
            except KeyError:  # an absent cell: the general path says skipped_missing
                fast = None
        else:
            fast = sum_sides(paths, cells) if paths is not None else None
        if fast is not None:
            lhs, rhs = fast
            ok = ops[c.op](lhs, rhs)
            if not (ok and failures_only):
                out.append(CheckResult(c.id, c.scope, c.severity, PASS if ok else FAIL, lhs, rhs, statement))
        else:
            res = evaluator.evaluate_check(c, cells, markers, prev_cells, prev_markers)
            if not failures_only or res.status == FAIL:
                out.append(res)
    return out


@lru_cache(maxsize=64)
def _nested_holds_of(template_ad: str | None, template_app: str | None) -> dict:
    """Per table: one function of the report's own rows (``body[item][measure]``) telling
    whether every check of plain paths in that table holds (KeyError when a cell is absent),
    for a table whose every cell is a whole number: the sums and comparisons the checks make
    one by one, written out once, with no flattening at all. A table with a path that is not
    ``table.item.measure`` has none."""
    by_table: dict[str, list[str]] = {}
    rows: dict[str, dict[str, str]] = {}  # per table: item -> the local name its row is bound to
    odd = set()
    for c, paths, _statement, table, _lhs, _rhs in _plan(template_ad, template_app, False):
        if table is None:
            continue
        if c.op not in evaluator.OPS:
            raise ValueError(f"unknown comparison {c.op!r} in {c.id}")
        names = rows.setdefault(table, {})
        sides = []
        for side in paths:
            terms = []
            for p in side:
                parts = p.split(".")
                if len(parts) != 3 or parts[0] != table:
                    odd.add(table)
                row = names.setdefault(parts[-2], f"r{len(names)}")
                terms.append(f"{row}[{parts[-1]!r}]")
            sides.append(" + ".join(terms) or "0")
        by_table.setdefault(table, []).append(f"({sides[0]}) {c.op} ({sides[1]})")
    out = {}
    for table, tests in by_table.items():
        if table in odd:
            continue
        # Every row bound first: a row absent raises KeyError even where a test before it fails,
        # and either way the table is not "holding" (its checks are then taken one by one).
        bind = "".join(f"    {name} = body[{item!r}]\n" for item, name in rows[table].items())
        namespace: dict = {}
        exec("def holds(body):\n" + bind + "    return " + " and ".join(tests) + "\n", namespace)  # noqa: S102
        out[table] = namespace["holds"]
    return out


def _whole(body) -> bool:
    """What _evaluate's flattening finds for a table: at least one cell, every cell an int (and
    every row a dict of cells, which the flattening does not ask)."""
    if not isinstance(body, dict):
        return False
    seen = False
    for measures in body.values():
        if not isinstance(measures, dict):
            return False  # a row that is no row (never from the parser): the general path, cell by cell
        for value in measures.values():
            if type(value) is not int:
                return False
            seen = True
    return seen


def _failures(report: dict, tpl: dict) -> list[CheckResult]:
    """failures(report): the tables whose every plain check holds (most) are tested on the
    report's rows; only the checks left are evaluated, on the cells of the tables they read."""
    tad, tapp = tpl.get("active_disclosure"), tpl.get("applications")
    plan = _plan(tad, tapp, False)
    nested = _nested_holds_of(tad, tapp)
    whole = {table for table in fs.TABLES if _whole(report.get(table))}
    holding = set()
    for table in whole:
        holds = nested.get(table)
        try:
            if holds is not None and holds(report[table]):
                holding.add(table)
        except KeyError:  # an absent cell: the checks one by one below
            pass
    left = tuple(entry for entry in plan if entry[3] not in holding)
    if not left:
        return []
    cells: dict[str, object] = {}
    read = set().union(*map(_tables_read, (entry[0] for entry in left)))
    for table in fs.TABLES:  # a path "table.item.measure" comes from its table's rows only
        if table in read:
            _flat_table(table, report.get(table), cells)
    return _checked(left, cells, whole, holding, cell_markers(report), {}, {}, True)


@lru_cache(maxsize=4096)
def _tables_read(check: fs.Check) -> frozenset[str]:
    """The tables whose cells (of this year) the check reads."""
    return frozenset(t.path.split(".", 1)[0] for side in evaluator.sides(check) for t in side
                     if t.const is None and not t.prev)
