"""The format description is consistent with itself, the contract and its generated docs."""

from __future__ import annotations

from pathlib import Path

from transforms import formatdoc
from transforms import formatspec as fs

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_generated_codes_doc_is_up_to_date():
    assert (DOCS / "FORMAT_CODES.md").read_text(encoding="utf-8") == formatdoc.format_codes_markdown()


def test_shapes_follow_from_the_rows_and_columns():
    for tpl in fs.TEMPLATES:
        assert len(fs.ad_cells(tpl)) == fs.SHAPE[fs.ACTIVE_DISCLOSURE][tpl]
        assert len(fs.app_rows(tpl)) * len(fs.APPLICANT_COLUMNS) == fs.SHAPE[fs.APPLICATIONS][tpl]
    assert len(fs.RL_GROUPS) * len(fs.RL_OUTCOMES) == 15
    assert len(fs.cell_paths(fs.F2021, fs.F2021)) == 10 + 175 + 15
    assert len(fs.cell_paths(fs.F2019, fs.F2019)) == 22 + 161 + 15


def test_leaves_per_template():
    assert len(fs.app_leaves(fs.F2021)) == 21
    assert len(fs.app_leaves(fs.F2019)) == 19


def test_invariants_expand_to_concrete_cells():
    h1 = [c for c in fs.checks_for(fs.F2021, fs.F2021) if c.id == "H1"]
    assert len(h1) == 7
    assert h1[-1].lhs == ("applications.new_received.total", "applications.carried_over.total")
    h3 = next(c for c in fs.checks_for(fs.F2019, fs.F2019) if c.id == "H3")
    assert "applications.other_processing.natural_person" in h3.rhs and len(h3.rhs) == 19
    h2 = [c for c in fs.checks_for(fs.F2021, fs.F2021) if c.id == "H2"]
    assert len(h2) == 25
    assert not [c for c in fs.checks_for(fs.F2021, fs.F2021) if c.cross_year]
    x = {c.id for c in fs.checks_for(fs.F2021, fs.F2021, cross_year=True)}
    assert x == {"X1", "X2"}


def test_contract_codes():
    # CONTRACT.md §1 names, spot-checked
    assert [c.key for c in fs.APPLICANT_COLUMNS] == [
        "natural_person", "commercial", "research", "social_welfare", "legal_services", "other_org", "total"]
    assert [g.key for g in fs.RL_GROUPS] == ["admin_review", "litigation_direct", "litigation_after_review"]
    assert {"tables_missing", "cell_unreadable", "cell_not_applicable", "cell_blank", "cell_derived",
            "template_year_mismatch", "metadata_conflict", "invariant_violation"} <= set(fs.FINDINGS)
