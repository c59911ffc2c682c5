"""Tables read from pictures: OCR'd cells onto the formatspec grid, every number proved.

``transforms.ocr`` turns pictures into bands (table rows cut at the ruling lines) of
cell texts with the recogniser's confidence. Here:

1. Bands are classified by how many value cells follow their label: 15 is the review/
   litigation row, 7 an applications row, 1 or 3 an active-disclosure row. Applications
   rows are matched to the template's rows by position when their count is the
   template's (labels confirm it), else by the distinctive words of the labels
   (formatspec), in template order, as the text parser does.
2. A cell's text is read by the cell grammar after undoing OCR's letter-for-digit
   slips (O→0, l→1, a stray dot at the edge); anything else is unreadable, never guessed.
3. Proof. A value is published only when a hard invariant (H1-H4, H6) that contains it
   can be evaluated and holds, and none that contains it fails. Where checks fail,
   the cells at the crossing of the failing rows and columns are given OCR's usual
   confusions as alternatives (0/6/8/9, 1/7, 3/8, 5/6, a digit dropped or doubled) and
   the run-together digits solver (``transforms.digits``) decides: a unique consistent
   reading is kept, several leave the cell ``null`` with the candidates listed
   (``cell_ocr_unproved``). The active-disclosure table has no hard invariant: its
   cells are published only when two readings of the cell (plain, and denoised and
   stretched so that equal digits cannot merge) agree.

Every table read this way carries the finding ``table_from_image`` (info); its cells'
provenance is ``ocr`` (see ``transforms.records.provenance``).
"""

from __future__ import annotations

import difflib
import itertools
import re
import unicodedata
from dataclasses import dataclass, field

from transforms import cells as cellgrammar
from transforms import digits, evaluator
from transforms import formatspec as fs
from transforms.normalize import compact, norm_text
from transforms.ocr import DENOISED, PLAIN, STRETCHED, Band, reread, stray_marks

AGREED_CONFIDENCE = 0.5  # a cell no invariant checks is published only when two readings agree, each this sure
MAX_SUSPECTS = 6  # cells given alternatives at once
MAX_ROW_CANDIDATES = 20_000

_DIGIT_SLIPS = str.maketrans({
    "O": "0", "o": "0", "Q": "0", "D": "0", "〇": "0", "。": "0", "°": "0",
    "l": "1", "I": "1", "i": "1", "|": "1", "!": "1",
    "S": "5", "s": "5", "B": "8", "Z": "2", "z": "2", "g": "9", "q": "9",
})
_EDGE_JUNK = re.compile(r"^[.,:;'\"`·、，。:_~\-]+|[.,:;'\"`·、，。:_~\-]+$")
_CONFUSED_PAIRS = ("06", "08", "09", "68", "56", "89", "38", "17", "14", "27", "35")
_CONFUSIONS: dict[str, str] = {}
for _a, _b in _CONFUSED_PAIRS:
    _CONFUSIONS[_a] = _CONFUSIONS.get(_a, "") + _b
    _CONFUSIONS[_b] = _CONFUSIONS.get(_b, "") + _a
_T2 = fs.APPLICATIONS
_T3 = fs.REVIEW_LITIGATION
_T1 = fs.ACTIVE_DISCLOSURE


@dataclass
class OcrCell:
    raw: str
    conf: float
    value: int | float | None = None
    marker: str | None = None
    clean: bool = True  # read without undoing any slip
    agreed: bool = False  # a second, differently prepared reading gives the same value


@dataclass
class ImageTables:
    templates: dict[str, str | None] = field(default_factory=dict)
    cells: dict[str, dict[str, dict[str, OcrCell]]] = field(default_factory=dict)
    values: dict[str, dict[str, dict[str, int | float | None]]] = field(default_factory=dict)
    findings: list[dict] = field(default_factory=list)
    text: str = ""  # the pictures' text, for metadata (title, year)

    def add(self, code: str, message: str, where: str) -> None:
        sev = fs.FINDINGS.get(code, fs.WARNING)
        self.findings.append({"code": code, "severity": sev, "message": message, "where": where})


# --------------------------------------------------------------------------- cells
_VTYPES = tuple(sorted({fs.COUNT} | {m.vtype for ms in fs.AD_MEASURES.values() for m in ms.values()}))


def read_ocr_cell(raw: str, conf: float, vtype: str, rereads: dict | None = None, ink: bool = False) -> OcrCell:
    """A cell's value from its reading, helped by its second readings (``ocr.reread``): an
    unreadable first reading takes a clean denoised one; a stretched reading that agrees
    makes the value ``agreed``. A cell with ink that reads as nothing is unreadable, not blank."""
    rereads = rereads or {}
    cell = _read_ocr_cell(raw, conf, vtype)
    if cell.marker == cellgrammar.BLANK and ink:
        cell = OcrCell(raw, conf, None, cellgrammar.UNREADABLE)
    if cell.value is None and DENOISED in rereads:
        text, c2 = rereads[DENOISED]
        other = _read_ocr_cell(text, c2, vtype)
        if other.value is not None and other.clean:
            cell = OcrCell(raw, min(conf, c2), other.value, None, clean=False)
    if PLAIN in rereads and STRETCHED in rereads:  # cells no invariant checks (table 1)
        plain = _read_ocr_cell(*rereads[PLAIN], vtype)
        stretched = _read_ocr_cell(*rereads[STRETCHED], vtype)
        if plain.value is not None and plain.value == stretched.value \
                and min(plain.conf, stretched.conf) >= AGREED_CONFIDENCE:
            cell = OcrCell(raw, max(plain.conf, stretched.conf), plain.value, None, clean=True, agreed=True)
    return cell


def _read_ocr_cell(raw: str, conf: float, vtype: str) -> OcrCell:
    text = unicodedata.normalize("NFKC", raw).replace(" ", "")
    if text in ("", ):
        return OcrCell(raw, conf, None, cellgrammar.BLANK)
    if text in ("/", "／", "-", "—", "--", "\\"):
        return OcrCell(raw, conf, None, cellgrammar.NA)
    fixed = _EDGE_JUNK.sub("", text.translate(_DIGIT_SLIPS))
    if vtype != fs.SIGNED and not fixed:
        return OcrCell(raw, conf, None, cellgrammar.UNREADABLE)
    cell = cellgrammar.read_cell(fixed, vtype)
    if cell.value is None:
        return OcrCell(raw, conf, None, cellgrammar.UNREADABLE)
    return OcrCell(raw, conf, cell.value, None, clean=fixed == text)


def alternatives(value: int) -> list[int]:
    """The value and what OCR's usual confusions could have made of the printed one."""
    s = str(value)
    out = {s}
    for i, ch in enumerate(s):
        for alt in _CONFUSIONS.get(ch, ""):
            out.add(s[:i] + alt + s[i + 1:])
        if len(s) > 1:
            out.add(s[:i] + s[i + 1:])  # OCR doubled a digit
        out.add(s[:i] + ch + s[i:])  # OCR dropped one of two equal digits
    return sorted({int(x) for x in out if x and (x == "0" or not x.startswith("0"))}, key=lambda v: (v != value, v))


# --------------------------------------------------------------------------- bands -> rows
def _value_cells(band: Band) -> list:
    """The cells after the band's label (the last cell with two or more Chinese characters, or
    with words not read)."""
    last = -1
    for i, c in enumerate(band.cells):
        if c.skipped or len(re.findall(r"[\u4e00-\u9fff]", c.text)) >= 2:
            last = i
    return band.cells[last + 1:]


def _matches(label: str, keys: tuple[str, ...]) -> bool:
    return any(compact(k) in label for k in keys)


def _similar(label: str, row_label: str) -> float:
    return difflib.SequenceMatcher(None, label, compact(norm_text(row_label))).ratio()


def _templates(text: str) -> tuple[str, str]:
    score = {tpl: sum(1 for m in fs.AD_MARKERS[tpl] if compact(m) in text) for tpl in fs.TEMPLATES}
    t_ad = fs.F2019 if score[fs.F2019] > score[fs.F2021] else fs.F2021
    t_app = fs.F2021 if any(compact(m) in text for m in fs.APP_MARKERS[fs.F2021]) else fs.F2019
    return t_ad, t_app


def read_tables(bands: list[Band]) -> ImageTables:
    """Bands of the pictures of a report -> its tables, proved cell by cell."""
    out = ImageTables()
    lines = []
    for b in bands:
        lines.append(" | ".join(c.text for c in b.cells) if b.ruled else b.cells[0].text)
    out.text = norm_text("\n".join(lines))
    alltext = compact(out.text)
    t_ad, t_app = _templates(alltext)
    app_rows = list(fs.app_rows(t_app))
    labelled = [(compact(norm_text(b.label)), _value_cells(b), b) for b in bands if b.ruled]
    t2_bands = [(lab, vals) for lab, vals, _ in labelled if len(vals) == 7]
    if len(t2_bands) in (23, 25) and len(t2_bands) != len(app_rows):
        t_app = fs.F2021 if len(t2_bands) == 25 else fs.F2019
        app_rows = list(fs.app_rows(t_app))
    t3_bands = [vals for lab, vals, _ in labelled if len(vals) == 15]
    t1_bands = [(lab, vals) for lab, vals, _ in labelled if len(vals) in (1, 3, 4) and lab]
    # The denoised reading is used only where the first gives no value (read_ocr_cell): only
    # those cells are read again (under every value type, so no cell that needs it misses it).
    reread([c for _, vals, _ in labelled for c in vals if stray_marks(c) and DENOISED not in c.rereads
            and any(_read_ocr_cell(c.text, c.conf, vt).value is None for vt in _VTYPES)], DENOISED)

    # table 2
    if t2_bands:
        out.templates[_T2] = t_app
        rows = _assign_rows(t2_bands, app_rows)
        names = [c.key for c in fs.APPLICANT_COLUMNS]
        out.cells[_T2] = {}
        for row in app_rows:
            vals = rows.get(row.key)
            if vals is None:
                out.add("row_missing", f"row {row.key} not found in the table picture", f"{_T2}.{row.key}")
                out.cells[_T2][row.key] = {n: OcrCell("", 0.0, None, cellgrammar.UNREADABLE) for n in names}
                continue
            out.cells[_T2][row.key] = {n: _count_cell(c) for n, c in zip(names, vals, strict=True)}
    # table 3
    if t3_bands:
        out.templates[_T3] = fs.STANDARD
        vals = max(t3_bands, key=lambda vs: sum(1 for c in vs if re.search(r"\d", c.text)))
        it = iter(vals)
        out.cells[_T3] = {g.key: {o.key: _count_cell(next(it)) for o in fs.RL_OUTCOMES} for g in fs.RL_GROUPS}
    # table 1
    items = fs.AD_ITEMS[t_ad]
    measures = fs.AD_MEASURES[t_ad]
    found: dict[str, list] = {}
    pos = 0
    for lab, vals in t1_bands:
        for j in range(pos, len(items)):
            it = items[j]
            if _matches(lab, it.match) and len(vals) in (len(it.measures), 1):
                found[it.key] = vals
                pos = j + 1
                break
    if found:
        out.templates[_T1] = t_ad
        out.cells[_T1] = {}
        t1_cells = [c for vals in found.values() for c in vals]
        reread(t1_cells, PLAIN)  # cells no invariant checks: read twice more, and the two must agree
        reread(t1_cells, STRETCHED)
        for it in items:
            vals = found.get(it.key)
            if vals is None:
                out.add("row_missing", f"row {it.key} not found in the table picture", f"{_T1}.{it.key}")
                out.cells[_T1][it.key] = {m: OcrCell("", 0.0, None, cellgrammar.UNREADABLE) for m in it.measures}
                continue
            if len(vals) != len(it.measures):  # one merged cell where the template has several
                vals = [vals[0]] + [type(vals[0])(0, 0, "", 0.0)] * (len(it.measures) - 1)
            out.cells[_T1][it.key] = {m: read_ocr_cell(c.text, c.conf, measures[m].vtype, c.rereads, c.ink)
                                      for m, c in zip(it.measures, vals, strict=True)}
    _prove(out)
    return out


def _count_cell(c) -> OcrCell:
    return read_ocr_cell(c.text, c.conf, fs.COUNT, c.rereads, c.ink)


def _assign_rows(t2_bands: list, app_rows: list[fs.Row]) -> dict[str, list]:
    """Applications rows -> their 7 value cells."""
    if len(t2_bands) == len(app_rows):
        agree = sum(1 for (lab, _), row in zip(t2_bands, app_rows, strict=True)
                    if _matches(lab, row.match) or _similar(lab, row.label) >= 0.5)
        if agree >= 0.8 * len(app_rows):
            return {row.key: vals for (_, vals), row in zip(t2_bands, app_rows, strict=True)}
    out: dict[str, list] = {}
    pos = 0
    for lab, vals in t2_bands:
        for j in range(pos, len(app_rows)):
            if _matches(lab, app_rows[j].match):
                out[app_rows[j].key] = vals
                pos = j + 1
                break
    return out


# --------------------------------------------------------------------------- proof
def _hard_checks(tables: ImageTables) -> list[fs.Check]:
    t_ad = tables.templates.get(_T1)
    t_app = tables.templates.get(_T2)
    return [c for c in fs.checks_for(t_ad, t_app) if c.severity == fs.ERROR
            and evaluator.table_of(c) in tables.cells]


def _value(values: dict, path: str):
    t, r, c = path.split(".")
    return values.get(t, {}).get(r, {}).get(c)


def _holds(check: fs.Check, values: dict) -> bool | None:
    """True/False, or None when a cell of the check is unknown."""
    sums = evaluator.side_sums(check, lambda path: _value(values, path))
    return None if sums is None else evaluator.OPS[check.op](*sums)


def _paths(check: fs.Check) -> list[str]:
    return evaluator.cells_of(check)


def _prove(out: ImageTables) -> None:
    values = {t: {r: {c: cell.value for c, cell in row.items()} for r, row in rows.items()}
              for t, rows in out.cells.items()}
    checks = _hard_checks(out)
    used: dict[str, str] = {}  # equality -> the cell it solved
    derived = _derive_unreadable(out, values, checks, used)
    failing = [c for c in checks if _holds(c, values) is False]
    candidates: dict[str, list] = {}
    if failing:
        candidates = _correct(out, values, checks, failing)
    # final proof: a value is proved when an invariant containing it holds and none fails;
    # an equality that solved a cell proves nothing about that cell, and when the solved
    # cell is not proved by another invariant, the equality counts as failing for all its cells
    results = {c.name: _holds(c, values) for c in checks}
    status: dict[str, str] = {}
    for _round in range(2):
        status = {}
        for c in checks:
            h = results[c.name]
            for p in _paths(c):
                if h is False:
                    status[p] = "fail"
                elif h is True and status.get(p) != "fail" and used.get(c.name) != p:
                    status[p] = "pass"
        doubtful = [name for name, p in used.items() if status.get(p) != "pass" and results.get(name)]
        for name in doubtful:
            results[name] = False
        if not doubtful:
            break
    for t, rows in out.cells.items():
        for r, row in rows.items():
            for col, cell in row.items():
                path = f"{t}.{r}.{col}"
                v = values[t][r][col]
                if v is None:
                    if cell.marker == cellgrammar.NA:
                        out.add("cell_not_applicable", f"read {cell.raw!r} (not applicable)", path)
                    elif cell.marker == cellgrammar.BLANK:
                        out.add("cell_blank", "the cell of the picture is blank", path)
                    elif path in candidates:
                        out.add("cell_ocr_unproved", "OCR read " + repr(cell.raw) + "; several readings fit "
                                "the invariants: " + ", ".join(map(str, candidates[path][:6])), path)
                    else:
                        out.add("cell_ocr_unproved", f"OCR read {cell.raw!r}: not a number of this cell", path)
                    continue
                st = status.get(path)
                proved = st == "pass" or (st is None and t == _T1 and cell.agreed)
                if not proved:
                    why = ("the invariants fail with it" if st == "fail" else
                           "no invariant checks it and two readings do not agree" if st is None else "")
                    values[t][r][col] = None
                    msg = f"OCR read {cell.raw!r} ({cell.conf:.2f}); not published: {why}"
                    if path in candidates:
                        msg += "; candidates " + ", ".join(map(str, candidates[path][:6]))
                    out.add("cell_ocr_unproved", msg, path)
                elif path in derived:
                    out.add("cell_derived", f"OCR read {cell.raw!r}; solved as {v} from one invariant, "
                            "and another holds with it", path)
                elif v != cell.value:
                    out.add("cell_derived", f"OCR read {cell.raw!r}; the invariants allow only {v}", path)
    out.values = values
    for t in out.cells:
        out.add("table_from_image", f"{fs.TABLE_LABELS[t]}: read from a picture by OCR; every value published "
                "is proved by the table's invariants or read cleanly", t)


def _derive_unreadable(out: ImageTables, values: dict, checks: list[fs.Check], used: dict[str, str]) -> set[str]:
    """Unreadable cells that are the one unknown of an equality (H1-H4): solved from it,
    repeatedly (a solved cell can leave another equality with one unknown)."""
    unknown = {f"{t}.{r}.{c}" for t, rows in out.cells.items() if t != _T1 for r, row in rows.items()
               for c, cell in row.items() if cell.marker == cellgrammar.UNREADABLE}
    derived: set[str] = set()
    progress = True
    while progress and unknown:
        progress = False
        for check in checks:
            if check.op != "==" or evaluator.plain_paths(check) is None:
                continue
            paths = evaluator.cells_of(check)
            open_ = [p for p in paths if p in unknown]
            if len(open_) != 1:
                continue
            target = open_[0]
            known = {p: _value(values, p) for p in paths if p != target}
            if any(v is None for v in known.values()):
                continue
            v = evaluator.solve_for(check, target, known)
            if isinstance(v, int) and v >= 0:
                t, r, c = target.split(".")
                values[t][r][c] = v
                unknown.discard(target)
                derived.add(target)
                used[check.name] = target
                progress = True
    return derived


def _correct(out: ImageTables, values: dict, checks: list[fs.Check], failing: list[fs.Check]) -> dict[str, list]:
    """Try OCR's confusions on the cells the failing checks share; decide with the solver."""
    count: dict[str, int] = {}
    for c in failing:
        for p in set(_paths(c)):
            count[p] = count.get(p, 0) + 1
    # the cells most failing checks share (a misread cell breaks its row and its column)
    top = max(count.values())
    suspects = [p for p, n in count.items() if n == top and n >= 2] or [
        p for p, _ in sorted(count.items(), key=lambda kv: _conf(out, kv[0]))[:MAX_SUSPECTS]]
    suspects = [p for p in suspects if _value(values, p) is not None][:MAX_SUSPECTS]
    listed: dict[str, list] = {}
    for table in (_T2, _T3):
        mine = [p for p in suspects if p.startswith(table + ".")]
        if not mine:
            continue
        by_row: dict[str, list[str]] = {}
        for p in mine:
            by_row.setdefault(p.split(".")[1], []).append(p)
        sol = _solve(out, values, table, by_row)
        for row, paths in by_row.items():
            got = sol.values.get(row)
            cols = _columns(table)
            for p in paths:
                col = p.split(".")[2]
                v = got[cols.index(col)] if got else None
                values[table][row][col] = v
                if v is None and row in sol.ambiguous:
                    listed[p] = sorted({cand[cols.index(col)] for cand in sol.ambiguous[row]})
    return listed


def _conf(out: ImageTables, path: str) -> float:
    t, r, c = path.split(".")
    return out.cells[t][r][c].conf


def _columns(table: str) -> list[str]:
    return [c.key for c in (fs.APPLICANT_COLUMNS if table == _T2 else fs.RL_OUTCOMES)]


def _solve(out: ImageTables, values: dict, table: str, by_row: dict[str, list[str]]) -> digits.Solution:
    """Per row, the readings that keep its own sum (H2 / H4); across rows, the solver's equations."""
    cols = _columns(table)
    sol = digits.Solution()
    fixed: dict[str, list] = {}
    cands: dict[str, list] = {}
    for row, rowvals in values[table].items():
        vals = [rowvals[c] for c in cols]
        if row not in by_row:
            fixed[row] = vals
            continue
        idx = [cols.index(p.split(".")[2]) for p in by_row[row]]
        options = [alternatives(vals[i]) for i in idx]
        found = []
        for combo in itertools.product(*options):
            cand = list(vals)
            for i, v in zip(idx, combo, strict=True):
                cand[i] = v
            if all(x is not None for x in cand) and not digits.total_is_sum(cand):
                continue
            found.append(tuple(cand))
            if len(found) > MAX_ROW_CANDIDATES:
                sol.truncated.add(row)
                break
        cands[row] = found
    if table == _T2:
        keys = [r.key for r in fs.app_rows(out.templates[_T2])]
        eqs = digits._app_equations(out.templates[_T2], keys, len(cols))
    else:
        keys = [g.key for g in fs.RL_GROUPS]
        eqs = []
    digits._resolve(keys, cols, fixed, cands, eqs, sol, {}, digits._Budget())
    return sol


# --------------------------------------------------------------------------- documents
def _complete(tables: ImageTables) -> bool:
    return all(t in tables.cells for t in fs.TABLES)


def read_pictures(report: dict, data: bytes, kind: str, *, html: str | None = None,
                  pictures: dict[str, bytes] | None = None, agency: str | None = None,
                  year: int | None = None) -> dict:
    """Fill the tables a parsed report lacks from the document's pictures (image-only PDF
    pages, .docx images, the page's ``<img>`` given in ``pictures`` by src). Tables the text
    gave are kept; pages past the tables are not OCR'd."""
    from transforms import ocr, pdfimages
    from transforms.decode import DOCX, HTML, PDF

    bands: list[Band] = []
    tables = ImageTables()
    try:
        if kind == PDF:
            for i, img in pdfimages.pdf_pages(data):
                bands += ocr.read_page(img, page=i)
                tables = read_tables(bands)
                if _complete(tables):
                    break
        else:
            if kind == DOCX:
                blobs = pdfimages.docx_images(data)
            elif kind == "picture":  # the document is itself a picture (transforms.parse.PICTURE)
                blobs = [data]
            elif kind == HTML and html and pictures:
                blobs = [pictures[s] for s in pdfimages.html_image_srcs(html) if s in pictures]
            else:
                blobs = []
            for i, blob in enumerate(blobs):
                bands += ocr.read_page(ocr.load_image(blob), page=i)
                tables = read_tables(bands)
                if _complete(tables):
                    break
    except Exception as exc:  # noqa: BLE001 - a picture that cannot be read is a finding, not a crash
        report["findings"].append({"code": "cell_unreadable", "severity": fs.WARNING,
                                   "message": f"the document's pictures cannot be read: {exc}", "where": "document"})
        return report
    if not tables.cells:
        return report
    return merge(report, tables, agency=agency, year=year)


def merge(report: dict, tables: ImageTables, *, agency: str | None = None, year: int | None = None) -> dict:
    """The tables read from pictures into a report whose text lacked them."""
    from transforms import checks as sumchecks
    from transforms.parse import parse_text

    findings = report["findings"]
    if report.get("agency") is None or report.get("year") is None:
        meta = parse_text(tables.text, agency=agency, year=year)
        for key in ("agency", "year"):
            if report.get(key) is None and meta.get(key) is not None:
                report[key] = meta[key]
                findings[:] = [f for f in findings if not (f["code"] == "metadata_missing" and f["where"] == key)]
    for t in fs.TABLES:
        if report.get(t) is not None or t not in tables.cells:
            continue
        report[t] = tables.values[t]
        report["templates"][t] = tables.templates[t]
        findings[:] = [f for f in findings if not (f["code"] == "tables_missing" and f["where"] == t)]
        findings += [f for f in tables.findings if f["where"].split(".")[0] == t]
    findings[:] = [f for f in findings if f["code"] != "invariant_violation"]
    for res in sumchecks.failures(report):
        if res.status == sumchecks.FAIL:
            findings.append({"code": "invariant_violation", "severity": res.severity,
                             "message": f"{res.check_id}: {res.detail} ({res.expected} vs {res.actual})",
                             "where": f"{res.check_id}[{res.scope}]" if res.scope else res.check_id})
    return report
