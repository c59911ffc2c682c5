"""The suites are built from formatspec, and docs/CHECKS.md is generated from them."""

from __future__ import annotations

from pathlib import Path

from expectations import suites
from transforms import formatspec as fs

ROOT = Path(__file__).resolve().parents[2]


def test_every_expectation_carries_its_invariant_id():
    built = suites.build_suites()
    ids = set()
    for name, suite in built.items():
        assert suite.name == name
        for exp in suite.expectations:
            cid = exp.meta["check_id"]
            ids.add(cid)
            assert exp.description.startswith(cid + " ")
            assert exp.meta["severity"] in (fs.ERROR, fs.WARNING)
    assert ids == {inv.id for inv in fs.INVARIANTS} | set(fs.OTHER_CHECKS)


def test_rules_follow_formatspec():
    rules = suites.rules()
    h2 = [r for r in rules["applications.F2021"] if r.check_id == "H2"]
    assert [r.scope for r in h2] == [f"row={row.key}" for row in fs.app_rows(fs.F2021)]
    h2_19 = [r for r in rules["applications.F2019"] if r.check_id == "H2"]
    assert len(h2_19) == 23
    h3 = next(r for r in rules["applications.F2019"] if r.name == "H3[column=total]")
    assert len(h3.paths) == 1 + len(fs.app_leaves(fs.F2019))
    s3 = next(r for r in rules["active_disclosure.F2021"] if r.name == "S3[item=regulations]")
    assert s3.statement() == ("active_disclosure.regulations.in_force >= active_disclosure.regulations.issued "
                              "- active_disclosure.regulations.repealed")


def test_checks_md_is_generated():
    text = suites.describe_checks()
    for cid in [inv.id for inv in fs.INVARIANTS] + list(fs.OTHER_CHECKS):
        assert f"| {cid} |" in text
    assert (ROOT / "docs" / "CHECKS.md").read_text(encoding="utf-8") == text, (
        "docs/CHECKS.md is stale: run `python -m expectations.suites > docs/CHECKS.md`")
