"""The report parser: bytes in, the contract JSON object out (pure).

How it reads a report, whatever the layout (FORMAT.md §7):

1. Bytes become text: HTML tables are flattened to ``cell | cell |`` rows
   (``transforms.html``), PDFs to their text layer (``transforms.pdf``), plain text is
   taken as it is; then the characters are normalised (``transforms.normalize``).
2. Each table is found by its own markers, and each of its rows by the distinctive
   words of its label (``formatspec``), in template order. The values of a row are
   what stands between its label and the next label: split on ``|`` when the layout
   has pipes (blank cells stay blank, trailing filler cells are ignored), on
   whitespace otherwise (where blank cells vanish, so a short row is ambiguous).
3. Runs of digits whose cell boundaries were lost go to ``transforms.digits``, which
   splits them only where the invariants leave exactly one answer.
4. Values are read by the cell grammar (``transforms.cells``), never altered; blanks,
   "/" and unreadable cells are ``null`` with a finding; a derived value is flagged.
5. Metadata (agency, year) come from the title, the opening sentence and the
   statistical period; the registry's values, when given, take precedence.
6. The report's own arithmetic is checked (``transforms.checks``) and every
   violation becomes a finding: numbers are reported as printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from transforms import cells as cellgrammar
from transforms import checks as sumchecks
from transforms import evaluator, rowassign
from transforms import formatspec as fs
from transforms.decode import DOC, DOCX, HTML, PDF, Decoded, decode
from transforms.evidence import NAMES as EVIDENCE_NAMES
from transforms.evidence import S1, X1, X2, previous_in_force, previous_year_figures
from transforms.html import html_to_text
from transforms.normalize import compact, loose, norm_text
from transforms.pdfimages import PICTURE_MAGIC
from transforms.version import PARSER_VERSION

__all__ = ["PARSER_VERSION"]  # written in transforms/version.py; its name stays here for the callers
CONTRACT = "xxgk.report/1"

_CJK = re.compile(r"[\u4e00-\u9fff]")
_MAX_CELL_CHARS = cellgrammar._MAX_CELL_CHARS
_LINE_HAS_VALUE = re.compile(r"(?:^|[|\s])(?:\d+(?:\.\d+)?|[/\\-])\s*(?:\||$)")


# --------------------------------------------------------------------------- result
@dataclass
class ParseResult:
    report: dict
    text: str
    kind: str
    encoding: str | None = None
    title: str | None = None
    attachments: list[tuple[str, str]] = field(default_factory=list)


class _Findings:
    def __init__(self) -> None:
        self.items: list[dict] = []

    def add(self, code: str, message: str, where: str, severity: str | None = None) -> None:
        self.items.append({
            "code": code,
            "severity": severity or fs.FINDINGS.get(code, fs.WARNING),
            "message": message,
            "where": where,
        })


# --------------------------------------------------------------------------- patterns
def _alt(labels) -> str:
    return "|".join(loose(s) for s in labels)


_HEADING_NUMERALS = "一二三四五六"
_HEADING_BODY = fs.SECTION_HEADING.replace("[、.．]", r"[ \t]*[、.][ \t]*")
assert _HEADING_BODY.startswith(f"([{_HEADING_NUMERALS}])")
# Not after a CJK character: the look-behind stands after the numeral (spanning it and the
# character before), so that the pattern starts with a character set and re scans for it fast.
_HEADING = re.compile(f"([{_HEADING_NUMERALS}])(?<![\u4e00-\u9fff][{_HEADING_NUMERALS}])"
                      + _HEADING_BODY[len(f"([{_HEADING_NUMERALS}])"):])
_T1_START = re.compile(loose("第二十条") + r"[ \t\n]*第?[ \t\n]*\(?[ \t\n]*[一五六八九]")
_T2_START = re.compile(_alt(fs.APPLICATIONS_HEADER_MARKERS))
_T3_HEADER = re.compile(loose(fs.RL_HEADER_END))
_T3_DIRECT = re.compile(loose("未经复议直接起诉"))
_T3_TOTAL = re.compile(loose("总计"))
_T3_FALLBACK_HEADER = re.compile(loose("行政复议") + r"[\s|]*" + loose("行政诉讼"))
_LEGACY = re.compile(_alt(("依申请公开政府信息情况", "政府信息公开的收费及减免", "收费及减免情况")))
# The text just before a row's key that still belongs to its label: "(三)", "1.属于";
# never a unit glued to a number ("3119件"), which ends the line before.
_LABEL_HEAD = re.compile(
    r"(?!(?<=\d)(?:件|万元|元)(?![\u4e00-\u9fff]))(?:[一二三四][ \t]*、[ \t]*)?(?:\([一二三四五六七]\)[ \t]*)?(?:\d[ \t]*[.、][ \t]*)?[\u4e00-\u9fff\"'()]*$")
# Every character _LABEL_HEAD can match: a match lies within the run of these that ends the window.
_LABEL_HEAD_RUN = re.compile(r"[\u4e00-\u9fff\"'() \t\d.、]*")
# Whitespace layouts: values and label words, split apart even where they touch.
_TOKEN = cellgrammar.TOKEN
_LABEL_TAIL = re.compile(r"[^|\s\d/\\]*")
_TITLE_LINE = re.compile(r"政府信息公开.{0,12}报告")
_PERIOD = re.compile(
    r"(?P<y1>(?:19|20)\d{2})\s*年\s*0?1\s*月\s*0?1\s*日\s*起?\s*[,]?\s*(?:至|到|-|~|—)\s*"
    r"(?:(?P<y2>(?:19|20)\d{2})\s*年\s*)?12\s*月\s*31\s*日"
)
_PERIOD_END = re.compile(r"12\s*月\s*31\s*日")  # what every match of _PERIOD holds
_TITLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年\s*度?")
_OPENING_YEAR = re.compile(r"(?:公布|编制|发布)[^。]{0,40}?((?:19|20)\d{2})\s*年\s*度?[^。]{0,40}报告")
_AGENCY_PATTERNS = [
    re.compile(r"现(?:予)?(?:公布|发布)[《\"]?(?P<a>[\u4e00-\u9fff()]{2,40}?)(?:19|20)\d{2}\s*年度?[^。]{0,20}报告"),
    re.compile(r"特向社会公布(?:19|20)\d{2}\s*年度?(?P<a>[\u4e00-\u9fff()]{2,40}?)政府信息公开"),
    re.compile(r"特编制(?P<a>[\u4e00-\u9fff()]{2,40}?)(?:19|20)\d{2}\s*年"),
    re.compile(r"由(?P<a>[\u4e00-\u9fff()]{2,40}?)(?:根据|依据|按照|编制)"),
    re.compile(r"综合(?P<a>[\u4e00-\u9fff]{2,20}?)(?:人民)?政府各部门"),
    re.compile(r"请与(?P<a>[\u4e00-\u9fff]{2,40}?(?:办公室|办公厅|局|委员会|委|厅|政府|办|中心|街道办事处|镇|乡))"),
    re.compile(r"发布机构\s*[:|]\s*\|?\s*(?P<a>[\u4e00-\u9fff()]{2,40})"),
]


class _Terminators:
    """The next row terminator: a label of the list or a section heading.

    ``search`` is ``pattern.search``: every match starts with one of a few characters (each
    label's first, a heading's numeral), so only the positions holding one are tried, where
    the alternation (which re cannot scan for) would be tried at every position."""

    def __init__(self, labels: list[str]) -> None:
        self.pattern = re.compile("|".join(f"(?:{loose(x)})" for x in labels) + "|" + _HEADING.pattern)
        first = {c for x in labels for c in _first_chars(x)} | set(_HEADING_NUMERALS)
        self._first = re.compile("[" + "".join(re.escape(c) for c in sorted(first)) + "]")

    def search(self, text: str, pos: int, endpos: int) -> re.Match | None:
        candidate, match = self._first.search, self.pattern.match
        while (c := candidate(text, pos, endpos)) is not None:
            m = match(text, c.start(), endpos)
            if m:
                return m
            pos = c.start() + 1
        return None


def _first_chars(label: str) -> str:
    """The characters loose(label) can start with."""
    first = compact(label)[0]
    return ".、" if first in ".、" else first


_T1_END = _Terminators(["第二十条", "信息内容", *fs.AD_NONSTANDARD_ROWS])
_T2_END = _Terminators([g.match[0] for g in fs.APP_GROUPS] + list(fs.APP_SECTION_LABELS))


def _row_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(_alt(keys))


# Each key of a row on its own, for finding a row out of order (FORMAT.md §9.1 keys).
_ALTERNATIVES = {r.key: tuple(re.compile(loose(k)) for k in r.match) for r in fs.APP_ROWS} | {
    it.key: tuple(re.compile(loose(k)) for k in it.match) for tpl in fs.TEMPLATES for it in fs.AD_ITEMS[tpl]}
_AD_ROW_RE = {tpl: [(it, _row_pattern(it.match)) for it in fs.AD_ITEMS[tpl]] for tpl in fs.TEMPLATES}
_APP_ROW_RE = {tpl: [(r, _row_pattern(r.match)) for r in fs.app_rows(tpl)] for tpl in fs.TEMPLATES}
# What the table readers search for, per template (read only): (row key, pattern) in template order.
_AD_FIND = {tpl: tuple((it.key, rx) for it, rx in rows) for tpl, rows in _AD_ROW_RE.items()}
_APP_FIND = {tpl: tuple((r.key, rx) for r, rx in rows) for tpl, rows in _APP_ROW_RE.items()}
_AD_N_OF = {tpl: {it.key: len(it.measures) for it in fs.AD_ITEMS[tpl]} for tpl in fs.TEMPLATES}
_APP_NAMES = tuple(c.key for c in fs.APPLICANT_COLUMNS)
_APP_ROWS = {tpl: fs.app_rows(tpl) for tpl in fs.TEMPLATES}
_AD_VTYPES = {tpl: {it.key: tuple(fs.AD_MEASURES[tpl][m].vtype for m in it.measures) for it in fs.AD_ITEMS[tpl]}
              for tpl in fs.TEMPLATES}
_AD_MARKER_RE = {tpl: tuple(re.compile(loose(m)) for m in fs.AD_MARKERS[tpl]) for tpl in fs.TEMPLATES}
_AD_NONSTANDARD_RE = tuple((x, re.compile(loose(x))) for x in fs.AD_NONSTANDARD_ROWS)
_APP_F2021_MARKER_RE = tuple(re.compile(loose(m)) for m in fs.APP_MARKERS[fs.F2021])
_SUBTOTAL_COLUMN = re.compile(loose("小计"))
_CELL_GAP = re.compile(r"[\s|]+")
_LINE_OR_EMPTY = re.compile(r"[^\n]*\n?")
_LINE = re.compile(r"[^\n]+")
_MARKDOWN_RULE = re.compile(r"[\s|:-]*")
_VALUE_CHAR = re.compile(r"\d|/|-")
_DIGIT_OR_SLASH = re.compile(r"[\d/]")
_PIPE_OR_NEWLINE = re.compile(r"[|\n]")


def _row_heads() -> dict[str, dict[str, tuple[str, ...]]]:
    """Per table and row: the texts that may stand before the row's numbers in PDF text
    (its own label, its group's, the section's "三、本年度办理结果", its block's caption)."""
    key = rowassign.label_key
    groups = {g.key: g.label for g in fs.APP_GROUPS}
    app: dict[str, tuple[str, ...]] = {}
    for row in fs.APP_ROWS:
        texts = [key(row.label)]
        if row.group:
            texts.append(key(groups[row.group]))
        if row.leaf or row.key == fs.TOTAL_PROCESSED:
            texts += [key(x) for x in fs.APP_SECTION_LABELS]
        app[row.key] = tuple(texts)
    ad = {it.key: (key(it.label), key(it.block)) for tpl in fs.TEMPLATES for it in fs.AD_ITEMS[tpl]}
    return {fs.APPLICATIONS: app, fs.ACTIVE_DISCLOSURE: ad}


_HEADS = _row_heads()


# --------------------------------------------------------------------------- regions
@dataclass(slots=True)  # made per row: no __dict__ to build
class _Region:
    """What stands between a row's label and the next label."""

    key: str
    label_start: int
    value_start: int
    end: int = -1


# Rows whose key words also occur in the header or in other labels ("总计", "其他处理", "3.其他"):
# found only in template order, never out of it.
_IN_ORDER_ONLY = frozenset({fs.TOTAL_PROCESSED, fs.OTHER_PROCESSING, fs.OTHER_OTHER})


def _find_rows(text: str, start: int, end: int, rows) -> list[_Region]:
    """Find each row label in order; a label not found leaves the search position.

    A row missing from the ordered pass (an extractor printed it earlier, out of the
    template's order) is taken from where its label is, if it is there exactly once
    outside the labels already found. Regions come back sorted by position.
    """
    found: list[_Region] = []
    missing = []
    pos = start
    for key, pattern in rows:
        m = pattern.search(text, pos, end)
        if not m:
            missing.append((key, pattern))
            continue
        # _region_at inlined (once per row); _LABEL_TAIL matches anywhere (if only "")
        label = m.start()
        head = _label_start(text, label - 40 if label - 40 > pos else pos, label)
        pos = _LABEL_TAIL.match(text, m.end(), end).end()
        found.append(_Region(key, head, pos))
    for key, pattern in missing:
        if key in _IN_ORDER_ONLY or not found:
            continue
        spans = [(r.label_start, r.value_start) for r in found]
        for alternative in _ALTERNATIVES.get(key, (pattern,)):  # one label may hold two of its keys
            free = [m for m in alternative.finditer(text, found[0].label_start, end)
                    if not any(a < m.end() and m.start() < b for a, b in spans)]
            if len(free) == 1:
                found.append(_region_at(text, key, free[0], max(start, free[0].start() - 40), end))
                found.sort(key=lambda r: r.label_start)
            if free:
                break
    return found


def _region_at(text: str, key: str, m: re.Match, lo: int, end: int) -> _Region:
    label_start = _label_start(text, lo, m.start())
    tail = _LABEL_TAIL.match(text, m.end(), end)
    return _Region(key, label_start, tail.end() if tail else m.end())


def _label_start(text: str, lo: int, hi: int) -> int:
    """Where _LABEL_HEAD.search(text, lo, hi) starts, searched only from where it can.

    The pattern ends in ``$`` (the window end, or just before a newline ending it) and
    every character it matches is in _LABEL_HEAD_RUN, so a match starts inside the run of
    those characters that ends the window: starting the search there skips the positions
    where the regex would scan ahead only to fail (the search was quadratic in the window).
    """
    end = hi - 1 if hi > lo and text[hi - 1] == "\n" else hi
    if end > lo and text[end - 1] in "|\n":
        # No run (neither is a run character; not a digit, so the pattern's look-ahead
        # does not apply): the pattern matches, if only "", at ``end`` (then "$").
        return end
    run = _LABEL_HEAD_RUN.match(text[lo:end][::-1])
    head = _LABEL_HEAD.search(text, end - run.end(), hi)
    return head.start() if head else hi


def _close_regions(text: str, regions: list[_Region], end: int, terminators: _Terminators) -> None:
    # terminators.search inlined (once per row): most rows hold no candidate character at all
    candidate, match = terminators._first.search, terminators.pattern.match
    last = len(regions) - 1
    for i, reg in enumerate(regions):
        limit = regions[i + 1].label_start if i < last else end
        pos = reg.value_start
        reg.end = limit
        while (c := candidate(text, pos, limit)) is not None:
            m = match(text, c.start(), limit)
            if m:
                reg.end = m.start()
                break
            pos = c.start() + 1


@dataclass(slots=True)  # made per row: no __dict__ to build
class _Values:
    raw: list[str | None]  # raw cell texts, None where the layout lost the cell
    run: str | None = None  # a run of digits standing for several cells
    mode: str = "pipe"
    short: bool = False  # fewer values than cells in a layout that drops blanks
    digits: bool = False  # every cell plain ASCII digits, none too long to be a number (a clean row)


_CLEAN_ROWS: dict[int, re.Pattern[str]] = {}


def _clean_row(n: int) -> re.Pattern[str]:
    """A row of n cells of plain digits between pipes, then only empty filler cells: what the
    general reading below gives for it is those n digit strings (no later line, no label's
    fragment, fillers dropped), read at once."""
    rx = _CLEAN_ROWS.get(n)
    if rx is None:
        rx = _CLEAN_ROWS[n] = re.compile(
            r"[ \t]*\|" + rf"[ \t]*([0-9]{{1,{_MAX_CELL_CHARS}}})[ \t]*\|" * n + r"(?:[ \t]*\|)*\s*")
    return rx


def _split_values(segment: str, n: int) -> _Values:
    if "|" in segment:
        clean = _clean_row(n).fullmatch(segment) if n > 0 else None
        if clean:
            return _Values(list(clean.groups()), digits=True)
        cut = _NEXT_ROW_LINE.search(segment)
        if cut and any(cellgrammar.is_value_token(c.strip()) for c in segment[:cut.start()].split("|")):
            segment = segment[:cut.start()]  # a later line starting with words is another row's
            clean = _clean_row(n).fullmatch(segment) if n > 0 else None
            if clean:  # a clean row before that line: what the reading below gives it, at once
                return _Values(list(clean.groups()), digits=True)
        parts = segment.split("|")
        cells = [p.strip() for p in parts[1:]] if parts[0].strip() == "" or not cellgrammar.is_value_token(
            parts[0].strip()) else [p.strip() for p in parts]
        if len(cells) > n and "\n" in parts[-1] and not parts[-1].split("\n", 1)[0].strip():
            cells.pop()  # text on a later line after the row's last "|" is no cell of it (a lone "1")
        while len(cells) > n and not cells[-1]:
            cells.pop()  # trailing filler cells of merged cells (FORMAT.md §7.2)
        if len(cells) > n:
            # More cells than the row has: a label's fragment ("予公开") or an extra empty cell
            # stands among them. Only a reading that keeps exactly n values is proved.
            cells = [c for c in cells if not c or cellgrammar.is_value_token(c)]
            if len(cells) > n:
                filled = [c for c in cells if c]
                if len(filled) != n:
                    return _Values([None] * n, short=True)
                cells = filled
        if len(cells) < n:
            cells += [""] * (n - len(cells))
        return _Values(list(cells))
    tokens = _TOKEN.findall(segment)
    # Only the rest of a wrapped label may stand before the values, not running text.
    skipped = 0
    while tokens and not cellgrammar.is_value_token(tokens[0]) and skipped < 4 and len(tokens[0]) <= 40:
        tokens.pop(0)
        skipped += 1
    values: list[str] = []
    for tok in tokens:
        if not cellgrammar.is_value_token(tok):
            break
        values.append(tok)
    if len(values) == 1 and n > 1 and values[0].replace(".", "").isdigit() and len(values[0]) >= n:
        return _Values([None] * n, run=values[0], mode="space")
    if len(values) == n:
        return _Values(values, mode="space")
    if len(values) > n:  # a stray number (a lone "1", a page number) among them: which one is unknown
        return _Values([None] * n, mode="space", short=True)
    if not values:
        return _Values([""] * n, mode="space")
    return _Values([None] * n, mode="space", short=True, run=None) if n > 1 else _Values(values, mode="space")


# H2 as the rule book states it (the total column, the columns it sums), read through the
# evaluator; the row readers below rely on the total being the last column, checked here.
_APP_TOTAL, _APP_PARTS = evaluator.row_total(fs.APPLICATIONS)
if (*_APP_PARTS, _APP_TOTAL) != tuple(c.key for c in fs.APPLICANT_COLUMNS):
    raise ValueError("the applications row sum is not 'the last column = the sum of the others'")


def _pick_by_row_sum(tokens: list[str], n: int, max_extra: int = 3) -> list[str] | None:
    """More numbers than cells in a row (a stray page number, a lone "1"): the one reading
    whose 总计 is the sum of the other cells (H2), when every such reading gives the same
    cells; None when none or several do."""
    extra = len(tokens) - n
    if not 0 < extra <= max_extra or not all(t.isdigit() for t in tokens):
        return None
    from itertools import combinations

    found: set[tuple[str, ...]] = set()
    for drop in combinations(range(len(tokens)), extra):
        kept = tuple(t for i, t in enumerate(tokens) if i not in drop)
        if int(kept[-1]) == sum(int(t) for t in kept[:-1]):  # _APP_TOTAL last (checked above)
            found.add(kept)
            if len(found) > 1:
                return None
    return list(found.pop()) if found else None


# A line that starts with words: in a row-per-line layout, the next row (whose label the
# parser did not recognise, e.g. truncated), never more cells of this one.
_NEXT_ROW_LINE = re.compile(r"\n[ \t|]*[\u4e00-\u9fff]")
# Page footers a PDF prints inside a table ("— 5 —", "- 12 -", "第 3 页", "第3页 共9页").
_PAGE_FOOTER = re.compile(r"^[ \t]*(?:-+[ \t]*\d{1,3}[ \t]*-+|第[ \t]*\d{1,3}[ \t]*页(?:[ \t]*[,/]?[ \t]*共[ \t]*\d{1,3}[ \t]*页)?)"
                          r"[ \t]*$", re.M)
# What every footer holds, searched without the line anchors (which re tries at every position):
# a text without it has no footer.
_PAGE_FOOTER_CORE = re.compile(r"-[ \t]*\d{1,3}[ \t]*-|第[ \t]*\d{1,3}[ \t]*页")


# A local subtotal row the template does not have ("(三)不予公开小计", "合计").
_LOCAL_SUBTOTAL = re.compile(r"(?:\([一二三四五六七八九]\)[ \t]*)?[\u4e00-\u9fff]{0,20}(?:小计|合计)(?![\u4e00-\u9fff])")


# --------------------------------------------------------------------------- tables
_RL_NAMES = tuple((g.key, o.key) for g in fs.RL_GROUPS for o in fs.RL_OUTCOMES)  # the 15 cells of table 3
_RL_FLAT_NAMES = tuple(f"{g}.{o}" for g, o in _RL_NAMES)  # as one row: "group.outcome"


@dataclass(slots=True)
class _TableRead:
    template: str | None
    values: dict[str, dict[str, int | float | None]]
    present: bool


class _Reader:
    def __init__(self, text: str, findings: _Findings, narrative_hint: dict | None = None) -> None:
        self.text = text
        self.f = findings
        self.runs: dict[str, dict[str, str]] = {}
        # Row keys per table in reading order (a dict, not a set: findings must not depend on
        # the interpreter's string hashing, which changes from process to process).
        self.short: dict[str, dict[str, None]] = {}
        self.unproved: dict[str, dict[str, None]] = {}  # rows whose values no evidence places
        self.extra_dropped: dict[str, dict[str, list[str]]] = {}  # rows read past a stray value

    # -- cells
    def read_row(self, table: str, key: str, names: tuple[str, ...], vtypes: tuple[str, ...],
                 vals: _Values) -> dict[str, int | float | None]:
        raws = vals.raw
        if vals.digits and fs.AMOUNT not in vtypes and len(raws) == len(names) == len(vtypes):
            return dict(zip(names, map(int, raws), strict=False))  # read_cell's fast case, every cell
        if (vals.run is None and not vals.short and len(raws) == len(names) == len(vtypes) and None not in raws
                and all(raws) and fs.AMOUNT not in vtypes):
            joined = "".join(raws)  # every cell plain ASCII digits (most rows): read_cell's fast case
            if len(joined) <= _MAX_CELL_CHARS and joined.isdigit() and joined.isascii():
                return dict(zip(names, map(int, raws), strict=False))
        out: dict[str, int | float | None] = {}
        for name, vtype, raw in zip(names, vtypes, raws, strict=True):
            if raw is None:
                out[name] = None
                continue
            # read_cell's fast case inlined (most cells): plain digits, no finding
            if raw.isdigit() and raw.isascii() and len(raw) <= _MAX_CELL_CHARS and vtype != fs.AMOUNT:
                out[name] = int(raw)
                continue
            cell = cellgrammar.read_cell(raw, vtype)
            out[name] = cell.value
            if cell.marker is None and cell.note is None:
                continue
            where = f"{table}.{key}.{name}"
            if cell.marker == cellgrammar.BLANK:
                self.f.add("cell_blank", "the cell is blank", where)
            elif cell.marker == cellgrammar.NA:
                self.f.add("cell_not_applicable", cell.note or "not applicable", where)
            elif cell.marker == cellgrammar.UNREADABLE:
                self.f.add("cell_unreadable", cell.note or f"cannot read {raw!r}", where)
            elif cell.note:
                self.f.add("unit_uncertain" if vtype == fs.AMOUNT else "cell_derived", cell.note, where)
        if vals.run is not None:
            self.runs.setdefault(table, {})[key] = vals.run
        elif vals.short:
            self.short.setdefault(table, {})[key] = None
        return out

    def _space_values(self, table: str, regions: list[_Region], start: int,
                      n_of: dict[str, int]) -> dict[str, _Values] | None:
        """Values per row in a layout without cell separators, placed on evidence only
        (``transforms.rowassign``); None for layouts with "|" (each row is its own line)."""
        end = regions[-1].end
        if self.text.find("|", regions[0].label_start, end) >= 0:  # "|" in that slice, without the copy
            return None
        labels = [rowassign.Label(r.key, r.label_start, r.value_start, n_of[r.key], _HEADS[table].get(r.key))
                  for r in regions]
        labels += self._local_subtotals(table, regions, end, n_of)
        got = rowassign.assign(self.text, start, end, labels)
        out: dict[str, _Values] = {}
        for reg in regions:
            n = n_of[reg.key]
            toks = got.values.get(reg.key)
            if reg.key in got.unproved:
                out[reg.key] = _Values([None] * n, mode="space")
                self.unproved.setdefault(table, {})[reg.key] = None
            elif reg.key in got.extra:
                picked = _pick_by_row_sum(got.extra[reg.key], n) if table == fs.APPLICATIONS else None
                if picked is None:
                    out[reg.key] = _Values([None] * n, mode="space", short=True)
                else:
                    out[reg.key] = _Values(picked, mode="space")
                    self.extra_dropped.setdefault(table, {})[reg.key] = got.extra[reg.key]
            elif reg.key in got.short:
                toks = got.short_tokens[reg.key]
                if len(toks) == 1 and n > 1 and toks[0].replace(".", "").isdigit() and len(toks[0]) >= n:
                    out[reg.key] = _Values([None] * n, run=toks[0], mode="space")
                elif n == 1:
                    out[reg.key] = _Values(list(toks), mode="space")
                else:
                    out[reg.key] = _Values([None] * n, mode="space", short=True)
            else:
                out[reg.key] = _Values(list(toks or [""] * n), mode="space")
        return out

    def _local_subtotals(self, table: str, regions: list[_Region], end: int,
                         n_of: dict[str, int]) -> list[rowassign.Label]:
        """Rows a report adds outside the template ("(三)不予公开小计", "合计"): labels of
        their own, so that their numbers go to them (and are dropped), never to a row's."""
        spans = [(r.label_start, r.value_start) for r in regions]
        out = []
        for m in _LOCAL_SUBTOTAL.finditer(self.text, regions[0].label_start, end):
            if any(a < m.end() and m.start() < b for a, b in spans):
                continue
            after = next((r for r in regions if r.label_start >= m.end()), regions[-1])
            out.append(rowassign.Label(f"_local_{m.start()}", m.start(), m.end(), n_of[after.key], None))
            self.f.add("nonstandard_row", f"a local row {rowassign.label_key(m.group(0))!r} outside the template "
                       "was read past", table)
        return out

    def missing_row(self, table: str, key: str, names) -> dict[str, None]:
        self.f.add("row_missing", f"row {key} not found in the table", f"{table}.{key}")
        return dict.fromkeys(names)

    # -- table 1
    def active_disclosure(self, start: int, end: int) -> _TableRead:
        seg = self.text[start:end]
        score = {tpl: sum(1 for rx in _AD_MARKER_RE[tpl] if rx.search(seg)) for tpl in fs.TEMPLATES}
        template = fs.F2019 if score[fs.F2019] > score[fs.F2021] else fs.F2021
        regions = _find_rows(self.text, start, end, _AD_FIND[template])
        # Without a caption (第二十条…), a word such as 规章 may just be narrative text.
        if not regions or (len(regions) < 3 and not _T1_START.search(seg)):
            return _TableRead(None, {}, False)
        _close_regions(self.text, regions, end, _T1_END)
        for extra, rx in _AD_NONSTANDARD_RE:
            if rx.search(seg):
                self.f.add("nonstandard_row", f"a local row {extra!r} outside the template was read past",
                           fs.ACTIVE_DISCLOSURE)
        by_key = {r.key: r for r in regions}
        n_of = _AD_N_OF[template]
        placed = self._space_values(fs.ACTIVE_DISCLOSURE, regions, start, n_of)
        values: dict[str, dict] = {}
        for item in fs.AD_ITEMS[template]:
            names = item.measures
            vtypes = _AD_VTYPES[template][item.key]
            reg = by_key.get(item.key)
            if reg is None:
                values[item.key] = self.missing_row(fs.ACTIVE_DISCLOSURE, item.key, names)
                continue
            if not placed and fs.AMOUNT not in vtypes:
                clean = _clean_row(len(names)).fullmatch(self.text, reg.value_start, reg.end)
                if clean:  # a clean row (most): what _split_values and read_row give it, at once
                    values[item.key] = dict(zip(names, map(int, clean.groups()), strict=False))
                    continue
            vals = placed[item.key] if placed else _split_values(self.text[reg.value_start:reg.end], len(names))
            values[item.key] = self.read_row(fs.ACTIVE_DISCLOSURE, item.key, names, vtypes, vals)
        return _TableRead(template, values, True)

    # -- table 2
    def applications(self, start: int, end: int) -> _TableRead:
        seg = self.text[start:end]
        template = fs.F2021 if any(rx.search(seg) for rx in _APP_F2021_MARKER_RE) else fs.F2019
        regions = _find_rows(self.text, start, end, _APP_FIND[template])
        # Without the table's own header, a lone label may be narrative text ("本年新收…").
        if not regions or (len(regions) < 3 and not _T2_START.search(seg)):
            return _TableRead(None, {}, False)
        if template == fs.F2019 and not any(r.key == fs.OTHER_PROCESSING for r in regions):
            template = fs.F2021  # neither form of (六) found: keep the current template
        _close_regions(self.text, regions, end, _T2_END)
        by_key = {r.key: r for r in regions}
        names = _APP_NAMES
        vtypes = (fs.COUNT,) * len(names)
        # A 法人或其他组织 小计 column is not in the template (FORMAT.md §4.1): read past it.
        subtotal = bool(_SUBTOTAL_COLUMN.search(self.text, start, regions[0].label_start))
        if subtotal:
            self.f.add("nonstandard_row", "the table adds a 法人或其他组织 小计 column; it is read past",
                       fs.APPLICATIONS)
        values: dict[str, dict] = {}
        placed = self._space_values(fs.APPLICATIONS, regions, start, dict.fromkeys(by_key, len(names) + subtotal))
        clean_row = None if placed or subtotal else _clean_row(len(names))
        unclean = False  # a row of by_key not read as a clean row
        for row in _APP_ROWS[template]:
            reg = by_key.get(row.key)
            if reg is None:
                values[row.key] = self.missing_row(fs.APPLICATIONS, row.key, names)
                continue
            if clean_row is not None:
                clean = clean_row.fullmatch(self.text, reg.value_start, reg.end)
                if not clean and (cut := _NEXT_ROW_LINE.search(self.text, reg.value_start, reg.end)):
                    # a clean row, then lines that start with words (the table's last row before the
                    # next table's header): _split_values cuts the segment there, as here
                    clean = clean_row.fullmatch(self.text, reg.value_start, cut.start())
                if clean:  # a clean row (most): what _split_values and read_row give it, at once
                    values[row.key] = dict(zip(names, map(int, clean.groups()), strict=False))  # as many groups
                    continue
            unclean = True
            vals = placed[row.key] if placed else _split_values(self.text[reg.value_start:reg.end],
                                                                 len(names) + subtotal)
            if subtotal and vals.run is None and not vals.short:
                vals.raw = vals.raw[:6] + vals.raw[7:]
            elif subtotal:
                vals = _Values([None] * len(names), mode=vals.mode, short=True)
            values[row.key] = self.read_row(fs.APPLICATIONS, row.key, names, vtypes, vals)
        if unclean:  # a clean row has every cell: no merged cell to find in it
            self._merged_zero_rows(values, by_key)
        return _TableRead(template, values, True)

    def _merged_zero_rows(self, values: dict, by_key: dict[str, _Region]) -> None:
        """One "0" spanning all seven columns (FORMAT.md §7.8): every cell is 0."""
        for key, reg in by_key.items():
            row = values.get(key) or {}
            if len(row) > 1 and None not in row.values():
                continue  # every cell read (most rows): the test below would fail on the second
            if not all(v is None for k, v in row.items() if k != fs.NATURAL_PERSON):
                continue  # cells were read: no merged cell
            raw = self.text[reg.value_start:reg.end].split("|")[1:]
            # Converters print fillers as bare "||" (no spaces): seven columns merged into one.
            if (raw and raw[0].strip() == "0" and all(not c.strip() for c in raw[1:])
                    and sum(1 for c in raw[1:] if c == "") >= 6):
                for col in row:
                    if row[col] is None:
                        row[col] = 0
                        where = f"{fs.APPLICATIONS}.{key}.{col}"
                        self.f.items = [x for x in self.f.items if x["where"] != where]
                        self.f.add("cell_derived", "one merged cell printed 0 for the whole row", where)

    # -- table 3
    def _review_litigation_subtables(self, start: int, end: int) -> _TableRead | None:
        """The table printed as three sub-tables, each under its own header (行政复议 /
        行政诉讼(未经复议直接起诉) / 行政诉讼(复议后起诉)): each group's five numbers are
        the ones under its own header, never the first five after the last header."""
        direct = _T3_DIRECT.search(self.text, start, end)
        after = _T3_HEADER.search(self.text, direct.end(), end) if direct else None
        if not direct or not after:
            return None
        stop = _HEADING.search(self.text, after.end(), end)
        zones = {fs.ADMIN_REVIEW: (start, direct.start()), fs.LITIGATION_DIRECT: (direct.end(), after.start()),
                 fs.LITIGATION_AFTER_REVIEW: (after.end(), stop.start() if stop else end)}
        found: dict[str, list[str]] = {}
        for group, (lo, hi) in zones.items():
            heads = list(_T3_TOTAL.finditer(self.text, lo, hi))
            if not heads:
                if group == fs.ADMIN_REVIEW:
                    return None
                # no header row of its own (an extractor dropped it as a repeat): the
                # sub-table's numbers are its first line of numbers only, under its caption
                found[group] = next((toks for ln in self.text[lo:hi].split("\n")
                                     if (toks := [t for t in _CELL_GAP.split(ln) if t])
                                     and all(cellgrammar.is_value_token(t) for t in toks)), [])
                continue
            tokens = []
            for tok in _CELL_GAP.split(self.text[heads[-1].end():hi]):
                if not tok:
                    continue
                if not cellgrammar.is_value_token(tok):
                    break
                tokens.append(tok)
            found[group] = tokens
        if not found.get(fs.LITIGATION_DIRECT):
            return None  # no numbers between the two litigation headers: the one-table layout
        values: dict[str, dict] = {}
        outcomes = tuple(o.key for o in fs.RL_OUTCOMES)
        for g in fs.RL_GROUPS:
            tokens = found.get(g.key) or []
            if len(tokens) == len(outcomes):
                values[g.key] = self.read_row(fs.REVIEW_LITIGATION, g.key, outcomes, (fs.COUNT,) * 5,
                                              _Values(tokens, mode="space"))
            else:
                values[g.key] = dict.fromkeys(outcomes)
                for o in outcomes:
                    self.f.add("cell_ambiguous", f"the {g.label} sub-table shows {len(tokens)} numbers "
                               f"for {len(outcomes)} cells", f"{fs.REVIEW_LITIGATION}.{g.key}.{o}")
        return _TableRead(fs.STANDARD, values, True)

    def review_litigation(self, start: int, end: int) -> _TableRead:
        split = self._review_litigation_subtables(start, end)
        if split:
            return split
        m = _T3_HEADER.search(self.text, start, end) or _T3_FALLBACK_HEADER.search(self.text, start, end)
        seg_start = None
        if m:
            pos = m.end()
            for line in _LINE_OR_EMPTY.finditer(self.text[pos:end]):
                s = line.group(0)
                if not s:
                    break
                if "---" in s and _MARKDOWN_RULE.fullmatch(s):
                    continue  # a markdown separator line, not a row of values
                if not _CJK.search(s) and _VALUE_CHAR.search(s):
                    seg_start = pos + line.start()
                    break
        if m and seg_start is None:  # cells ran together on one line: values follow the header words
            v = _DIGIT_OR_SLASH.search(self.text, m.end(), end)
            if v and not _PIPE_OR_NEWLINE.search(self.text, m.end(), v.start()):
                seg_start = v.start()
        if seg_start is None:  # headers typeset vertically: match the 15-number line
            for line in _LINE.finditer(self.text[start:end]):
                toks = [t for t in _CELL_GAP.split(line.group(0)) if t]
                if len(toks) == 15 and all(cellgrammar.is_value_token(t) for t in toks):
                    seg_start = start + line.start()
                    break
        if seg_start is None:
            return _TableRead(None, {}, False)
        stop = _HEADING.search(self.text, seg_start, end)
        seg_end = stop.start() if stop else end
        cjk = _CJK.search(self.text, seg_start, seg_end)
        if cjk and "|" not in self.text[seg_start:cjk.start()]:
            seg_end = cjk.start()
        segment = self.text[seg_start:seg_end]
        if "|" in segment and not segment.lstrip().startswith("|"):
            segment = "|" + segment  # no label cell before the values: the first cell is a value
        vals = _split_values(segment, 15)
        flat = self.read_row(fs.REVIEW_LITIGATION, "_all", _RL_FLAT_NAMES, (fs.COUNT,) * 15, vals)
        values: dict[str, dict] = {g.key: {} for g in fs.RL_GROUPS}
        for (g, o), name in zip(_RL_NAMES, _RL_FLAT_NAMES, strict=True):
            values[g][o] = flat[name]
        for f in self.f.items:  # cell paths were written as review_litigation._all.g.o
            if f["where"].startswith(f"{fs.REVIEW_LITIGATION}._all."):
                f["where"] = fs.REVIEW_LITIGATION + "." + f["where"].split("._all.", 1)[1]
        if fs.REVIEW_LITIGATION in self.runs:
            self.runs[fs.REVIEW_LITIGATION] = {"_all": self.runs[fs.REVIEW_LITIGATION]["_all"]}
        return _TableRead(fs.STANDARD, values, True)


# --------------------------------------------------------------------------- metadata
_TITLE_PREFIX = re.compile(r"^(标题|题名|名称)\s*:\s*")
_AGENCY_LIKE = re.compile(
    r"^[\u4e00-\u9fff()]{2,40}(局|办|委|会|厅|院|府|处|室|中心|镇|乡|街道|区|县|市|州|盟|旗|所|站|队|部|署|行|司|馆|社|团|校|场|台|学|关|村|组|园|科)$")
# Words of a page's navigation or of a quoted document title: an agency name never holds them.
_NOT_AGENCY = re.compile(
    r"关于|印发|通知|条例|格式|栏目|首页|当前位置|您的位置|信息公开|年报|年度报告|发布时间|索引号|来源|"
    r"根据|按照|依据|现将|公布|编制(?!委员会)|本机关|我单位|中华人民共和国$|[:<>〈〉《》\"“”,。;、|/]")
# The tail of a name without the name ("办事处" from a title split inside the name).
_GENERIC_NAME = re.compile(r"^(?:本机关|我单位|(?:人民)?政府|(?:人民政府)?(?:办公室|办公厅)|(?:街道)?办事处|委员会|管委会|"
                           r"(?:管理)?局|办|中心)$")
_NAV_LINE = re.compile(r"^(首页|栏目|当前位置|您的位置|位置|发布时间|来源|字号|打印|关闭|分享|索引号|主题分类)")
_SPACES = re.compile(r"\s+")
_NAME_FRAGMENT = re.compile(r"[\u4e00-\u9fff()0-9]+年?度?")
_PROSE_START = re.compile(r"^(根据|按照|依据|本报告|现|特|为)")
_QUOTES = re.compile(r"[《》\"]")
_ANNOUNCEMENT = re.compile(r"^关于(?:公布|发布|公开)(?=.+的(?:公告|通知)$)")
_TITLE_AGENCY = re.compile(r"^(?:(?:19|20)\d{2}年度?)?(?P<a>.+?)(?:(?:19|20)\d{2}年度?)?(?:政府信息公开|信息公开).*报告")
_TRAILING_YEAR = re.compile(r"(?:19|20)\d{2}年度?$")
_TRAILING_ABOUT = re.compile(r"关于$")
_AGENCY_GENERIC = re.compile(r"人民政府|政府|办公室|办公厅|\(.*?\)|\s")
_MAX_TITLE_LINES = 4  # a title broken over lines (PDF text) spans at most this many


_CN_YEAR = re.compile(r"[〇零○一二三四五六七八九]{4}(?=\s*年)")
_CN_DIGITS = str.maketrans("〇零○一二三四五六七八九", "000123456789")


def _digit_years(line: str) -> str:
    """A title's year in Chinese numerals (二〇二三年, Word templates) as digits."""
    if "年" not in line:
        return line
    return _CN_YEAR.sub(lambda m: m.group(0).translate(_CN_DIGITS), line)


def _title_lines(text: str) -> list[str]:
    """The first lines, cleaned; only those a title can take (a line holding 报告 and the
    _MAX_TITLE_LINES - 1 before it): the others stay "" (no cleaning changes whether 报告 is in a line)."""
    raw = text[:8000].split("\n")[:80]
    need = {j for i, ln in enumerate(raw) if "报告" in ln for j in range(max(0, i - _MAX_TITLE_LINES + 1), i + 1)}
    return [_title_line(ln) if k in need else "" for k, ln in enumerate(raw)]


def _title_line(line: str) -> str:
    line = _digit_years(line.strip())
    return _TITLE_PREFIX.sub("", line).strip(" |") if "报告" in line else line.strip(" |")


def _name_fragment(line: str) -> bool:
    """Could this line be a piece of a title broken over lines (no prose, no navigation)?"""
    t = _SPACES.sub("", line)
    return (0 < len(t) <= 40 and "报告" not in t and not _NAV_LINE.match(t)
            and bool(_NAME_FRAGMENT.fullmatch(t)))


def _title_candidates(text: str, html_title: str | None) -> list[str]:
    """Title-like lines, most trustworthy first (the page's <title>, then the text).

    A title broken over lines (a PDF's two- to four-line title, a title split after its
    year or inside a word) is joined back: the widest run of name-like lines ending in
    the line that holds "报告" whose joined text names an agency.
    """
    candidates = []
    html_title = _digit_years(html_title) if html_title else html_title
    if html_title and _TITLE_LINE.search(html_title):
        # "site_report title" and "report title - site" both occur: take the part that is the title
        parts = [x.strip() for x in re.split(r"[_|]| - ", html_title)]
        candidates.append(next(x for x in parts if _TITLE_LINE.search(x)) if any(
            _TITLE_LINE.search(x) for x in parts) else parts[0])
    # Pages start with navigation menus: look further down, but only at title-like lines.
    lines = _title_lines(text)
    for i, line in enumerate(lines):
        if "报告" not in line or len(line) > 60 or "。" in line or _PROSE_START.match(line):
            continue
        best = None
        for j in range(i, max(-1, i - _MAX_TITLE_LINES), -1):
            if j < i and not _name_fragment(lines[j]):
                break
            joined = "".join(lines[j:i + 1])
            if _TITLE_LINE.search(joined) and _agency_from_title(joined):
                best = joined
        if best:
            candidates.append(best)
        elif _TITLE_LINE.search(line):
            candidates.append(line)
    return candidates


def _plausible_agency(name: str | None) -> str | None:
    """The name, or None when it is a fragment of prose, navigation or a quoted title."""
    if not name:
        return None
    name = name.strip("()-_ ")
    if len(name) < 2 or _GENERIC_NAME.match(name) or _NOT_AGENCY.search(name):
        return None
    if not _AGENCY_LIKE.match(name.rstrip("0123456789")):  # a numbered test agency ("六盘水市12") is a name
        return None
    return name


def _agency_from_title(title: str) -> str | None:
    t = _SPACES.sub("", title)
    t = _QUOTES.sub("", t)
    t = _ANNOUNCEMENT.sub("", t)  # "关于公布X…年度报告的公告"
    m = _TITLE_AGENCY.match(t)
    if not m:
        return None
    agency = m.group("a")
    agency = _TRAILING_YEAR.sub("", agency).strip("-_ ")
    agency = _TRAILING_ABOUT.sub("", agency)
    return _plausible_agency(agency)


def _year_of(text: str, titles: list[str]) -> tuple[int | None, int | None]:
    """(year the document states, year of its statistical period)."""
    title_year = None
    for title in titles:
        m = _TITLE_YEAR.search(title)
        if m:
            title_year = int(m.group(1))
            break
    period_year = None
    m = _PERIOD.search(text) if _PERIOD_END.search(text) else None  # its end is rarer than its start
    if m and (not m.group("y2") or m.group("y2") == m.group("y1")):
        period_year = int(m.group("y1"))
    if title_year:
        return title_year, period_year
    if period_year:
        return period_year, period_year
    m = _OPENING_YEAR.search(text[:1500])
    return (int(m.group(1)) if m else None), period_year


def _agency_of(text: str, titles: list[str]) -> str | None:
    for title in titles:
        agency = _agency_from_title(title)
        if agency:
            return agency
    head = text[:6000]
    for pattern in _AGENCY_PATTERNS:
        for m in pattern.finditer(head) if not pattern.pattern.startswith("请与") else pattern.finditer(text):
            agency = _plausible_agency(m.group("a").strip("()"))
            if agency:
                return agency
    return None


def _same_agency(a: str, b: str) -> bool:
    def core(s: str) -> str:
        return _AGENCY_GENERIC.sub("", s)

    ca, cb = core(a), core(b)
    return bool(ca and cb) and (ca in cb or cb in ca)


# --------------------------------------------------------------------------- entry points
# A running page header inside a table: the report's title line, year included, repeated at
# the top of each page. Its year is no cell of the row it lands among.
_RUNNING_HEADER = re.compile(r"^[ \t]*[^\n|\d]{0,60}?(?:19|20)\d{2}[ \t]*年度?[^\n|\d]{0,30}?报告[ \t]*$", re.M)


def _blank_running_headers(text: str, start: int, end: int) -> str:
    """Blank (same length, so positions hold) the running page headers between start and end."""
    def blank(m: re.Match) -> str:
        return " " * len(m.group(0))

    if start <= end and text.find("报告", start, end) < 0:  # a running header holds 报告
        return text
    return text[:start] + _RUNNING_HEADER.sub(blank, text[start:end]) + text[end:]


def _spans(text: str) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """Where each table may be: (start, end) per table, from its own markers."""
    n = len(text)
    m1 = _T1_START.search(text)
    m2 = _T2_START.search(text, m1.end() if m1 else 0) or _T2_START.search(text)
    headings = {h.group(1): h.start() for h in reversed(list(_HEADING.finditer(text)))}
    t1s = m1.start() if m1 else headings.get("二", 0)
    t2s = m2.start() if m2 else headings.get("三", t1s)
    t1e = min([p for p in (t2s, headings.get("三", n)) if p > t1s] or [n])
    t3h = _T3_HEADER.search(text, t2s)
    t2e = t3h.start() if t3h else headings.get("四", n) if headings.get("四", 0) > t2s else n
    t3e = headings.get("五", n) if headings.get("五", 0) > t2s else n
    return (t1s, t1e), (t2s, t2e), (t2s, max(t3e, t2e))


def _solve(digits, table: str, tr: _TableRead, runs: dict, narrative: dict | None, previous: dict | None):
    if table == fs.APPLICATIONS:
        rows = {k: (runs[k] if k in runs else [v[c] for c in v]) for k, v in tr.values.items()}
        return digits.solve_applications(rows, tr.template, {**(narrative or {}), **previous_year_figures(previous)})
    if table == fs.REVIEW_LITIGATION:
        return digits.solve_review_litigation(runs["_all"], narrative)
    rows = {k: (runs[k] if k in runs else list(v.values())) for k, v in tr.values.items()}
    return digits.solve_active_disclosure(rows, tr.template, narrative, previous_in_force(previous))


def _evidence_used(table: str, narrative: dict | None, previous: dict | None) -> str:
    from transforms.narrative import CELLS

    names = []
    if any(any(c.startswith(table + ".") for c in CELLS.get(k, (k,))) for k in narrative or {}):
        names.append(EVIDENCE_NAMES[S1])
    if table == fs.APPLICATIONS and previous_year_figures(previous):
        names.append(EVIDENCE_NAMES[X1])
    if table == fs.ACTIVE_DISCLOSURE and previous_in_force(previous):
        names.append(EVIDENCE_NAMES[X2])
    return "; ".join(names)


def _apply_runs(reader: _Reader, tables: dict[str, _TableRead], narrative: dict | None,
                previous: dict | None = None) -> None:
    """Split runs of digits with the invariants as constraints, or leave them null.

    Evidence beyond the table (the narrative's figures, the previous year's report) only
    chooses among the splits the invariants allow; a cell it decides names it."""
    if not reader.runs:
        return
    try:
        from transforms import digits
    except ImportError:  # pragma: no cover - the solver ships with the parser
        digits = None
    for table, runs in reader.runs.items():
        tr = tables[table]
        solution = base = None
        evidence = _evidence_used(table, narrative, previous)
        if digits is not None:
            try:
                solution = _solve(digits, table, tr, runs, narrative, previous)
                base = _solve(digits, table, tr, runs, None, None) if evidence else solution
            except Exception as exc:  # noqa: BLE001 - a solver failure leaves the cells null, reported
                reader.f.add("cell_ambiguous", f"could not split runs of digits: {exc}", table)
                solution = base = None
        for key, run in runs.items():
            if table == fs.REVIEW_LITIGATION:
                targets = [(g.key, o.key) for g in fs.RL_GROUPS for o in fs.RL_OUTCOMES]
            else:
                targets = [(key, c) for c in tr.values[key]]
            solved = _solved_cells(solution, table, key, targets)
            unaided = _solved_cells(base, table, key, targets)
            for (row, col), value, alone in zip(targets, solved, unaided, strict=True):
                where = f"{table}.{row}.{col}"
                if value is None:
                    cands = _candidates(solution, key)
                    reader.f.add("cell_ambiguous",
                                 f"cells ran together as {run!r}; several splits fit the invariants"
                                 + (f", e.g. {cands}" if cands else ""), where)
                else:
                    tr.values[row][col] = value
                    how = "the invariants" if alone == value else f"the invariants and {evidence}"
                    reader.f.add("cell_derived", f"split from the run of digits {run!r} with {how}", where)


def _solved_cells(solution, table: str, key: str, targets) -> list:
    if solution is None:
        return [None] * len(targets)
    values = getattr(solution, "values", None) or {}
    if table == fs.REVIEW_LITIGATION:
        got = values.get("_all") or values.get("review_litigation") or values
        if isinstance(got, dict):
            return [got.get(g, {}).get(o) if isinstance(got.get(g), dict) else None for g, o in targets]
        return list(got) if got else [None] * len(targets)
    got = values.get(key)
    if isinstance(got, dict):
        return [got.get(c) for _, c in targets]
    return list(got) if got else [None] * len(targets)


def _candidates(solution, key: str) -> str:
    amb = getattr(solution, "ambiguous", None) or {}
    cands = amb.get(key) or amb.get("_all")
    return "; ".join(str(list(c)) for c in list(cands)[:5]) if cands else ""


def _derive_totals(tables: dict[str, _TableRead], f: _Findings) -> None:
    """A blank 总计 whose six parts are printed is their sum, flagged (FORMAT.md §9.3)."""
    tr = tables.get(fs.APPLICATIONS)
    if not tr or not tr.present:
        return
    blank_totals = {x["where"] for x in f.items if x["code"] == "cell_blank"}
    for key, row in tr.values.items():
        if row.get(_APP_TOTAL) is not None:
            continue
        where = f"{fs.APPLICATIONS}.{key}.{_APP_TOTAL}"
        parts = [row.get(c) for c in _APP_PARTS]
        if where in blank_totals and all(isinstance(p, int) for p in parts):
            row[_APP_TOTAL] = sum(parts)
            f.items = [x for x in f.items if x["where"] != where]
            f.add("cell_derived", "总计 is blank; derived as the sum of the six applicant cells", where)


def parse_text(text: str, *, agency: str | None = None, year: int | None = None,
               html_title: str | None = None, attachments=(), images: int = 0,
               kind: str = "text", previous: dict | None = None) -> dict:
    """Parse normalised report text into the contract object.

    ``previous``: the same agency's report of the year before (a contract object), as
    extra evidence for runs of digits the invariants leave open (X1, X2; optional)."""
    f = _Findings()
    if ("-" in text or "页" in text) and _PAGE_FOOTER_CORE.search(text):  # every page footer holds one
        text = _PAGE_FOOTER.sub("", text)
    (t1s, t1e), (t2s, t2e), (t3s, t3e) = _spans(text)
    reader = _Reader(_blank_running_headers(text, min(t1s, t2s), max(t1e, t2e, t3e)), f)
    tables = {
        fs.ACTIVE_DISCLOSURE: reader.active_disclosure(t1s, t1e),
        fs.APPLICATIONS: reader.applications(t2s, t2e),
        fs.REVIEW_LITIGATION: reader.review_litigation(t3s, t3e),
    }
    narrative = None
    if reader.runs:
        try:
            from transforms.narrative import extract

            narrative = extract(text)
        except ImportError:  # pragma: no cover
            narrative = None
    _apply_runs(reader, tables, narrative, previous)
    for table, keys in reader.short.items():
        for key in keys:
            values = tables[table].values
            paths = ([f"{table}.{g}.{o}" for g in values for o in values[g]] if key == "_all"
                     else [f"{table}.{key}.{col}" for col in values[key]])
            for path in paths:
                f.add("cell_ambiguous", "fewer values than cells in a layout that drops blank cells: "
                      "which cells are blank is unknown", path)
    for table, keys in reader.unproved.items():
        for key in keys:
            for col in tables[table].values[key]:
                f.add("row_order_unproved", "the row's numbers stand apart from its label and nothing "
                      "(its line, its label's words, the table's order) proves which row they belong to",
                      f"{table}.{key}.{col}")
    for table, rows in reader.extra_dropped.items():
        for key, tokens in rows.items():
            for col, value in tables[table].values[key].items():
                if value is not None:
                    f.add("cell_derived", f"the row printed {len(tokens)} numbers {' '.join(tokens)!r} for "
                          f"{len(tables[table].values[key])} cells; the only reading whose 总计 is the sum of "
                          "the other cells (H2) was kept", f"{table}.{key}.{col}")
    _derive_totals(tables, f)

    legacy = not any(t.present for t in tables.values()) and bool(_LEGACY.search(text))
    for table, tr in tables.items():
        if tr.present:
            continue
        if legacy:
            reason = "the report follows the pre-2019 layout (out of scope)"
        elif images and not attachments:
            reason = "the table is not in the text (published as an image?)"
        elif attachments:
            reason = "the table is not in the text; the page links an attachment: " + attachments[0][0]
        else:
            reason = "the table is absent from the document"
        f.add("tables_missing", f"{fs.TABLE_LABELS[table]}: {reason}", table)
    if legacy:
        f.add("legacy_format", "pre-2019 report layout: not parsed into the current tables", "document")

    titles = _title_candidates(text, html_title)
    doc_agency = _agency_of(text, titles)
    doc_year, period_year = _year_of(text, titles)
    if doc_year and period_year and doc_year != period_year:
        f.add("metadata_conflict", f"title year {doc_year} but statistical period {period_year}", "year")
    out_agency, out_year = doc_agency, doc_year
    if agency:
        if doc_agency and not _same_agency(agency, doc_agency):
            f.add("metadata_conflict", f"registry says agency {agency!r}, the document {doc_agency!r}", "agency")
        out_agency = agency
    if year:
        if doc_year and int(year) != doc_year:
            f.add("metadata_conflict", f"registry says year {year}, the document {doc_year}", "year")
        out_year = int(year)
    if out_agency is None:
        f.add("metadata_missing", "the document does not name its agency", "agency")
    if out_year is None:
        f.add("metadata_missing", "the document does not state its year", "year")

    templates = {
        "active_disclosure": tables[fs.ACTIVE_DISCLOSURE].template,
        "applications": tables[fs.APPLICATIONS].template,
        "review_litigation": tables[fs.REVIEW_LITIGATION].template,
    }
    if out_year:
        for key in ("active_disclosure", "applications"):
            tpl = templates[key]
            if (tpl == fs.F2019 and out_year >= 2021) or (tpl == fs.F2021 and out_year <= 2020):
                f.add("template_year_mismatch", f"{key} uses the {tpl} template in a {out_year} report", key)
    report = {
        "contract": CONTRACT,
        "agency": out_agency,
        "year": out_year,
        "templates": templates,
        fs.ACTIVE_DISCLOSURE: tables[fs.ACTIVE_DISCLOSURE].values if tables[fs.ACTIVE_DISCLOSURE].present else None,
        fs.APPLICATIONS: tables[fs.APPLICATIONS].values if tables[fs.APPLICATIONS].present else None,
        fs.REVIEW_LITIGATION: tables[fs.REVIEW_LITIGATION].values if tables[fs.REVIEW_LITIGATION].present else None,
        "findings": f.items,
    }
    for res in sumchecks.failures(report):
        if res.status == sumchecks.FAIL:
            f.add("invariant_violation", f"{res.check_id}: {res.detail} ({res.expected} vs {res.actual})",
                  f"{res.check_id}[{res.scope}]" if res.scope else res.check_id, severity=res.severity)
    return report


PICTURE = "picture"  # the kind of a document that is itself a picture (PNG, JPEG, GIF, BMP, WebP)


def parse_document(data: bytes, *, agency: str | None = None, year: int | None = None,
                   content_type: str | None = None, previous: dict | None = None,
                   pictures: dict[str, bytes] | None = None) -> ParseResult:
    """Parse one report file (HTML, text or PDF, told apart by its bytes).

    ``previous`` (optional): the same agency's parsed report of the year before, whose
    结转下年度 and 现行有效件数 may decide runs of digits the invariants leave open.
    ``pictures`` (optional): the pictures a page shows, by ``<img>`` source, read by OCR
    for the tables its text lacks (transforms.imagetable)."""
    if data[:4].startswith(PICTURE_MAGIC):  # a report published as one picture: read by OCR
        dec = Decoded(PICTURE, "", None, None)
    else:
        dec = decode(data, content_type)
    title = None
    attachments: list[tuple[str, str]] = []
    images = 0
    pre_findings: list[tuple[str, str, str]] = []
    if dec.kind == PDF:
        try:
            from transforms.pdf import pdf_to_text

            raw_text = pdf_to_text(data)
        except Exception as exc:  # noqa: BLE001 - any PDF failure is a finding, not a crash
            raw_text = ""
            pre_findings.append(("cell_unreadable", f"the PDF cannot be read: {exc}", "document"))
        if not raw_text.strip():
            images = 1
    elif dec.kind == DOCX:
        from transforms.docx import DocxError, docx_to_text

        try:
            raw_text = docx_to_text(data)
        except DocxError as exc:
            raw_text = ""
            pre_findings.append(("cell_unreadable", f"the .docx cannot be read: {exc}", "document"))
    elif dec.kind == PICTURE:
        raw_text = ""
    elif dec.kind == DOC:
        raw_text = ""
        pre_findings.append(("cell_unreadable", "a legacy .doc (OLE) file: convert it to .docx or PDF", "document"))
    elif dec.kind == HTML:
        page = html_to_text(dec.text)
        raw_text, title, attachments, images = page.text, page.title, page.attachments, page.images
    else:
        raw_text = dec.text
    text = norm_text(raw_text)
    report = parse_text(text, agency=agency, year=year, html_title=norm_text(title) if title else None,
                        attachments=attachments, images=images, kind=dec.kind, previous=previous)
    if any(report[t] is None for t in fs.TABLES) and (dec.kind in (PDF, DOCX, PICTURE) or (dec.kind == HTML and pictures)):
        from transforms.imagetable import read_pictures  # OCR: only for tables the text lacks

        report = read_pictures(report, data, dec.kind, html=dec.text if dec.kind == HTML else None,
                               pictures=pictures, agency=agency, year=year)
    for code, message, where in pre_findings:
        report["findings"].insert(0, {"code": code, "severity": fs.ERROR, "message": message, "where": where})
    return ParseResult(report, text, dec.kind, dec.encoding, title, attachments)


def parse_report(data: bytes, *, agency: str | None = None, year: int | None = None,
                 content_type: str | None = None, previous: dict | None = None) -> dict:
    return parse_document(data, agency=agency, year=year, content_type=content_type, previous=previous).report
