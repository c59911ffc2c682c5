"""The proof of OCR'd tables (transforms.imagetable), on bands made by hand: no OCR runs here.

A band is what transforms.ocr gives for one ruled table row; here its cells carry the
texts a recogniser could have read, slips included. Whatever is misread, a value is
published only when the invariants prove it: never a wrong number.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from transforms import formatspec as fs
from transforms.imagetable import alternatives, read_tables
from transforms.ocr import PLAIN, STRETCHED, Band, Cell

SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


def _seed(n: str = "000") -> dict:
    return json.loads(next(SEEDS.glob(f"{n}_*.expected.json")).read_text(encoding="utf-8"))


def _text(v) -> str:
    return "" if v is None else f"{v:.10g}" if isinstance(v, float) else str(v)


def _value_cell(text: str, conf: float = 0.99, stretched: str | None = None) -> Cell:
    cell = Cell(0, 1, text, conf, False)
    cell.rereads[PLAIN] = (text, conf)
    cell.rereads[STRETCHED] = (text if stretched is None else stretched, conf)
    return cell


def bands_for(report: dict, reads: dict[str, str] | None = None, t1_second: dict[str, str] | None = None) -> list:
    """Bands of a report's three tables; ``reads`` overrides what a cell reads as."""
    reads, t1_second = reads or {}, t1_second or {}
    out: list[Band] = [Band(0, 0, [Cell(0, 1, "某某局2024年政府信息公开工作年度报告", 0.99, True)], ruled=False)]
    x = 0
    for item in fs.AD_ITEMS[fs.F2021]:
        x += 1
        cells = [Cell(0, 1, item.label, 0.99, True)]
        for m in item.measures:
            path = f"{fs.ACTIVE_DISCLOSURE}.{item.key}.{m}"
            text = reads.get(path, _text(report[fs.ACTIVE_DISCLOSURE][item.key][m]))
            cells.append(_value_cell(text, stretched=t1_second.get(path)))
        out.append(Band(x, x, cells))
    out.append(Band(100, 100, [Cell(0, 1, "本年制发件数 本年废止件数 现行有效件数", 0.99, True)]))
    for row in fs.app_rows(fs.F2021):
        cells = [Cell(0, 1, row.label, 0.99, True)]
        for col in fs.APPLICANT_COLUMNS:
            path = f"{fs.APPLICATIONS}.{row.key}.{col.key}"
            cells.append(_value_cell(reads.get(path, _text(report[fs.APPLICATIONS][row.key][col.key]))))
        x += 1
        out.append(Band(200 + x, 200 + x, cells))
    t3 = []
    for g in fs.RL_GROUPS:
        for o in fs.RL_OUTCOMES:
            path = f"{fs.REVIEW_LITIGATION}.{g.key}.{o.key}"
            t3.append(_value_cell(reads.get(path, _text(report[fs.REVIEW_LITIGATION][g.key][o.key]))))
    out.append(Band(500, 500, t3))
    return out


def _wrong(report: dict, values: dict) -> list[str]:
    return [f"{t}.{r}.{c}" for t in fs.TABLES for r, cols in report[t].items() for c, want in cols.items()
            if values.get(t, {}).get(r, {}).get(c) is not None and values[t][r][c] != want]


def test_clean_reading_is_published_whole_with_table_from_image():
    rep = _seed()
    got = read_tables(bands_for(rep))
    assert got.templates == {fs.ACTIVE_DISCLOSURE: fs.F2021, fs.APPLICATIONS: fs.F2021,
                             fs.REVIEW_LITIGATION: fs.STANDARD}
    for t in fs.TABLES:
        assert got.values[t] == rep[t]
    codes = [f["code"] for f in got.findings]
    assert codes.count("table_from_image") == 3 and "cell_ocr_unproved" not in codes
    assert {f["severity"] for f in got.findings if f["code"] == "table_from_image"} == {"info"}


def test_a_misread_digit_is_corrected_by_the_invariants():
    rep = _seed()
    path = "applications.granted.natural_person"
    true = rep["applications"]["granted"]["natural_person"]
    misread = str(true).replace("2", "7", 1) if "2" in str(true) else str(true) + str(true)[-1]
    got = read_tables(bands_for(rep, {path: misread}))
    assert got.values["applications"]["granted"]["natural_person"] == true
    assert any(f["code"] == "cell_derived" and f["where"] == path for f in got.findings)


def test_an_unreadable_cell_is_solved_by_one_invariant_and_proved_by_another():
    rep = _seed()
    path = "applications.new_received.commercial"
    got = read_tables(bands_for(rep, {path: "品"}))
    assert got.values["applications"]["new_received"]["commercial"] == rep["applications"]["new_received"]["commercial"]


def test_review_litigation_has_one_invariant_per_group_so_a_lone_unreadable_cell_stays_null():
    rep = _seed()
    path = "review_litigation.admin_review.other"
    got = read_tables(bands_for(rep, {path: "品"}))
    assert got.values["review_litigation"]["admin_review"]["other"] is None
    assert any(f["code"] == "cell_ocr_unproved" and f["where"] == path for f in got.findings)


def test_active_disclosure_needs_two_agreeing_readings():
    rep = _seed()
    path = "active_disclosure.penalty.decisions"
    true = rep["active_disclosure"]["penalty"]["decisions"]
    got = read_tables(bands_for(rep, t1_second={path: str(true)[:-1]}))  # "44" read as "4" once
    assert got.values["active_disclosure"]["penalty"]["decisions"] is None
    assert any(f["code"] == "cell_ocr_unproved" and f["where"] == path for f in got.findings)
    assert got.values["active_disclosure"]["licensing"] == rep["active_disclosure"]["licensing"]


def test_two_misreads_that_cancel_in_a_row_are_not_published():
    rep = _seed()
    row = rep["applications"]["new_received"]
    a, b = "applications.new_received.natural_person", "applications.new_received.commercial"
    reads = {a: str(row["natural_person"] + 6), b: str(max(row["commercial"] - 6, 0))}
    got = read_tables(bands_for(rep, reads))
    assert _wrong(rep, got.values) == []


@pytest.mark.parametrize("seed", ["000", "003"])
def test_no_single_confusion_ever_publishes_a_wrong_number(seed):
    """Every cell of table 2 and 3 misread, one at a time, by a confusion OCR makes."""
    rep = _seed(seed)
    rng = random.Random(seed)
    paths = [f"{t}.{r}.{c}" for t in (fs.APPLICATIONS, fs.REVIEW_LITIGATION) for r, cols in rep[t].items()
             for c in cols]
    exact = 0
    for path in rng.sample(paths, 24):
        t, r, c = path.split(".")
        true = rep[t][r][c]
        options = [v for v in alternatives(true) if v != true]
        got = read_tables(bands_for(rep, {path: str(rng.choice(options))}))
        assert _wrong(rep, got.values) == [], path
        exact += got.values[t][r][c] == true
    assert exact >= 12  # most are corrected; the rest stay null with their candidates


def test_alternatives_cover_ocr_confusions():
    assert {6, 8, 9}.issubset(alternatives(0))
    assert 4 in alternatives(44) and 444 in alternatives(44)  # a doubled or dropped digit
    assert 17 in alternatives(11) and alternatives(5)[0] == 5
    assert all(not str(v).startswith("0") or v == 0 for v in alternatives(108))
