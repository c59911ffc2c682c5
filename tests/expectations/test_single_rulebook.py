"""One rule book: a rule added to transforms/formatspec.py reaches every consumer.

The parser's findings (transforms.checks), the digit solver (transforms.digits) and the GX
suites (expectations.suites, run by expectations.validate through real GX) all read the
invariants through transforms.evaluator, so adding one to ``formatspec.INVARIANTS`` and
nothing else changes what each of them does.
"""

from __future__ import annotations

import pytest
import xp_reports as xr

from expectations import suites, validate
from expectations.frames import frames_from_reports
from transforms import checks, digits, evaluator
from transforms import formatspec as fs

# A rule the format does not have: 予以公开 cannot exceed 本年新收 (per column), hard, used by the solver.
NEW = fs.Invariant(
    "T9", fs.ERROR, fs.APPLICATIONS, "予以公开 <= 本年新收 (a test rule)",
    (f"{fs.APPLICATIONS}.{fs.GRANTED}.{{column}}",), (f"{fs.APPLICATIONS}.{fs.NEW_RECEIVED}.{{column}}",),
    op="<=", each="column", solver=True,
)


def _forget_derived_rules():
    for cached in (fs.checks_for, checks._plan, evaluator.cross_row_equations, evaluator.item_rule,
                   digits._app_equations_of, suites.rules, suites.groups):
        cached.cache_clear()


@pytest.fixture
def rule_book_with_new_rule(monkeypatch):
    monkeypatch.setattr(fs, "INVARIANTS", (*fs.INVARIANTS, NEW))
    monkeypatch.setattr(fs, "INVARIANTS_BY_ID", {**fs.INVARIANTS_BY_ID, NEW.id: NEW})
    monkeypatch.setattr(validate, "_RUNTIME", None)  # GX suites are registered once per process
    _forget_derived_rules()
    yield
    monkeypatch.undo()
    _forget_derived_rules()


def _breaking(report: dict) -> dict:
    """予以公开 of natural persons above 本年新收 (H2/H3 break too; only T9's rows are looked at)."""
    return xr.setv(report, f"{fs.APPLICATIONS}.{fs.GRANTED}.{fs.NATURAL_PERSON}", 900)


@pytest.mark.usefixtures("rule_book_with_new_rule")
def test_a_new_rule_reaches_findings_solver_and_gx():
    good, bad = xr.lps_2024(), _breaking(xr.lps_2024())
    scope = f"column={fs.NATURAL_PERSON}"

    # 1. the parser's findings
    assert [r.status for r in checks.evaluate(good) if r.check_id == NEW.id] == [checks.PASS] * 7
    failing = [r for r in checks.failures(bad) if r.check_id == NEW.id]
    assert [(r.scope, r.expected, r.actual) for r in failing] == [(scope, 900, 820)]

    # 2. the digit solver: 予以公开 "0020011233" is (0,0,20,0,1,12,33) or (0,0,20,0,11,2,33) by its row
    # sum alone (with 总计 unreadable, H1/H3 cannot tell); the new rule (granted <= new_received)
    # rules the second out.
    rows = {r.key: [0] * 7 for r in fs.app_rows(fs.F2021)}
    rows[fs.NEW_RECEIVED] = [0, 0, 20, 0, 1, 12, 33]
    rows[fs.TOTAL_PROCESSED] = [None] * 7
    rows[fs.GRANTED] = "0020011233"
    assert digits.solve_applications(rows, fs.F2021).values[fs.GRANTED] == [0, 0, 20, 0, 1, 12, 33]

    # 3. the GX suites: built with the rule, run by GX
    family = f"{fs.APPLICATIONS}.{fs.F2021}"
    frames = frames_from_reports([xr.item(good, "good"), xr.item(bad, "bad")])
    gx_results: list = []
    result = validate.validate(frames, gx_results=gx_results)
    new_rows = result[result["check_id"] == NEW.id]
    assert len(new_rows) == 14
    assert set(new_rows.loc[new_rows["report_id"] == "good", "status"]) == {"pass"}
    bad_rows = new_rows[(new_rows["report_id"] == "bad") & (new_rows["status"] == "fail")]
    assert list(bad_rows["scope"]) == [scope] and "900 > 820" in bad_rows["detail"].iloc[0]
    registered = validate._RUNTIME.suites[family]
    assert NEW.id in {e.meta["check_id"] for e in registered.expectations}
    gx_suite = dict(gx_results)[family]
    gx_new = [r for r in gx_suite.results if r.expectation_config.meta["check_id"] == NEW.id]
    assert len(gx_new) == 1 and not gx_new[0].success  # GX itself found the report breaking it


def test_without_the_new_rule_nothing_of_it_remains():
    assert NEW.id not in {inv.id for inv in fs.INVARIANTS}
    assert not [r for r in checks.failures(_breaking(xr.lps_2024())) if r.check_id == NEW.id]
    rows = {r.key: [0] * 7 for r in fs.app_rows(fs.F2021)}
    rows[fs.NEW_RECEIVED] = [0, 0, 20, 0, 1, 12, 33]
    rows[fs.TOTAL_PROCESSED] = [None] * 7
    rows[fs.GRANTED] = "0020011233"
    assert fs.GRANTED in digits.solve_applications(rows, fs.F2021).ambiguous
