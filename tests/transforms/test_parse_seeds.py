"""The five seed reports, cell by cell against hand-checked answers.

The expected JSON files were produced once and then checked by hand against the seed
text; the spot checks below restate a few cells independently of those files, so a
regenerated fixture cannot silently agree with a broken parser.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from transforms import formatspec as fs
from transforms.parse import parse_report

SEEDS = Path(__file__).parent.parent / "fixtures" / "seeds"
SEED_FILES = sorted(SEEDS.glob("*.txt"))


def _expected(path: Path) -> dict:
    return json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))


def _cells(report: dict) -> dict[str, object]:
    out = {}
    for table in fs.TABLES:
        body = report[table]
        if body is None:
            continue
        for item, measures in body.items():
            for measure, value in measures.items():
                out[f"{table}.{item}.{measure}"] = value
    return out


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.stem[:3])
def test_seed_matches_hand_checked_answer_cell_by_cell(path):
    got = parse_report(path.read_bytes())
    want = _expected(path)
    assert got["contract"] == "xxgk.report/1"
    assert (got["agency"], got["year"], got["templates"]) == (want["agency"], want["year"], want["templates"])
    got_cells, want_cells = _cells(got), _cells(want)
    assert set(got_cells) == set(want_cells)
    wrong = {k: (got_cells[k], v) for k, v in want_cells.items() if got_cells[k] != v or type(got_cells[k]) is not type(v)}
    assert not wrong
    assert sorted((f["code"], f["where"]) for f in got["findings"]) == sorted(
        (f["code"], f["where"]) for f in want["findings"])


@pytest.mark.parametrize("path", [p for p in SEED_FILES if not p.name.startswith("002")], ids=lambda p: p.stem[:3])
def test_seed_has_every_cell_of_its_templates(path):
    got = parse_report(path.read_bytes())
    tpl = got["templates"]
    assert len(_cells(got)) == 10 + 175 + 15
    assert sorted(_cells(got)) == sorted(fs.cell_paths(tpl["active_disclosure"], tpl["applications"]))
    assert all(v is not None for v in _cells(got).values())


SPOT = {
    # independently read off the seed texts
    "000": {"applications.new_received.total": 842, "applications.carried_over.total": 13,
            "applications.total_processed.natural_person": 818, "applications.carried_forward.total": 15,
            "active_disclosure.fees.amount_10k_yuan": 24543.72933, "active_disclosure.penalty.decisions": 1234469,
            "review_litigation.litigation_direct.total": 34, "review_litigation.litigation_after_review.pending": 2},
    "001": {"applications.new_received.natural_person": 284, "applications.denied_prohibited_by_law.total": 16,
            "applications.other_other.total": 54, "active_disclosure.fees.amount_10k_yuan": 1811.120268,
            "review_litigation.admin_review.total": 43, "review_litigation.litigation_after_review.total": 19},
    "003": {"active_disclosure.normative_documents.in_force": 1838, "applications.carried_forward.other_org": 1,
            "applications.total_processed.total": 849, "review_litigation.admin_review.upheld": 76},
    "004": {"active_disclosure.licensing.decisions": 264, "applications.new_received.total": 4,
            "applications.unavailable_not_held.total": 1, "review_litigation.admin_review.total": 0},
}


@pytest.mark.parametrize("prefix", sorted(SPOT))
def test_seed_spot_cells(prefix):
    path = next(p for p in SEED_FILES if p.name.startswith(prefix))
    cells = _cells(parse_report(path.read_bytes()))
    for where, value in SPOT[prefix].items():
        assert cells[where] == value, where


def test_puer_seed_reports_missing_tables_never_zeros():
    path = next(p for p in SEED_FILES if p.name.startswith("002"))
    got = parse_report(path.read_bytes())
    assert got["active_disclosure"] is None and got["applications"] is None and got["review_litigation"] is None
    assert got["templates"] == {"active_disclosure": None, "applications": None, "review_litigation": None}
    missing = {f["where"] for f in got["findings"] if f["code"] == "tables_missing" and f["severity"] == "error"}
    assert missing == set(fs.TABLES)
    assert (got["agency"], got["year"]) == ("普洱市人民政府办公室", 2024)


def test_seed_metadata_from_title_opening_and_period():
    years = {p.name[:3]: parse_report(p.read_bytes())["year"] for p in SEED_FILES}
    assert years == {"000": 2024, "001": 2024, "002": 2024, "003": 2022, "004": 2024}


def test_registry_values_take_precedence_and_disagreement_is_a_finding():
    path = next(p for p in SEED_FILES if p.name.startswith("000"))
    got = parse_report(path.read_bytes(), agency="遵义市", year=2023)
    assert (got["agency"], got["year"]) == ("遵义市", 2023)
    conflicts = {f["where"] for f in got["findings"] if f["code"] == "metadata_conflict"}
    assert conflicts == {"agency", "year"}
    same = parse_report(path.read_bytes(), agency="六盘水市人民政府", year=2024)
    assert not [f for f in same["findings"] if f["code"] == "metadata_conflict"]
