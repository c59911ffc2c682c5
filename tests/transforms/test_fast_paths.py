"""The parser's fast paths give what the plain code they stand for gives (issue 16: speed
without changing a single answer). Each is checked against its plain form on seeded
random inputs built from the characters that matter to it."""

from __future__ import annotations

import random
import re
import unicodedata
from pathlib import Path

from transforms import html as html_mod
from transforms import normalize
from transforms import parse as parse_mod

SEEDS = Path(__file__).parent.parent / "fixtures" / "seeds"


def _strings(rng: random.Random, pool: list[str], count: int, longest: int) -> list[str]:
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, longest))) for _ in range(count)]


def test_blank_line_collapse_is_the_regex_it_replaces():
    plain = re.compile(r"[ \t]*\n[\s]*\n+")
    pool = [" ", "\t", "\n", "\n", "a", "|", "\u3000", "\r", "\x0b", "\x85", "\u2028"]
    for s in _strings(random.Random(1), pool, 20000, 14):
        assert html_mod._collapse_blank_lines(s) == plain.sub("\n", s), repr(s)


def test_nfkc_shortcut_is_nfkc():
    pool = [chr(c) for c in (*range(0x20, 0x7F), *range(0xFF00, 0xFF70), 0x3000, 0x301, 0x308, 0x3099, 0x304B,
                             0xFF76, 0xFF9E, 0xA0, 0x2460, 0xB2, 0x4E00, 0x1100, 0x1161, 0xAC00, 0xFB01, 0x212B)]
    for s in _strings(random.Random(2), pool, 20000, 12):
        assert normalize._nfkc(s) == unicodedata.normalize("NFKC", s), repr(s)


def test_norm_text_marks_a_footnote_only_where_the_full_pass_would():
    assert normalize.norm_text("| 228① | ①12 |") == "| 228* | *12 |"
    assert normalize.norm_text("| 228 | 12 |") == "| 228 | 12 |"


def test_terminator_search_is_the_alternations_search():
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    assert texts
    rng = random.Random(3)
    for term in (parse_mod._T1_END, parse_mod._T2_END):
        for text in texts:
            text = parse_mod.norm_text(text)
            for _ in range(300):
                a = rng.randrange(len(text) + 1)
                b = rng.randrange(a, len(text) + 1)
                want, got = term.pattern.search(text, a, b), term.search(text, a, b)
                assert (want and want.span()) == (got and got.span())


def test_heading_lookbehind_after_the_numeral_is_the_same_rule():
    assert parse_mod._HEADING.search("三、收到和处理政府信息公开申请情况").start() == 0
    assert parse_mod._HEADING.search("\n四、政府信息公开行政复议、行政诉讼情况").start() == 1
    assert parse_mod._HEADING.search("第三、收到和处理政府信息公开申请情况") is None  # after a CJK character
    assert parse_mod._HEADING.search("三、收到和处理政府信息公开申请情况", 1) is None


def test_clean_row_reads_the_digits_and_drops_only_fillers():
    assert parse_mod._split_values(" | 1152 | 103 | 1 | 2 | 3 | 4 | 1265 |  |  |\n", 7).raw == [
        "1152", "103", "1", "2", "3", "4", "1265"]
    # not clean: a blank cell, a mark, a later line of words, one cell too many
    assert parse_mod._split_values(" | 1 |  | 3 |\n", 3).raw == ["1", "", "3"]
    assert parse_mod._split_values(" | 1 | / | 3 |", 3).raw == ["1", "/", "3"]
    assert parse_mod._split_values(" | 1 | 2 |\n其他 | 9 |", 2).raw == ["1", "2"]
    assert parse_mod._split_values(" | 1 | 2 | 3 |", 2).short
    assert parse_mod._split_values(" | 1 | 2 |", 2).digits
    assert not parse_mod._split_values(" | " + "1" * 41 + " | 2 |", 2).digits  # too long for a number


def test_a_row_of_digits_is_read_as_the_cell_grammar_reads_each():
    reader = parse_mod._Reader("", parse_mod._Findings())
    names, vtypes = ("a", "b", "c"), ("count", "count", "count")
    got = reader.read_row("t", "k", names, vtypes, parse_mod._Values(["007", "0", "12"]))
    assert got == {"a": 7, "b": 0, "c": 12} and not reader.f.items
    reader = parse_mod._Reader("", parse_mod._Findings())
    got = reader.read_row("t", "k", names, vtypes, parse_mod._split_values(" | " + "1" * 41 + " | 1 | 2 |", 3))
    assert got["a"] is None and [f["code"] for f in reader.f.items] == ["cell_unreadable"]
    reader = parse_mod._Reader("", parse_mod._Findings())
    long = "1" * 41  # too long for a count: unreadable, as read_cell says
    got = reader.read_row("t", "k", names, vtypes, parse_mod._Values([long, "1", "2"]))
    assert got["a"] is None and [f["code"] for f in reader.f.items] == ["cell_unreadable"]


def test_a_clean_row_read_at_once_is_what_split_and_read_give():
    """active_disclosure and applications read a clean row of a pipe layout straight from
    _clean_row's match on the text (no slice, no _Values): the same values, no findings."""
    pool = [" ", "\t", "|", "|", "|", "\n", "0", "7", "12", "3456", "1" * 41, "a", "/", "-", "件", "\u3000"]
    rng = random.Random(4)
    matched = 0
    for n in (1, 3, 7):
        names = tuple(f"c{i}" for i in range(n))
        rows = [" |" + "".join(f"{rng.choice(['', ' ', chr(9)])}{rng.choice(pool)}{rng.choice(['', ' '])}|"
                              for _ in range(n + rng.randint(-1, 3))) + rng.choice(["", "\n", " \n\n", "x"])
                for _ in range(5000)]
        for s in _strings(rng, pool, 10000, 3 * n + 6) + rows:
            text = "x" + s + "y"  # the row stands inside a longer text
            clean = parse_mod._clean_row(n).fullmatch(text, 1, len(text) - 1)
            if not clean:
                continue
            matched += 1
            reader = parse_mod._Reader(text, parse_mod._Findings())
            want = reader.read_row("t", "k", names, ("count",) * n, parse_mod._split_values(s, n))
            assert dict(zip(names, map(int, clean.groups()), strict=True)) == want and not reader.f.items, repr(s)
    assert matched > 100


def test_a_text_without_the_footer_core_has_no_page_footer():
    pool = ["-", "—", "第", "页", "共", " ", "\t", "\n", "1", "23", "4567", "/", ",", "a", "\uff11"]
    footers = 0
    rng = random.Random(5)
    lines = ["\n".join(rng.choice(["x", "- 5 -", "-12-", "第 3 页", "第3页 共9页", "—1—", " 2 "]) + rng.choice(pool)
                       for _ in range(3)) for _ in range(3000)]
    for s in _strings(rng, pool, 30000, 10) + lines:
        if not parse_mod._PAGE_FOOTER_CORE.search(s):
            assert parse_mod._PAGE_FOOTER.sub("", s) == s, repr(s)
        else:
            footers += parse_mod._PAGE_FOOTER.sub("", s) != s
    assert footers > 100  # the pool makes footers too


def test_the_checks_whole_number_sums_are_the_evaluators():
    """checks reads the sums of a table whose every cell is a whole number through itemgetters
    (no test per cell): the same results as evaluator.evaluate_check on every check, for reports
    with blanks, decimals, booleans, absent rows and tables, and both templates."""
    from testkit.synth import make_report
    from transforms import checks, evaluator
    from transforms import formatspec as fs
    from transforms.records import cell_markers

    rng = random.Random(6)
    odd = [None, 0.5, 2.0, True, "3", -1, 10**30]
    for seed in range(400):
        report = make_report(seed, template_ad=rng.choice(fs.TEMPLATES), template_app=rng.choice(fs.TEMPLATES))
        for _ in range(rng.choice([0, 0, 1, 3])):  # a few odd cells, rows or tables
            table = rng.choice(fs.TABLES)
            body = report.get(table)
            if not isinstance(body, dict) or not body:
                continue
            item = rng.choice(list(body))
            what = rng.random()
            if what < 0.15:
                del body[item]
            elif what < 0.2:
                report[table] = None
            elif what < 0.23:
                body[item] = None  # a row that is no row: never from the parser, still no crash
            elif isinstance(body[item], dict) and body[item]:
                measure = rng.choice(list(body[item]))
                body[item][measure] = rng.choice(odd)
                if body[item][measure] is None and rng.random() < 0.5:  # "/" read as not applicable
                    report["findings"].append({"code": "cell_not_applicable", "where": f"{table}.{item}.{measure}"})
        tpl = report["templates"]
        cells, markers = checks.flat_cells(report), cell_markers(report)
        want = [evaluator.evaluate_check(c, cells, markers)
                for c in fs.checks_for(tpl.get("active_disclosure"), tpl.get("applications"))]
        assert checks.evaluate(report) == want, seed
        assert checks.failures(report) == [r for r in want if r.status == checks.FAIL], seed


def test_a_span_of_plain_digits_is_read_as_the_general_rule_reads_it():
    def plain(value):  # the rule before the shortcut
        if value is None:
            return 1
        try:
            return max(1, min(int(str(value).strip() or 1), 100))
        except ValueError:
            return 1

    pool = ["0", "1", "2", "9", "10", "100", "101", "007", " ", "\t", "-", "+", "x", "²", "\uff12", "\u0663", "_"]
    for s in [None, ""] + _strings(random.Random(7), pool, 20000, 5):
        assert html_mod._span(s) == plain(s), repr(s)


def test_a_label_after_a_pipe_or_newline_starts_where_the_label_head_search_does():
    """_label_start answers at once when the window's last character (before a final newline)
    is "|" or a newline: the same start as _LABEL_HEAD.search over the window."""
    pool = ["|", "|", "\n", "\n", " ", "\t", "1", "2.", "、", "二、", "(一)", "件", "万元", "元", "予以", "\"", "a", "x|"]
    rng = random.Random(8)
    quick = 0
    for s in _strings(rng, pool, 30000, 9):
        for tail in ("", "\n"):
            text = "z" + s + tail + "公开"
            hi = len(text) - 2
            for lo in range(max(0, hi - 6), hi + 1):
                head = parse_mod._LABEL_HEAD.search(text, lo, hi)
                assert parse_mod._label_start(text, lo, hi) == (head.start() if head else hi), (repr(text), lo)
            end = hi - 1 if text[hi - 1] == "\n" else hi
            quick += text[end - 1] in "|\n"
    assert quick > 1000


def test_a_clean_row_cut_before_a_line_of_words_reads_as_the_row_alone():
    """_split_values reads a clean row followed by lines starting with words (the next table's
    header) as the clean row alone would read."""
    pool = [" ", "\t", "|", "|", "|", "0", "7", "12", "3456", "1" * 41, "a", "/", "\u3000"]
    rng = random.Random(9)
    cut = 0
    for n in (1, 7, 15):
        names = tuple(f"c{i}" for i in range(n))
        rows = [" |" + "".join(f"{rng.choice(['', ' '])}{rng.choice(pool)}{rng.choice(['', ' '])}|"
                               for _ in range(n + rng.randint(0, 3))) for _ in range(3000)]
        for s in rows:
            for later in ("\n行政复议 | 行政诉讼 |", "\n | 结果维持 |", "\n\n主办单位", "\n1 | 行政"):
                segment = s + later
                reader = parse_mod._Reader(segment, parse_mod._Findings())
                got = reader.read_row("t", "k", names, ("count",) * n, parse_mod._split_values(segment, n))
                if parse_mod._clean_row(n).fullmatch(s) and parse_mod._NEXT_ROW_LINE.search(segment):
                    cut += 1
                    want = parse_mod._Reader(s, parse_mod._Findings())
                    assert got == want.read_row("t", "k", names, ("count",) * n, parse_mod._split_values(s, n))
                    assert not reader.f.items and not reader.runs and not reader.short, repr(segment)
    assert cut > 100


def test_a_plain_decimal_cell_is_read_as_the_general_rule_reads_it():
    """read_cell's shortcut for a plain 万元 decimal ("490.12"): what the general reading gives
    the same number behind a stray mark ("490.12?", read past)."""
    from transforms import cells
    from transforms import formatspec as fs

    rng = random.Random(10)
    texts = ["490.12", "0.0000000", "0.0", "00.10", "12", "0490.120", "9" * 36 + ".5", "1." + "0" * 30]
    texts += ["".join(rng.choice("0123456789.") for _ in range(rng.randint(1, 12))) for _ in range(20000)]
    shortcut = 0
    for text in texts:
        if cells._DEC.match(text) and not text.isdigit() and len(text) < cells._MAX_CELL_CHARS:  # room for "?"
            shortcut += 1
            got, want = cells.read_cell(text, fs.DECIMAL), cells.read_cell(text + "?", fs.DECIMAL)
            assert got == want and type(got.value) is type(want.value), text
    assert shortcut > 1000
