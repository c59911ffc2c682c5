"""transforms.evaluator: the one reader of the rule book's sums.

The invariants are written once, in transforms/formatspec.py; the parser's findings
(transforms.checks), the GX expectations (expectations.*) and the digit solver
(transforms.digits, transforms.imagetable) read them only through the evaluator:
tests/test_architecture.py holds that, tests/expectations/test_single_rulebook.py shows a
rule added to the rule book reaching all three consumers.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest

from transforms import digits, evaluator
from transforms import formatspec as fs

# --------------------------------------------------------------------------- normal forms


def _check(cid: str, scope: str, tpl_ad=fs.F2021, tpl_app=fs.F2021, cross_year=False) -> fs.Check:
    return next(c for c in fs.checks_for(tpl_ad, tpl_app, cross_year=cross_year) if c.name == (f"{cid}[{scope}]" if scope else cid))


def test_linear_form_of_each_kind_of_term():
    h1 = evaluator.linear(_check("H1", "column=total"))
    assert h1.weights == (("applications.new_received.total", 1), ("applications.carried_over.total", 1),
                          ("applications.total_processed.total", -1), ("applications.carried_forward.total", -1))
    assert (h1.constant, h1.op) == (0, "==")
    s3 = evaluator.linear(_check("S3", "item=regulations"))  # a subtracted term on the right
    assert dict(s3.weights)["active_disclosure.regulations.repealed"] == 1
    s7 = evaluator.linear(_check("S7", ""))  # a constant
    assert s7.constant == Decimal(-1000000) and s7.op == "<"
    x2 = evaluator.linear(_check("X2", "item=regulations", cross_year=True))  # the previous year
    assert ("prev:active_disclosure.regulations.in_force", -1) in x2.weights


def test_one_report_and_a_frame_give_the_same_answer():
    """The scalar evaluation (parser findings) and the row-wise one (GX) of the same checks agree."""
    rng = np.random.default_rng(3)
    checks = fs.checks_for(fs.F2021, fs.F2021) + fs.checks_for(fs.F2019, fs.F2019)
    for check in checks:
        lin = evaluator.linear(check)
        columns = list(dict.fromkeys(c for c, _ in lin.weights))
        values = rng.integers(0, 4, size=(40, len(columns))).astype(float)
        ok, evaluated = evaluator.evaluate_matrix(
            values, [[(columns.index(c), w) for c, w in lin.weights]], [float(lin.constant)], lin.op)
        assert evaluated.all()
        for row, want in zip(values, ok[:, 0], strict=True):
            cells = {c: int(v) for c, v in zip(columns, row, strict=True)}
            got = evaluator.evaluate_check(check, cells, {}).status
            assert got == (evaluator.PASS if want else evaluator.FAIL), check.name


def test_blank_not_applicable_and_missing_cells():
    check = _check("H1", "column=total")
    cells = {"applications.new_received.total": 5, "applications.carried_over.total": None,
             "applications.total_processed.total": 5, "applications.carried_forward.total": 0}
    na = evaluator.evaluate_check(check, cells, {"applications.carried_over.total": "na"})
    assert na.status == evaluator.PASS and "not-applicable cells counted as 0" in na.detail
    assert evaluator.evaluate_check(check, cells, {}).status == evaluator.SKIPPED_BLANK
    del cells["applications.carried_forward.total"]
    assert evaluator.evaluate_check(check, cells, {}).status == evaluator.SKIPPED_MISSING


def test_solve_for_the_one_unknown_of_an_equality():
    check = _check("H1", "column=total")
    known = {"applications.new_received.total": 10, "applications.carried_over.total": 2,
             "applications.carried_forward.total": 3}
    assert evaluator.solve_for(check, "applications.total_processed.total", known) == 9
    known = {"applications.carried_over.total": 2, "applications.total_processed.total": 9,
             "applications.carried_forward.total": 3}
    assert evaluator.solve_for(check, "applications.new_received.total", known) == 10
    assert evaluator.solve_for(_check("H6", "column=total"), "applications.carried_forward.total", {}) is None


# --------------------------------------------------------------------------- the digit solver


@pytest.mark.parametrize("template", fs.TEMPLATES)
def test_solver_equations_are_the_rule_books(template):
    """The solver's cross-row equations are exactly the rule book's hard rules marked ``solver``
    (H1, H3, H6 today), per column; its per-row cut is the rule book's row sum (H2, H4)."""
    marked = [inv.id for inv in fs.INVARIANTS if inv.solver and inv.table == fs.APPLICATIONS
              and inv.severity == fs.ERROR and inv.each == "column"]
    eqs = digits._app_equations(template, [], len(fs.APPLICANT_COLUMNS))
    assert len(eqs) == len(marked) * len(fs.APPLICANT_COLUMNS)
    cols = [c.key for c in fs.APPLICANT_COLUMNS]
    for eq, check in zip(eqs, [c for col in cols for c in fs.checks_for(None, template)
                               if c.id in marked and c.scope == f"column={col}"], strict=True):
        lin = evaluator.linear(check)
        sign = -1 if lin.op == ">=" else 1
        assert eq.terms == [(p.split(".")[1], cols.index(p.split(".")[2]), sign * w) for p, w in lin.weights]
        assert eq.le == (lin.op != "==")
    assert evaluator.row_total(fs.APPLICATIONS) == ("total", tuple(fs.APPLICANT_PARTS))
    assert evaluator.row_total(fs.REVIEW_LITIGATION)[0] == "total"


def test_soft_rules_order_the_candidates():
    s3 = evaluator.item_rule(fs.F2021, "regulations", ("issued", "repealed", "in_force"))
    assert s3((1, 0, 1)) and not s3((3, 0, 1))
    s4 = evaluator.item_rule(fs.F2019, "regulations", ("new_made", "new_published", "total_published"))
    assert s4((5, 3, 4)) and not s4((3, 5, 6)) and not s4((5, 3, 2))  # S4, and FORMAT.md S4's second half
    assert evaluator.item_rule(fs.F2021, "licensing", ("decisions",)) is None
    x2 = evaluator.item_rule(fs.F2021, "regulations", ("issued", "repealed", "in_force"), cross_year=True)
    prev = {"active_disclosure.regulations.in_force": 10}
    assert x2((2, 1, 11), prev) and not x2((2, 1, 12), prev)
