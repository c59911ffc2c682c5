"""transforms.digits: runs of digits split with the invariants as constraints.

The real case is 平潭 2023 (tests/fixtures/runs): its text has every table row run
together ("801000081"); the HTML of the same report has the true cell boundaries. Every
cell the solver fills must equal the HTML's value; every cell it leaves null must have the
true value among its candidates. Property tests render random valid tables as runs and
check that the solver never returns a wrong value.
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import lxml.html
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms import digits
from transforms import formatspec as fs
from transforms.digits import solve_active_disclosure, solve_applications, solve_review_litigation, splits

RUNS = Path(__file__).parent.parent / "fixtures" / "runs"
# The same report's original page, with its real cell boundaries, is a bundled sample.
PAGE = Path(__file__).resolve().parents[2] / "sources" / "samples" / "pingtan_2023.html"
COLS = [c.key for c in fs.APPLICANT_COLUMNS]
RL_COLS = [o.key for o in fs.RL_OUTCOMES]
RL_GROUPS = [g.key for g in fs.RL_GROUPS]


# --------------------------------------------------------------------------- splits


def _brute(run: str, n: int) -> set[tuple[int, ...]]:
    out = set()
    for cuts in itertools.combinations(range(1, len(run)), n - 1):
        bounds = (0, *cuts, len(run))
        parts = [run[a:b] for a, b in itertools.pairwise(bounds)]
        if all(p == "0" or not p.startswith("0") for p in parts):
            out.add(tuple(int(p) for p in parts))
    return out


def test_splits_of_a_real_run():
    got = list(splits("801000081", 7))
    assert (80, 1, 0, 0, 0, 0, 81) in got
    assert all("".join(map(str, c)) == "801000081" for c in got)
    assert set(got) == _brute("801000081", 7)
    assert list(splits("0000000", 7)) == [(0,) * 7]
    assert list(splits("007", 2)) == []  # "07" has a leading zero


def test_splits_known_boundaries_and_decimal():
    assert list(splits("80 1000081", 2)) == [(80, 1000081)]
    assert list(splits(["12", "3"], 2)) == [(12, 3)]
    assert set(splits("35949.08", 2, decimal_last=True)) == {(3, 5949.08), (35, 949.08), (359, 49.08),
                                                             (3594, 9.08)}
    assert list(splits("1.5", 2, decimal_last=True)) == []


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=10), st.integers(1, 6))
def test_splits_equal_brute_force(run, n):
    assert set(splits(run, n)) == _brute(run, n)


# --------------------------------------------------------------------------- 平潭 2023


def _truth() -> dict:
    """Cells of the three tables from the HTML, whose cells have real boundaries."""
    root = lxml.html.parse(str(PAGE)).getroot()
    tables = [
        [[" ".join(td.text_content().split()) for td in tr if td.tag in ("td", "th")] for tr in t.iter("tr")]
        for t in root.iter("table")
    ]
    t1, t2, t3 = tables[:3]
    ad = {}
    for row in t1:
        for item in fs.AD_ITEMS[fs.F2021]:
            if row and row[0] == item.label:
                ad[item.key] = [float(c) if "." in c else int(c) for c in row[1:]]
    app = {}
    value_rows = [r for r in t2 if len(r) >= 8 and all(re.fullmatch(r"\d+", c) for c in r[-7:])]
    for key, row in zip([r.key for r in fs.app_rows(fs.F2021)], value_rows, strict=True):
        app[key] = [int(c) for c in row[-7:]]
    rl = [int(c) for c in t3[-1]]
    return {"ad": ad, "app": app, "rl": {g: rl[i * 5:(i + 1) * 5] for i, g in enumerate(RL_GROUPS)}}


def _runs() -> dict:
    """The run of digits after each row label of the text (what the parser hands over)."""
    text = (RUNS / "pingtan_2023.txt").read_text(encoding="utf-8")
    text = text[text.index("二、主动公开政府信息情况"):]
    t2_start = text.index("申请人情况")
    t3_start = text.index("行政复议、行政诉讼情况")

    def regions(segment: str, labels: list[tuple[str, tuple[str, ...]]]) -> dict[str, str]:
        found, pos = [], 0
        for key, pats in labels:
            m = min((m for p in pats if (m := re.compile(p).search(segment, pos))), key=lambda m: m.start())
            found.append((key, m))
            pos = m.end()
        out = {}
        for (key, m), nxt in itertools.zip_longest(found, found[1:]):
            region = segment[m.end():nxt[1].start() if nxt else len(segment)]
            m = re.search(r"(\d+)([.、．](\d*))?", region)
            if m.group(2) and not m.group(3):  # "00000002.": the "2." numbers the next label
                out[key] = m.group(1)[:-1]
            else:
                out[key] = m.group()
        return out

    ad_labels = [(it.key, tuple(re.escape(m) for m in it.match)) for it in fs.AD_ITEMS[fs.F2021]]
    app_labels = [(r.key, r.match) for r in fs.app_rows(fs.F2021)]
    tail = text[t3_start:]
    rl_run = re.search(r"\d+", tail[tail.rindex("总计"):]).group()
    return {
        "ad": regions(text[:t2_start], ad_labels),
        "app": regions(_normal_brackets(text[t2_start:t3_start]), app_labels),
        "rl": rl_run,
    }


def _normal_brackets(s: str) -> str:
    return s.replace("（", "(").replace("）", ")").replace("“", '"').replace("”", '"')


NARRATIVE = {  # what the report's 总体情况 states, read by hand
    "new_received": 81,  # 各类政府信息公开申请共计81件
    "total_processed": 81,  # 办结依申请公开81件
    "admin_review": 2,  # 行政复议案件2件
    "litigation": 7,  # 行政诉讼案件7件
    "normative_documents.issued": 77,  # 本年度制发的规范性文件77件
}


def _check(solution: digits.Solution, truth: dict[str, list], columns_of) -> tuple[int, int]:
    """Resolved cells equal the truth; unresolved ones are None with the truth a candidate."""
    exact = unresolved = 0
    for key, want in truth.items():
        got = solution.values[key]
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if g is None:
                unresolved += 1
                assert key in solution.ambiguous, key
                assert any(c[i] == w for c in solution.ambiguous[key]), (key, i)
            else:
                exact += 1
                assert g == w, (key, columns_of(key)[i], g, w)
        if key in solution.ambiguous:
            assert tuple(want) in solution.ambiguous[key]
    return exact, unresolved


def test_pingtan_runs_are_what_the_text_holds():
    runs = _runs()
    assert runs["app"]["new_received"] == "801000081"
    assert runs["app"]["denied_third_party"] == "1000001"
    assert runs["ad"]["normative_documents"] == "77132470"
    assert runs["rl"] == "110024001510102"


def test_pingtan_applications_all_cells_exact():
    truth, runs = _truth(), _runs()
    start = time.perf_counter()
    sol = solve_applications(runs["app"], fs.F2021)
    elapsed = time.perf_counter() - start
    exact, unresolved = _check(sol, truth["app"], lambda k: COLS)
    assert (exact, unresolved) == (175, 0)
    assert sol.derived == {(r, c) for r in truth["app"] for c in COLS}
    assert not sol.ambiguous and not sol.unsolvable
    assert elapsed < 1.0


def test_pingtan_review_litigation_exact():
    truth, runs = _truth(), _runs()
    for narrative in (None, NARRATIVE):
        sol = solve_review_litigation(runs["rl"], narrative)
        assert _check(sol, truth["rl"], lambda k: RL_COLS) == (15, 0)
        assert len(sol.derived) == 15


def test_review_litigation_narrative_settles_and_flat_view():
    run = "10012103210121033522206"
    truth = [10, 0, 12, 10, 32, 10, 12, 10, 3, 35, 2, 2, 2, 0, 6]
    sol = solve_review_litigation(run)
    assert truth[:5] not in [sol.values["admin_review"]] and len(sol.ambiguous["_all"]) == 2
    assert tuple(truth) in sol.ambiguous["_all"]
    assert all(v is None or v == w for v, w in zip(sol.values["_all"], truth, strict=True))
    # narrative.extract's keys: 行政复议32件, 行政诉讼41件
    sol = solve_review_litigation(run, {"admin_review_total": 32, "litigation_total": 41})
    assert sol.values["_all"] == truth and not sol.ambiguous
    assert solve_review_litigation([str(v) for v in truth]).values["_all"] == truth  # known boundaries


def test_pingtan_active_disclosure_exact_or_null():
    truth, runs = _truth(), _runs()
    sol = solve_active_disclosure(runs["ad"], fs.F2021)
    cols = {it.key: it.measures for it in fs.AD_ITEMS[fs.F2021]}
    assert _check(sol, truth["ad"], cols.get) == (7, 3)
    assert sol.values["normative_documents"] == [None, None, None]
    assert sol.values["fees"] == [5949.088667]
    # the narrative's 制发77件 pins the first cell; 废止/现行有效 stay open (132|470, 13|2470, ...)
    sol = solve_active_disclosure(runs["ad"], fs.F2021, NARRATIVE)
    assert _check(sol, truth["ad"], cols.get) == (8, 2)
    assert sol.values["normative_documents"] == [77, None, None]
    assert ("normative_documents", "issued") in sol.derived
    assert sol.ambiguous["normative_documents"][0] == (77, 132, 470)  # S3-consistent, balanced first


def test_narrative_that_contradicts_every_split_is_ignored():
    # the report's narrative says 现行有效393件 but the table prints 470: no split has 393
    sol = solve_active_disclosure({"normative_documents": "77132470"}, fs.F2021,
                                  {"normative_documents.in_force": 393})
    assert sol.values["normative_documents"] == [None, None, None]
    assert (77, 132, 470) in sol.ambiguous["normative_documents"] or len(sol.ambiguous["normative_documents"]) == 10


# --------------------------------------------------------------------------- cross-row constraints


def _zero_table(**rows) -> dict:
    table = {r.key: [0] * 7 for r in fs.app_rows(fs.F2021)}
    table.update(rows)
    return table


def test_h2_alone_ambiguous_resolved_by_h3():
    # "0020011233" is (0,0,20,0,1,12,33) or (0,0,20,0,11,2,33) by H2 alone
    truth = [0, 0, 20, 0, 1, 12, 33]
    assert len([c for c in splits("0020011233", 7) if sum(c[:6]) == c[6]]) == 2
    rows = _zero_table(new_received=truth, total_processed=truth, granted="0020011233")
    sol = solve_applications(rows, fs.F2021)
    assert sol.values["granted"] == truth
    assert {c for r, c in sol.derived if r == "granted"} == set(COLS)
    # without the cross-row evidence (total_processed unreadable) it stays open
    rows["total_processed"] = [None] * 7
    sol = solve_applications(rows, fs.F2021)
    assert sol.values["granted"][:3] == [0, 0, 20]  # the cells every candidate agrees on
    assert sol.values["granted"][4:6] == [None, None]
    assert set(sol.ambiguous["granted"]) == {(0, 0, 20, 0, 1, 12, 33), (0, 0, 20, 0, 11, 2, 33)}


def test_narrative_settles_between_candidates():
    rows = _zero_table(new_received="110202121257")  # H2: (1,10,20,2,12,12,57) or (11,0,20,2,12,12,57)
    rows["total_processed"] = [None] * 7
    assert "new_received" in solve_applications(rows, fs.F2021).ambiguous
    sol = solve_applications(rows, fs.F2021, {"new_received.natural_person": 11})
    assert sol.values["new_received"] == [11, 0, 20, 2, 12, 12, 57]


def test_run_without_a_consistent_split_is_unsolvable_not_guessed():
    sol = solve_applications({"granted": "1234567"}, fs.F2021)
    assert sol.values["granted"] == [None] * 7
    assert "granted" in sol.unsolvable and not sol.derived


def test_pathological_runs_are_bounded_by_counted_steps():
    rows = {r.key: "1" * 40 for r in fs.app_rows(fs.F2021)}
    rows["granted"] = "220000022"  # a normal row next to hopeless ones still gets its candidates
    sol = solve_applications(rows, fs.F2021)
    sol_rl = solve_review_litigation("12" * 30)
    # hitting a bound is "undecided", never "impossible" and never a value
    assert sol.truncated and not sol.unsolvable
    assert all(k in sol.ambiguous and not any(v is not None for v in sol.values[k]) for k in sol.truncated)
    assert set(sol.ambiguous["granted"]) == {(2, 20, 0, 0, 0, 0, 22), (22, 0, 0, 0, 0, 0, 22)}
    assert sol_rl.truncated and not sol_rl.unsolvable and not sol_rl.derived


def test_search_bounds_are_counts_not_the_clock(monkeypatch):
    """A starved machine (a clock racing ahead between steps) gives the same answer."""
    import itertools

    rows = {r.key: "1" * 30 for r in fs.app_rows(fs.F2021)}
    rows["granted"] = "220000022"
    before = solve_applications(rows, fs.F2021)
    before_rl = solve_review_litigation("12" * 30)
    ticks = itertools.count(0, 3600)
    monkeypatch.setattr(time, "monotonic", lambda: float(next(ticks)))
    monkeypatch.setattr(time, "perf_counter", lambda: float(next(ticks)))
    monkeypatch.setattr(time, "time", lambda: float(next(ticks)))
    after = solve_applications(rows, fs.F2021)
    after_rl = solve_review_litigation("12" * 30)
    assert (after.values, after.ambiguous, after.truncated) == (before.values, before.ambiguous, before.truncated)
    assert (after_rl.values, after_rl.truncated) == (before_rl.values, before_rl.truncated)
    assert not hasattr(digits, "TIME_LIMIT_S")


def test_unknown_row_is_rejected():
    with pytest.raises(ValueError, match="unknown applications row"):
        solve_applications({"nonsense": "000"}, fs.F2021)


# --------------------------------------------------------------------------- properties

_small = st.one_of(st.just(0), st.just(0), st.integers(1, 12), st.integers(10, 130))


@st.composite
def _tables(draw) -> dict[str, list[int]]:
    """A random applications table satisfying H1, H2, H3 (F2021)."""
    leaves = fs.app_leaves(fs.F2021)
    table: dict[str, list[int]] = {}
    for leaf in leaves:
        parts = [draw(_small) if draw(st.booleans()) else 0 for _ in range(6)]
        table[leaf] = [*parts, sum(parts)]
    tp = [sum(table[leaf][c] for leaf in leaves) for c in range(7)]
    table["total_processed"] = tp
    cf6 = [draw(st.integers(0, 5)) for _ in range(6)]
    co6 = [draw(st.integers(0, tp[c] + cf6[c])) for c in range(6)]
    table["carried_forward"] = [*cf6, sum(cf6)]
    table["carried_over"] = [*co6, sum(co6)]
    table["new_received"] = [tp[c] + table["carried_forward"][c] - table["carried_over"][c] for c in range(7)]
    return table


def _assert_never_wrong(sol: digits.Solution, truth: dict[str, list[int]]) -> None:
    for key, want in truth.items():
        got = sol.values[key]
        assert key not in sol.unsolvable, key
        for g, w in zip(got, want, strict=True):
            assert g is None or g == w, (key, got, want)
        if None in got:
            assert key in sol.ambiguous
            if len(sol.ambiguous[key]) < digits.MAX_LISTED:
                assert tuple(want) in sol.ambiguous[key]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_tables(), st.data())
def test_applications_solver_never_wrong(table, data):
    keys = list(table)
    as_run = data.draw(st.sets(st.sampled_from(keys), min_size=1))
    rows = {k: ("".join(map(str, v)) if k in as_run else list(v)) for k, v in table.items()}
    sol = solve_applications(rows, fs.F2021)
    _assert_never_wrong(sol, {k: v for k, v in table.items() if k in as_run})
    assert all((k, c) not in sol.derived for k in keys if k not in as_run for c in COLS)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_small, min_size=4, max_size=4), min_size=3, max_size=3), st.data())
def test_review_litigation_solver_never_wrong(groups, data):
    truth = {g: [*parts, sum(parts)] for g, parts in zip(RL_GROUPS, groups, strict=True)}
    run = "".join(str(v) for g in RL_GROUPS for v in truth[g])
    narrative = data.draw(st.sampled_from([None, {"admin_review": truth["admin_review"][4]},
                                           {"litigation": truth["litigation_direct"][4]
                                            + truth["litigation_after_review"][4]}]))
    sol = solve_review_litigation(run, narrative)
    _assert_never_wrong(sol, truth)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 3000), min_size=3, max_size=3))
def test_active_disclosure_never_wrong(cells):
    run = "".join(map(str, cells))
    sol = solve_active_disclosure({"regulations": run}, fs.F2021)
    got = sol.values["regulations"]
    assert all(g is None or g == w for g, w in zip(got, cells, strict=True))
    if None in got and len(sol.ambiguous["regulations"]) < digits.MAX_LISTED:
        assert tuple(cells) in sol.ambiguous["regulations"]
