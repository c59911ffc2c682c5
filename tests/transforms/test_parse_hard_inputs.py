"""Real hard inputs end to end through the parser: a PDF report and a page whose cells ran together."""

from __future__ import annotations

import json
from pathlib import Path

from transforms import formatspec as fs
from transforms.checks import flat_cells
from transforms.parse import parse_report

FIX = Path(__file__).parent.parent / "fixtures"
PINGTAN_PAGE = Path(__file__).resolve().parents[2] / "sources" / "samples" / "pingtan_2023.html"


def test_huaian_pdf_parses_exactly():
    got = parse_report((FIX / "pdf" / "huaian_city_2024.pdf").read_bytes())
    want = json.loads((FIX / "pdf" / "huaian_city_2024.expected.json").read_text(encoding="utf-8"))
    assert (got["agency"], got["year"]) == ("淮安市人民政府", 2024)
    assert got["templates"] == {"active_disclosure": "F2021", "applications": "F2021", "review_litigation": "standard"}
    got_cells, want_cells = flat_cells(got), flat_cells(want)
    assert len(want_cells) == 200
    assert {k: got_cells.get(k) for k in want_cells} == want_cells
    assert not [f for f in got["findings"] if f["code"] in ("invariant_violation", "cell_unreadable", "row_missing")]


def test_pingtan_run_together_text_never_gives_a_wrong_number():
    html = parse_report(PINGTAN_PAGE.read_bytes())
    text = parse_report((FIX / "runs" / "pingtan_2023.txt").read_bytes())
    truth, got = flat_cells(html), flat_cells(text)
    assert len(truth) == 200 and not [f for f in html["findings"] if f["code"] == "invariant_violation"]
    wrong = {k: (got[k], v) for k, v in truth.items() if got[k] is not None and got[k] != v}
    assert not wrong
    nulls = [k for k, v in got.items() if v is None]
    assert len(nulls) <= 3  # 行政规范性文件 "77132470": several splits fit
    ambiguous = {f["where"] for f in text["findings"] if f["code"] == "cell_ambiguous"}
    assert set(nulls) <= ambiguous
    derived = {f["where"] for f in text["findings"] if f["code"] == "cell_derived"}
    assert "applications.granted.total" in derived  # split cells are flagged as derived
    assert got["applications.new_received.total"] == 81 and got["review_litigation.admin_review.total"] == 2


def test_pingtan_page_and_text_agree_on_metadata_and_templates():
    html = parse_report(PINGTAN_PAGE.read_bytes())
    text = parse_report((FIX / "runs" / "pingtan_2023.txt").read_bytes())
    for key in ("agency", "year", "templates"):
        assert html[key] == text[key]
    assert html["templates"]["applications"] == fs.F2021
