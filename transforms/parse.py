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
from transforms import formatspec as fs
from transforms.decode import DOC, DOCX, HTML, PDF, decode
from transforms.html import html_to_text
from transforms.normalize import loose, norm_text

PARSER_VERSION = "1.2.0"
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


_HEADING = re.compile(r"(?<![\u4e00-\u9fff])" + fs.SECTION_HEADING.replace("[、.．]", r"[ \t]*[、.][ \t]*"))
_T1_START = re.compile(loose("第二十条") + r"[ \t\n]*第?[ \t\n]*\(?[ \t\n]*[一五六八九]")
_T1_TERMINATORS = [loose("第二十条"), loose("信息内容")] + [loose(x) for x in fs.AD_NONSTANDARD_ROWS]
_T2_START = re.compile(_alt(fs.APPLICATIONS_HEADER_MARKERS))
_T2_TERMINATORS = [g.match[0] for g in fs.APP_GROUPS] + list(fs.APP_SECTION_LABELS)
_T3_HEADER = re.compile(loose(fs.RL_HEADER_END))
_T3_FALLBACK_HEADER = re.compile(loose("行政复议") + r"[\s|]*" + loose("行政诉讼"))
_LEGACY = re.compile(_alt(("依申请公开政府信息情况", "政府信息公开的收费及减免", "收费及减免情况")))
# The text just before a row's key that still belongs to its label: "(三)", "1.属于".
_LABEL_HEAD = re.compile(
    r"(?:[一二三四][ \t]*、[ \t]*)?(?:\([一二三四五六七]\)[ \t]*)?(?:\d[ \t]*[.、][ \t]*)?[\u4e00-\u9fff\"'()]*$")
# Every character _LABEL_HEAD can match: a match lies within the run of these that ends the window.
_LABEL_HEAD_RUN = re.compile(r"[\u4e00-\u9fff\"'() \t\d.、]*")
# Whitespace layouts: values and label words, split apart even where they touch.
_TOKEN = re.compile(r"[+-]?\d[\d,，]*(?:\.\d+)?(?:万元|元|件)?|[/\\×]+|-{1,3}|[^\s\d/\\|+-]+|[+-]")
_LABEL_TAIL = re.compile(r"[^|\s\d/\\]*")
_TITLE_LINE = re.compile(r"政府信息公开.{0,12}报告")
_PERIOD = re.compile(
    r"(?P<y1>(?:19|20)\d{2})\s*年\s*0?1\s*月\s*0?1\s*日\s*起?\s*[,]?\s*(?:至|到|-|~|—)\s*"
    r"(?:(?P<y2>(?:19|20)\d{2})\s*年\s*)?12\s*月\s*31\s*日"
)
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


def _terminator_re(extra: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for p in extra) + "|" + _HEADING.pattern)


_T1_END = _terminator_re(_T1_TERMINATORS)
_T2_END = _terminator_re(_T2_TERMINATORS)


def _row_pattern(keys: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(_alt(keys))


_AD_ROW_RE = {tpl: [(it, _row_pattern(it.match)) for it in fs.AD_ITEMS[tpl]] for tpl in fs.TEMPLATES}
_APP_ROW_RE = {tpl: [(r, _row_pattern(r.match)) for r in fs.app_rows(tpl)] for tpl in fs.TEMPLATES}


# --------------------------------------------------------------------------- regions
@dataclass
class _Region:
    """What stands between a row's label and the next label."""

    key: str
    label_start: int
    value_start: int
    end: int = -1


def _find_rows(text: str, start: int, end: int, rows) -> list[_Region]:
    """Find each row label in order; a label not found leaves the search position."""
    found: list[_Region] = []
    pos = start
    for key, pattern in rows:
        m = pattern.search(text, pos, end)
        if not m:
            continue
        label_start = _label_start(text, max(pos, m.start() - 40), m.start())
        tail = _LABEL_TAIL.match(text, m.end(), end)
        value_start = tail.end() if tail else m.end()
        found.append(_Region(key, label_start, value_start))
        pos = value_start
    return found


def _label_start(text: str, lo: int, hi: int) -> int:
    """Where _LABEL_HEAD.search(text, lo, hi) starts, searched only from where it can.

    The pattern ends in ``$`` (the window end, or just before a newline ending it) and
    every character it matches is in _LABEL_HEAD_RUN, so a match starts inside the run of
    those characters that ends the window: starting the search there skips the positions
    where the regex would scan ahead only to fail (the search was quadratic in the window).
    """
    end = hi - 1 if hi > lo and text[hi - 1] == "\n" else hi
    run = _LABEL_HEAD_RUN.match(text[lo:end][::-1])
    head = _LABEL_HEAD.search(text, end - run.end(), hi)
    return head.start() if head else hi


def _close_regions(text: str, regions: list[_Region], end: int, terminators: re.Pattern[str]) -> None:
    for i, reg in enumerate(regions):
        limit = regions[i + 1].label_start if i + 1 < len(regions) else end
        m = terminators.search(text, reg.value_start, limit)
        reg.end = m.start() if m else limit


@dataclass
class _Values:
    raw: list[str | None]  # raw cell texts, None where the layout lost the cell
    run: str | None = None  # a run of digits standing for several cells
    mode: str = "pipe"
    short: bool = False  # fewer values than cells in a layout that drops blanks


def _split_values(segment: str, n: int) -> _Values:
    if "|" in segment:
        parts = segment.split("|")
        cells = [p.strip() for p in parts[1:]] if parts[0].strip() == "" or not cellgrammar.is_value_token(
            parts[0].strip()) else [p.strip() for p in parts]
        cells = cells[:n]
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
    if len(values) >= n:
        return _Values(values[:n], mode="space")
    if not values:
        return _Values([""] * n, mode="space")
    return _Values([None] * n, mode="space", short=True, run=None) if n > 1 else _Values(values, mode="space")


# --------------------------------------------------------------------------- tables
@dataclass
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

    # -- cells
    def read_row(self, table: str, key: str, names: tuple[str, ...], vtypes: tuple[str, ...],
                 vals: _Values) -> dict[str, int | float | None]:
        out: dict[str, int | float | None] = {}
        for name, vtype, raw in zip(names, vtypes, vals.raw, strict=True):
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

    def missing_row(self, table: str, key: str, names) -> dict[str, None]:
        self.f.add("row_missing", f"row {key} not found in the table", f"{table}.{key}")
        return dict.fromkeys(names)

    # -- table 1
    def active_disclosure(self, start: int, end: int) -> _TableRead:
        seg = self.text[start:end]
        score = {tpl: sum(1 for m in fs.AD_MARKERS[tpl] if re.search(loose(m), seg)) for tpl in fs.TEMPLATES}
        template = fs.F2019 if score[fs.F2019] > score[fs.F2021] else fs.F2021
        rows = [(it.key, rx) for it, rx in _AD_ROW_RE[template]]
        regions = _find_rows(self.text, start, end, rows)
        # Without a caption (第二十条…), a word such as 规章 may just be narrative text.
        if not regions or (len(regions) < 3 and not _T1_START.search(seg)):
            return _TableRead(None, {}, False)
        _close_regions(self.text, regions, end, _T1_END)
        for extra in fs.AD_NONSTANDARD_ROWS:
            if re.search(loose(extra), seg):
                self.f.add("nonstandard_row", f"a local row {extra!r} outside the template was read past",
                           fs.ACTIVE_DISCLOSURE)
        by_key = {r.key: r for r in regions}
        measures = fs.AD_MEASURES[template]
        values: dict[str, dict] = {}
        for item in fs.AD_ITEMS[template]:
            names = item.measures
            vtypes = tuple(measures[m].vtype for m in names)
            reg = by_key.get(item.key)
            if reg is None:
                values[item.key] = self.missing_row(fs.ACTIVE_DISCLOSURE, item.key, names)
                continue
            vals = _split_values(self.text[reg.value_start:reg.end], len(names))
            values[item.key] = self.read_row(fs.ACTIVE_DISCLOSURE, item.key, names, vtypes, vals)
        return _TableRead(template, values, True)

    # -- table 2
    def applications(self, start: int, end: int) -> _TableRead:
        seg = self.text[start:end]
        template = fs.F2021 if any(re.search(loose(m), seg) for m in fs.APP_MARKERS[fs.F2021]) else fs.F2019
        rows = [(r.key, rx) for r, rx in _APP_ROW_RE[template]]
        regions = _find_rows(self.text, start, end, rows)
        # Without the table's own header, a lone label may be narrative text ("本年新收…").
        if not regions or (len(regions) < 3 and not _T2_START.search(seg)):
            return _TableRead(None, {}, False)
        if template == fs.F2019 and not any(r.key == "other_processing" for r in regions):
            template = fs.F2021  # neither form of (六) found: keep the current template
        _close_regions(self.text, regions, end, _T2_END)
        by_key = {r.key: r for r in regions}
        names = tuple(c.key for c in fs.APPLICANT_COLUMNS)
        vtypes = (fs.COUNT,) * len(names)
        # A 法人或其他组织 小计 column is not in the template (FORMAT.md §4.1): read past it.
        subtotal = bool(re.search(loose("小计"), self.text[start:regions[0].label_start]))
        if subtotal:
            self.f.add("nonstandard_row", "the table adds a 法人或其他组织 小计 column; it is read past",
                       fs.APPLICATIONS)
        values: dict[str, dict] = {}
        for row in fs.app_rows(template):
            reg = by_key.get(row.key)
            if reg is None:
                values[row.key] = self.missing_row(fs.APPLICATIONS, row.key, names)
                continue
            vals = _split_values(self.text[reg.value_start:reg.end], len(names) + subtotal)
            if subtotal and vals.run is None and not vals.short:
                vals.raw = vals.raw[:6] + vals.raw[7:]
            elif subtotal:
                vals = _Values([None] * len(names), mode=vals.mode, short=True)
            values[row.key] = self.read_row(fs.APPLICATIONS, row.key, names, vtypes, vals)
        self._merged_zero_rows(values, by_key)
        return _TableRead(template, values, True)

    def _merged_zero_rows(self, values: dict, by_key: dict[str, _Region]) -> None:
        """One "0" spanning all seven columns (FORMAT.md §7.8): every cell is 0."""
        for key, reg in by_key.items():
            raw = self.text[reg.value_start:reg.end].split("|")[1:]
            row = values.get(key) or {}
            # Converters print fillers as bare "||" (no spaces): seven columns merged into one.
            if (raw and raw[0].strip() == "0" and all(not c.strip() for c in raw[1:])
                    and sum(1 for c in raw[1:] if c == "") >= 6
                    and all(v is None for k, v in row.items() if k != "natural_person")):
                for col in row:
                    if row[col] is None:
                        row[col] = 0
                        where = f"{fs.APPLICATIONS}.{key}.{col}"
                        self.f.items = [x for x in self.f.items if x["where"] != where]
                        self.f.add("cell_derived", "one merged cell printed 0 for the whole row", where)

    # -- table 3
    def review_litigation(self, start: int, end: int) -> _TableRead:
        m = _T3_HEADER.search(self.text, start, end) or _T3_FALLBACK_HEADER.search(self.text, start, end)
        names = [(g.key, o.key) for g in fs.RL_GROUPS for o in fs.RL_OUTCOMES]
        seg_start = None
        if m:
            pos = m.end()
            for line in re.finditer(r"[^\n]*\n?", self.text[pos:end]):
                s = line.group(0)
                if not s:
                    break
                if re.fullmatch(r"[\s|:-]*", s) and "---" in s:
                    continue  # a markdown separator line, not a row of values
                if not _CJK.search(s) and re.search(r"\d|/|-", s):
                    seg_start = pos + line.start()
                    break
        if m and seg_start is None:  # cells ran together on one line: values follow the header words
            v = re.compile(r"[\d/]").search(self.text, m.end(), end)
            if v and not re.search(r"[|\n]", self.text[m.end():v.start()]):
                seg_start = v.start()
        if seg_start is None:  # headers typeset vertically: match the 15-number line
            for line in re.finditer(r"[^\n]+", self.text[start:end]):
                toks = [t for t in re.split(r"[\s|]+", line.group(0)) if t]
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
        flat = self.read_row(fs.REVIEW_LITIGATION, "_all", tuple(f"{g}.{o}" for g, o in names),
                             (fs.COUNT,) * 15, vals)
        values: dict[str, dict] = {g.key: {} for g in fs.RL_GROUPS}
        for g, o in names:
            values[g][o] = flat[f"{g}.{o}"]
        for f in self.f.items:  # cell paths were written as review_litigation._all.g.o
            if f["where"].startswith(f"{fs.REVIEW_LITIGATION}._all."):
                f["where"] = fs.REVIEW_LITIGATION + "." + f["where"].split("._all.", 1)[1]
        if fs.REVIEW_LITIGATION in self.runs:
            self.runs[fs.REVIEW_LITIGATION] = {"_all": self.runs[fs.REVIEW_LITIGATION]["_all"]}
        return _TableRead(fs.STANDARD, values, True)


# --------------------------------------------------------------------------- metadata
_TITLE_PREFIX = re.compile(r"^(标题|题名|名称)\s*:\s*")
_AGENCY_LIKE = re.compile(
    r"^[\u4e00-\u9fff()]{2,40}(局|办|委|会|厅|院|府|处|室|中心|镇|乡|街道|区|县|市|州|盟|旗|所|站|队|部|署|行|司)$")


def _title_candidates(text: str, html_title: str | None) -> list[str]:
    """Title-like lines, most trustworthy first (the page's <title>, then the text)."""
    candidates = []
    if html_title and _TITLE_LINE.search(html_title):
        candidates.append(re.split(r"[_|]| - ", html_title)[0].strip())
    # Pages start with navigation menus: look further down, but only at title-like lines.
    lines = [ln.strip() for ln in text[:8000].split("\n")[:80]]
    lines = [_TITLE_PREFIX.sub("", ln).strip(" |") if "报告" in ln else ln.strip(" |") for ln in lines]
    for i, line in enumerate(lines):
        if (_TITLE_LINE.search(line) and len(line) <= 60 and "。" not in line
                and not re.match(r"^(根据|按照|依据|本报告|现|特|为)", line)):
            if re.match(r"^(19|20)\d{2}\s*年", line):
                # Two-line titles: the agency on the line before or after "{YYYY}年…报告"
                for other in (lines[i - 1] if i else "", lines[i + 1] if i + 1 < len(lines) else ""):
                    if _AGENCY_LIKE.match(re.sub(r"\s+", "", other)):
                        candidates.append(other + line)
            candidates.append(line)
    return candidates


def _agency_from_title(title: str) -> str | None:
    t = re.sub(r"\s+", "", title)
    t = re.sub(r"[《》\"]", "", t)
    m = re.match(r"^(?:(?:19|20)\d{2}年度?)?(?P<a>.+?)(?:(?:19|20)\d{2}年度?)?(?:政府信息公开|信息公开).*报告", t)
    if not m:
        return None
    agency = m.group("a")
    agency = re.sub(r"(?:19|20)\d{2}年度?$", "", agency).strip("-_ ")
    agency = re.sub(r"关于$", "", agency)
    if len(agency) < 2 or agency in ("政府", "人民政府", "本机关", "我单位"):
        return None
    return agency


def _year_of(text: str, titles: list[str]) -> tuple[int | None, int | None]:
    """(year the document states, year of its statistical period)."""
    title_year = None
    for title in titles:
        m = _TITLE_YEAR.search(title)
        if m:
            title_year = int(m.group(1))
            break
    period_year = None
    m = _PERIOD.search(text)
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
        m = pattern.search(head) or (pattern.search(text) if pattern.pattern.startswith("请与") else None)
        if m:
            return m.group("a").strip("()")
    return None


def _same_agency(a: str, b: str) -> bool:
    def core(s: str) -> str:
        return re.sub(r"人民政府|政府|办公室|办公厅|\(.*?\)|\s", "", s)

    ca, cb = core(a), core(b)
    return bool(ca and cb) and (ca in cb or cb in ca)


# --------------------------------------------------------------------------- entry points
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


def _apply_runs(reader: _Reader, tables: dict[str, _TableRead], narrative: dict | None) -> None:
    """Split runs of digits with the invariants as constraints, or leave them null."""
    if not reader.runs:
        return
    try:
        from transforms import digits
    except ImportError:  # pragma: no cover - the solver ships with the parser
        digits = None
    for table, runs in reader.runs.items():
        tr = tables[table]
        solution = None
        if digits is not None:
            try:
                if table == fs.APPLICATIONS:
                    rows = {k: (runs[k] if k in runs else [v[c] for c in v]) for k, v in tr.values.items()}
                    solution = digits.solve_applications(rows, tr.template, narrative)
                elif table == fs.REVIEW_LITIGATION:
                    solution = digits.solve_review_litigation(runs["_all"], narrative)
                else:
                    rows = {k: (runs[k] if k in runs else list(v.values())) for k, v in tr.values.items()}
                    solution = digits.solve_active_disclosure(rows, tr.template, narrative)
            except Exception as exc:  # noqa: BLE001 - a solver failure leaves the cells null, reported
                reader.f.add("cell_ambiguous", f"could not split runs of digits: {exc}", table)
                solution = None
        for key, run in runs.items():
            if table == fs.REVIEW_LITIGATION:
                targets = [(g.key, o.key) for g in fs.RL_GROUPS for o in fs.RL_OUTCOMES]
            else:
                targets = [(key, c) for c in tr.values[key]]
            solved = _solved_cells(solution, table, key, targets)
            for (row, col), value in zip(targets, solved, strict=True):
                where = f"{table}.{row}.{col}"
                if value is None:
                    cands = _candidates(solution, key)
                    reader.f.add("cell_ambiguous",
                                 f"cells ran together as {run!r}; several splits fit the invariants"
                                 + (f", e.g. {cands}" if cands else ""), where)
                else:
                    tr.values[row][col] = value
                    reader.f.add("cell_derived", f"split from the run of digits {run!r} with the invariants", where)


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
        where = f"{fs.APPLICATIONS}.{key}.total"
        parts = [row.get(c) for c in fs.APPLICANT_PARTS]
        if row.get("total") is None and where in blank_totals and all(isinstance(p, int) for p in parts):
            row["total"] = sum(parts)
            f.items = [x for x in f.items if x["where"] != where]
            f.add("cell_derived", "总计 is blank; derived as the sum of the six applicant cells", where)


def parse_text(text: str, *, agency: str | None = None, year: int | None = None,
               html_title: str | None = None, attachments=(), images: int = 0,
               kind: str = "text") -> dict:
    """Parse normalised report text into the contract object."""
    f = _Findings()
    (t1s, t1e), (t2s, t2e), (t3s, t3e) = _spans(text)
    reader = _Reader(text, f)
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
    _apply_runs(reader, tables, narrative)
    for table, keys in reader.short.items():
        for key in keys:
            values = tables[table].values
            paths = ([f"{table}.{g}.{o}" for g in values for o in values[g]] if key == "_all"
                     else [f"{table}.{key}.{col}" for col in values[key]])
            for path in paths:
                f.add("cell_ambiguous", "fewer values than cells in a layout that drops blank cells: "
                      "which cells are blank is unknown", path)
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


def parse_document(data: bytes, *, agency: str | None = None, year: int | None = None,
                   content_type: str | None = None, pictures: dict[str, bytes] | None = None) -> ParseResult:
    """Parse one report file (HTML, text or PDF, told apart by its bytes)."""
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
                        attachments=attachments, images=images, kind=dec.kind)
    if any(report[t] is None for t in fs.TABLES) and (dec.kind in (PDF, DOCX) or (images and pictures)):
        from transforms.imagetable import read_pictures  # OCR: only for tables the text lacks

        report = read_pictures(report, data, dec.kind, html=dec.text if dec.kind == HTML else None,
                               pictures=pictures, agency=agency, year=year)
    for code, message, where in pre_findings:
        report["findings"].insert(0, {"code": code, "severity": fs.ERROR, "message": message, "where": where})
    return ParseResult(report, text, dec.kind, dec.encoding, title, attachments)


def parse_report(data: bytes, *, agency: str | None = None, year: int | None = None,
                 content_type: str | None = None) -> dict:
    return parse_document(data, agency=agency, year=year, content_type=content_type).report
