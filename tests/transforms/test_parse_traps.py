"""No wrong number, ever (issue #15): scrambled PDF text, split tables, agency and year.

The trap fixtures (tests/fixtures/traps, MANIFEST.json says which seed's numbers each
carries and what it does to them) and property tests over every layout: a cell is read
right or it is null with a finding, never a wrong number; agency, year and template are
right or null.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import scramble
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from testkit.synth import LAYOUTS, make_report, render_text
from transforms import formatspec as fs
from transforms.checks import flat_cells
from transforms.normalize import norm_text
from transforms.parse import parse_report

TRAPS = Path(__file__).parent.parent / "fixtures" / "traps"
MANIFEST = json.loads((TRAPS / "MANIFEST.json").read_text(encoding="utf-8"))
# Null cells measured on each fixture (exact = all the others); a change that loses cells shows here.
NULLS = {"t05_truncated_labels": 7}  # the row whose label lost its key words: null, not its neighbour's
NULL_CODES = {"cell_ambiguous", "row_order_unproved", "row_missing", "cell_blank", "cell_unreadable",
              "cell_not_applicable"}


def _where_null_is_explained(got: dict, path: str) -> bool:
    table, row, _col = path.split(".")
    return any(f["code"] in NULL_CODES and f["where"] in (path, f"{table}.{row}") for f in got["findings"])


def _score(got: dict, want: dict) -> tuple[int, list[str], dict]:
    w, g = flat_cells(want), flat_cells(got)
    exact = sum(1 for k, v in w.items() if g.get(k) == v)  # 12 == 12.0: synth prints a whole 万元 amount as "12"
    nulls = [k for k, v in w.items() if g.get(k) is None and v is not None]
    wrong = {k: (g.get(k), v) for k, v in w.items() if g.get(k) is not None and g.get(k) != v}
    return exact, nulls, wrong


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_trap_fixture_reads_right_or_null_never_wrong(name):
    entry = MANIFEST[name]
    got = parse_report((TRAPS / f"{name}.txt").read_bytes())
    want = json.loads((TRAPS / entry["expected"]).read_text(encoding="utf-8"))
    exact, nulls, wrong = _score(got, want)
    assert not wrong, f"{entry['trap']}: wrong numbers {wrong}"
    assert len(nulls) == NULLS.get(name, 0), f"{entry['trap']}: null {nulls}"
    assert all(_where_null_is_explained(got, k) for k in nulls)
    assert got["templates"] == want["templates"]
    assert (got["agency"], got["year"]) == (entry.get("agency", got["agency"]), entry.get("year", want["year"]))


def test_truncated_label_row_is_null_with_its_reason_not_its_neighbours_numbers():
    got = parse_report((TRAPS / "t05_truncated_labels.txt").read_bytes())
    assert set(got["applications"]["other_unpaid_fee"].values()) == {None}
    assert any(f["code"] == "row_missing" and f["where"] == "applications.other_unpaid_fee" for f in got["findings"])
    assert got["applications"]["other_no_correction"]["total"] == 0  # its own numbers, not the next row's 1


def test_review_litigation_sub_tables_give_each_group_its_own_numbers():
    for name in ("t12_review_litigation_subtables_pipes", "t13_review_litigation_subtables_space"):
        got = parse_report((TRAPS / f"{name}.txt").read_bytes())
        assert got["review_litigation"]["admin_review"] == {"upheld": 25, "corrected": 5, "other": 4, "pending": 9,
                                                            "total": 43}
        assert got["review_litigation"]["litigation_after_review"]["total"] == 19


def test_f2019_applications_in_a_2023_report_finds_every_row():
    got = parse_report((TRAPS / "t14_f2019_applications_in_2023_pdf.txt").read_bytes())
    assert got["templates"]["applications"] == fs.F2019
    assert got["applications"]["denied_prohibited_by_law"]["total"] == 16
    assert any(f["code"] == "template_year_mismatch" for f in got["findings"])


@pytest.mark.parametrize("name", [n for n in sorted(MANIFEST) if n.startswith("m")])
def test_agency_is_never_a_fragment_of_prose(name):
    got = parse_report((TRAPS / f"{name}.txt").read_bytes())
    assert got["agency"] == MANIFEST[name]["agency"]


@pytest.mark.parametrize("head", ["栏目:政府信息公开工作年度报告\n", "关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知\n",
                                  "首页 > 信息公开 > 年度报告\n"])
def test_a_document_naming_no_agency_gives_null_with_a_finding(head):
    want = make_report(4)
    text = head + render_text(want, "pipe_rows", title=False).replace(f"现公布{want['agency']}", "现公布")
    got = parse_report(text.encode("utf-8"))
    assert got["agency"] is None
    assert any(f["code"] == "metadata_missing" and f["where"] == "agency" for f in got["findings"])


# --------------------------------------------------------------------------- properties
def _assert_right_or_null(got: dict, want: dict) -> int:
    exact, nulls, wrong = _score(got, want)
    assert not wrong
    assert all(_where_null_is_explained(got, k) for k in nulls), nulls
    return exact


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10**6), f2019=st.booleans(), direction=st.sampled_from(["after", "before"]),
       rnd=st.randoms(use_true_random=False), footers=st.booleans())
def test_extracted_rows_in_any_style_are_read_right_or_null(seed, f2019, direction, rnd, footers):
    """Labels after or before their numbers, broken over 2-4 lines, numbers between a
    label's halves, page footers: every cell is its true value or null with a reason."""
    tpl = fs.F2019 if f2019 else fs.F2021
    want = make_report(seed, template_ad=tpl, template_app=tpl, year=2020 if f2019 else 2024)
    got = parse_report(scramble.render_extracted(want, rnd, direction, footers=footers).encode("utf-8"))
    _assert_right_or_null(got, want)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), direction=st.sampled_from(["after", "before"]), rnd=st.randoms(use_true_random=False))
def test_rows_on_their_own_lines_in_one_direction_are_all_exact(seed, direction, rnd):
    want = make_report(seed)
    styles = ("same", "next") if direction == "after" else ("same", "prev")
    got = parse_report(scramble.render_extracted(want, rnd, direction, styles).encode("utf-8"))
    assert _assert_right_or_null(got, want) == len(flat_cells(want))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), layout=st.sampled_from([lo for lo in LAYOUTS if lo not in ("runs",)]),
       pick=st.integers(0, 10**6))
def test_swapped_rows_are_read_right_or_null_in_every_layout(seed, layout, pick):
    """Two labelled rows printed in each other's place keep every column sum: the
    parser must follow the labels, or say it cannot."""
    want = make_report(seed)
    text = render_text(want, layout)
    got = parse_report(_swap_two_rows(text, layout, random.Random(pick)).encode("utf-8"))
    _assert_right_or_null(got, want)


def _swap_two_rows(text: str, layout: str, rng: random.Random) -> str:
    """Swap the text of two leaf rows of the applications table (label and numbers)."""
    leaves = [r for r in fs.app_rows(fs.F2021) if r.leaf and r.group and r.key != "other_other"]
    a, b = rng.sample(leaves, 2)
    sep = {"paragraphs": "\n\n", "cell_per_line": " |\n", "cell_per_line_sep": "\n|\n"}.get(layout)
    spans = []
    for row in (a, b):
        start = text.index(row.label)
        nxt = [text.find(r.label, start + len(row.label)) for r in fs.APP_ROWS if r.label != row.label]
        nxt += [text.find(g.label, start + len(row.label)) for g in fs.APP_GROUPS]
        nxt += [text.find("(七)总计", start)]
        end = min(p for p in nxt if p > start)
        spans.append((start, end))
    (s1, e1), (s2, e2) = sorted(spans)
    del sep
    return text[:s1] + text[s2:e2] + text[e1:s2] + text[s1:e1] + text[e2:]


@pytest.mark.parametrize("move", sorted(scramble.MOVES))
def test_each_extractor_move_on_every_seed_number_set(move):
    for seed in range(4):
        for tpl in (fs.F2021, fs.F2019):
            want = make_report(seed, template_ad=tpl, template_app=tpl, year=2024 if tpl == fs.F2021 else 2020)
            got = parse_report(scramble.MOVES[move](render_text(want, "pdf_space")).encode("utf-8"))
            _assert_right_or_null(got, want)


# --------------------------------------------------------------------------- determinism
def test_the_same_bytes_give_the_same_answer_on_a_starved_machine(monkeypatch):
    """Every search is bounded by counted steps, never by the clock: a clock racing ahead
    between any two steps (a fortieth of a core) changes nothing."""
    import itertools
    import time

    pingtan = (Path(__file__).parent.parent / "fixtures" / "runs" / "pingtan_2023.txt").read_bytes()
    scrambled = (TRAPS / "t03_labels_broken_over_lines.txt").read_bytes()
    hard = ("某局2024年政府信息公开工作年度报告\n三、收到和处理政府信息公开申请情况\n申请人情况\n" + "\n".join(
        f"{r.label}{'9' * 24}" for r in fs.app_rows(fs.F2021))).encode("utf-8")  # runs that hit the step bound
    before = [parse_report(b) for b in (pingtan, scrambled, hard)]
    ticks = itertools.count(0, 3600)
    for name in ("monotonic", "perf_counter", "time", "process_time"):
        monkeypatch.setattr(time, name, lambda: float(next(ticks)))
    after = [parse_report(b) for b in (pingtan, scrambled, hard)]
    assert after == before


def test_the_parser_reads_no_clock():
    import re as _re

    src = Path(__file__).resolve().parents[2] / "transforms"
    for path in src.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not _re.search(r"^\s*(import time|from time import)|monotonic\(|perf_counter\(|datetime\.now",
                              text, _re.M), path.name


# --------------------------------------------------------------------------- evidence (item 5)
PINGTAN = Path(__file__).parent.parent / "fixtures" / "runs" / "pingtan_2023.txt"


def test_previous_years_stock_decides_a_run_the_invariants_leave_open():
    """平潭 2023 prints 行政规范性文件 as "77132470"; last year's 现行有效件数 (X2) settles it."""
    alone = parse_report(PINGTAN.read_bytes())
    assert set(alone["active_disclosure"]["normative_documents"].values()) == {None}
    previous = {"templates": {"active_disclosure": fs.F2021},
                "active_disclosure": {"normative_documents": {"in_force": 470 - 77 + 132}}}
    got = parse_report(PINGTAN.read_bytes(), previous=previous)
    assert got["active_disclosure"]["normative_documents"] == {"issued": 77, "repealed": 132, "in_force": 470}
    msgs = [f["message"] for f in got["findings"]
            if f["where"] == "active_disclosure.normative_documents.repealed" and f["code"] == "cell_derived"]
    assert msgs and "(X2)" in msgs[0] and "(S1)" not in msgs[0]
    # evidence that fits no split the invariants allow decides nothing
    wrong_prev = {**previous, "active_disclosure": {"normative_documents": {"in_force": 1}}}
    got = parse_report(PINGTAN.read_bytes(), previous=wrong_prev)
    assert set(got["active_disclosure"]["normative_documents"].values()) == {None}


def _carried_over_run_text() -> str:
    want = make_report(5)
    raw = {f"applications.carried_over.{c.key}": "" for c in fs.APPLICANT_COLUMNS}
    raw["applications.carried_over.natural_person"] = "110000011"  # (1,10,..,11) or (11,0,..,11)
    raw |= {f"applications.carried_forward.{c.key}": "若干" for c in fs.APPLICANT_COLUMNS}
    return render_text(want, "pdf_space", raw=raw)


def test_last_years_carried_forward_decides_this_years_carried_over():
    text = _carried_over_run_text().encode("utf-8")
    alone = parse_report(text)
    assert set(alone["applications"]["carried_over"].values()) - {0, 11} == {None}
    for row in ((1, 10, 0, 0, 0, 0, 11), (11, 0, 0, 0, 0, 0, 11)):
        previous = {"applications": {"carried_forward": dict(zip([c.key for c in fs.APPLICANT_COLUMNS], row, strict=True))}}
        got = parse_report(text, previous=previous)
        assert tuple(got["applications"]["carried_over"].values()) == row
        msg = next(f["message"] for f in got["findings"]
                   if f["where"] == "applications.carried_over.natural_person" and f["code"] == "cell_derived")
        assert "(X1)" in msg
    unfit = {"applications": {"carried_forward": dict.fromkeys([c.key for c in fs.APPLICANT_COLUMNS], 5)}}
    got = parse_report(text, previous=unfit)
    assert got["applications"]["carried_over"]["natural_person"] is None


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), layout=st.sampled_from(["pipe_rows", "markdown_fillers"]),
       rnd=st.randoms(use_true_random=False))
def test_extra_cells_in_pipe_rows_never_shift_a_row(seed, layout, rnd):
    """An extra empty cell, a group label's fragment or a page footer among a row's cells."""
    want = make_report(seed)
    lines = render_text(want, layout).split("\n")
    labels = [r.label for r in fs.app_rows(fs.F2021) if r.leaf]
    out = []
    for ln in lines:
        label = next((lb for lb in labels if lb in ln), None)
        if label and rnd.random() < 0.4:
            extra = rnd.choice([" ", " (三)不 ", " 予公 ", " 开 "])
            before = rnd.random() < 0.5
            ln = ln.replace(label + " |", (f"{extra}| {label} |" if before else f"{label} |{extra}|"), 1)
        out.append(ln)
        if label and rnd.random() < 0.1:
            out.append(rnd.choice(["— 5 —", "1", "- 12 -"]))
    got = parse_report("\n".join(out).encode("utf-8"))
    _assert_right_or_null(got, want)


# The adversary's reproducers (issue #15, second round): each was minimised from a scrambled
# variant on which the parser printed a wrong number. Every cell must be right or null.
ADVERSARY = TRAPS / "adversary"
ADVERSARY_MANIFEST = json.loads((ADVERSARY / "MANIFEST.json").read_text(encoding="utf-8"))


def _adversary_parse(name: str) -> dict:
    for ext in ("pdf", "docx", "html"):
        path = ADVERSARY / f"{name}.{ext}"
        if path.exists():
            return parse_report(path.read_bytes())
    return parse_report((ADVERSARY / f"{name}.txt").read_bytes())


def _wrong_cells(got: dict, truth: dict) -> dict:
    wrong = {}
    for table in (fs.ACTIVE_DISCLOSURE, fs.APPLICATIONS, fs.REVIEW_LITIGATION):
        for row, cells in (truth.get(table) or {}).items():
            for col, want in cells.items():
                value = ((got.get(table) or {}).get(row) or {}).get(col)
                if value is not None and value != want:
                    wrong[f"{table}.{row}.{col}"] = (value, want)
    return wrong


@pytest.mark.parametrize("name", sorted(ADVERSARY_MANIFEST))
def test_adversary_reproducer_reads_right_or_null(name):
    got = _adversary_parse(name)
    truth = json.loads((ADVERSARY / f"{name}.truth.json").read_text(encoding="utf-8"))
    wrong = _wrong_cells(got, truth)
    assert not wrong, f"{ADVERSARY_MANIFEST[name]['was_wrong']}: wrong numbers {wrong}"
    for path in flat_cells(got):
        if flat_cells(got)[path] is None and path in flat_cells(truth) and flat_cells(truth)[path] is not None:
            assert _where_null_is_explained(got, path), path


def test_a_word_table_nested_in_a_layout_cell_keeps_its_rows():
    # Word layout: the report's table sits inside a one-cell table; flattened into that cell's
    # text, a whole table's numbers ran together ("15 0 0 0 0 0 15" read as 150000015).
    got = _adversary_parse("000_docx_nested")
    truth = json.loads((ADVERSARY / "000_docx_nested.truth.json").read_text(encoding="utf-8"))
    assert got[fs.APPLICATIONS] == truth[fs.APPLICATIONS]


def test_a_title_whose_year_is_in_chinese_numerals_names_agency_and_year():
    got = _adversary_parse("000_agency_names_docx")
    assert (got["agency"], got["year"]) == ("福州新区管委会", 2024)


@pytest.mark.parametrize("printed", ["l2", "信息l2", "1O", "O1"])
def test_a_number_ocr_misread_with_letters_is_null_never_its_digits(printed):
    got = _adversary_parse("huaian_ocr_letters")
    assert got[fs.APPLICATIONS]["denied_process_info"]["natural_person"] is None
    assert any(f["code"] == "cell_unreadable" and f["where"].endswith("denied_process_info.natural_person")
               for f in got["findings"])
    text = (ADVERSARY / "huaian_ocr_letters.txt").read_text(encoding="utf-8")
    line = "6.属于四类过程性信息 l2 0 0 0 0 0 12"
    assert line in text
    row = line.replace(" l2", printed[-2:] if printed.startswith("信息") else " " + printed)
    got = parse_report(text.replace(line, row).encode("utf-8"))
    assert got[fs.APPLICATIONS]["denied_process_info"]["natural_person"] is None
    assert got[fs.APPLICATIONS]["denied_process_info"]["total"] == 12


@pytest.mark.parametrize("title, agency", [
    ("深圳市人民政府门户网站_福田区2023年政府信息公开工作年度报告", "福田区"),
    ("中共泉州市委机构编制委员会办公室2023年政府信息公开工作年度报告", "中共泉州市委机构编制委员会办公室"),
    ("关于公布福州新区管委会2023年政府信息公开工作年度报告的公告", "福州新区管委会"),
    ("关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知", None),
])
def test_an_html_title_names_its_agency_past_the_site_name_and_the_notice_words(title, agency):
    page = f"<html><head><title>{title}</title></head><body><p>一、总体情况</p><p>2023年，本机关认真贯彻落实。</p></body></html>"
    assert parse_report(page.encode("utf-8"))["agency"] == agency


@pytest.mark.parametrize("mark", ["①", "²", "⑴", "❶", "₂"])
def test_a_footnote_mark_glued_to_a_number_is_never_one_of_its_digits(mark):
    got = _adversary_parse("000_mark_circled_space")
    assert got[fs.APPLICATIONS]["granted"]["natural_person"] in (228, None)
    text = (ADVERSARY / "000_mark_circled_space.txt").read_text(encoding="utf-8").replace("①", mark)
    got = parse_report(text.encode("utf-8"))
    truth = json.loads((ADVERSARY / "000_mark_circled_space.truth.json").read_text(encoding="utf-8"))
    assert not _wrong_cells(got, truth)
    assert norm_text(f"| 228{mark} | 5 |") == "| 228* | 5 |"
    assert norm_text(f"| {mark}228 | 5 |") == "| *228 | 5 |"
    assert norm_text("①2023年全年") == "12023年全年"  # a bullet of prose stays (NFKC)
    got = _adversary_parse("000_mark_before")
    assert not _wrong_cells(got, json.loads((ADVERSARY / "000_mark_before.truth.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", ["000_html_sup", "000_docx_sup", "000_wps_sup_footnote"])
def test_a_superscript_footnote_reference_after_a_number_is_no_digit(name):
    got = _adversary_parse(name)
    truth = json.loads((ADVERSARY / f"{name}.truth.json").read_text(encoding="utf-8"))
    assert not _wrong_cells(got, truth)  # each was a number with the reference as its last digit


def test_numbers_before_labels_under_a_vertical_header_are_placed_by_the_tables_ends():
    # Between the section heading and the first label stand only numbers: with none after the
    # last label, the table runs numbers-first; header letters ("容 项 / 定") are no cells.
    got = _adversary_parse("004_pdf_vertical_clean")
    truth = json.loads((ADVERSARY / "004_pdf_vertical_clean.truth.json").read_text(encoding="utf-8"))
    assert got[fs.APPLICATIONS] == truth[fs.APPLICATIONS]
    assert got[fs.ACTIVE_DISCLOSURE] == truth[fs.ACTIVE_DISCLOSURE]


def test_a_running_page_header_is_no_cell():
    got = _adversary_parse("000_pdf_before_page_header")
    assert got[fs.ACTIVE_DISCLOSURE]["coercion"]["decisions"] == 24268


def test_a_local_subtotal_row_is_read_past_with_a_finding():
    got = _adversary_parse("huaian_para_subtotal_rows")
    assert got[fs.APPLICATIONS]["denied_state_secret"]["total"] == 2
    assert any(f["code"] == "nonstandard_row" and "小计" in f["message"] for f in got["findings"])


def test_digits_on_two_lines_in_one_cell_are_not_one_number():
    got = _adversary_parse("003_cell_lone_one")
    assert got[fs.APPLICATIONS]["denied_three_safeties"]["social_welfare"] is None
    assert any(f["code"] == "cell_unreadable" and f["where"].endswith("denied_three_safeties.social_welfare")
               for f in got["findings"])


def test_review_litigation_sub_tables_across_a_page_break_in_a_real_pdf():
    got = _adversary_parse("rl_subtables_page_break")
    truth = json.loads((ADVERSARY / "rl_subtables_page_break.truth.json").read_text(encoding="utf-8"))
    assert got[fs.REVIEW_LITIGATION] == truth[fs.REVIEW_LITIGATION]


def test_a_sub_table_whose_header_an_extractor_dropped_keeps_its_own_numbers():
    text = ("四、政府信息公开行政复议、行政诉讼情况\n行政复议 |\n结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |\n"
            "72 | 64 | 178 | 37 | 351 |\n行政诉讼(未经复议直接起诉) |\n13 | 4 | 8 | 1 | 26 |\n行政诉讼(复议后起诉) |\n"
            "结果维持 | 结果纠正 | 其他结果 | 尚未审结 | 总计 |\n12 | 1 | 1 | 6 | 20 |\n五、存在的主要问题及改进情况\n")
    got = parse_report(text.encode())
    assert got[fs.REVIEW_LITIGATION]["admin_review"]["total"] == 351
    assert got[fs.REVIEW_LITIGATION]["litigation_direct"]["total"] == 26
    assert got[fs.REVIEW_LITIGATION]["litigation_after_review"]["total"] == 20
