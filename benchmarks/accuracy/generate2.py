"""Second adversarial family set (issue #15 round 3): Word .docx with merged/nested tables, HTML split
tables / repeated thead / <span>&nbsp; numbers / <title>-only titles, two-column page text, Chinese-
numeral years, agency names with 办公室/管委会/街道办事处/委员会, "——" blanks.

Writes corpus2/<id>.* + truth + MANIFEST.json (same truth format). Grade with
    ADV_CORPUS=corpus2 PYTHONPATH=$PWD .venv/bin/python benchmarks/accuracy/harness.py
"""
from __future__ import annotations

import io
import json
import random
import re
import shutil
import zipfile

import generate as G
import model as M

OUT = M.OUT_ROOT / "corpus2"
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CN = str.maketrans("0123456789", "〇一二三四五六七八九")
AGENCIES = ["福州新区管委会", "泉州市发展和改革委员会", "深圳市人民政府办公室", "北京市东城区东华门街道办事处"]


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def split_pipe(text):
    """[(kind, payload)]: ('p', line) or ('t', [rows of cells]) from the pipe layout."""
    out = []
    for line in text.split("\n"):
        if "|" in line:
            cells = [c.strip() for c in line.strip().rstrip("|").split("|")]
            if out and out[-1][0] == "t":
                out[-1][1].append(cells)
            else:
                out.append(("t", [cells]))
        else:
            out.append(("p", line))
    return out


def title_of(rep, o):
    ag, y = rep.truth["agency"], rep.truth["year"]
    if o.get("cn_year"):
        return [f"{ag}{str(y).translate(CN)}年政府信息公开工作年度报告"]
    return G.title_lines(rep, o)


def text_for(rep, o, rng, layout="pipe"):
    oo = dict(o)
    oo["title"] = "none"
    body = G.build(rep, layout, oo, rng)
    return title_of(rep, o), body


# ------------------------------------------------------------------ docx
def _tc(c, extra=""):
    return f"<w:tc><w:tcPr>{extra}</w:tcPr><w:p><w:r><w:t xml:space='preserve'>{esc(c)}</w:t></w:r></w:p></w:tc>"


def docx_table(rows, o):
    trs = []
    prev_group = None
    width = max(len(r) for r in rows)
    for cells in rows:
        tcs = []
        if o.get("vmerge") and len(cells) >= 9:  # application data row with its group cell
            pass
        if o.get("vmerge") and len(cells) == width and width >= 9 and cells[0].startswith(("（", "三")) is False:
            pass
        if len(cells) < width and o.get("gridspan"):
            tcs.append(_tc(cells[0], f"<w:gridSpan w:val='{width - len(cells) + 1}'/>"))
            tcs += [_tc(c) for c in cells[1:]]
        else:
            tcs = [_tc(c) for c in cells]
        trs.append("<w:tr>" + "".join(tcs) + "</w:tr>")
        prev_group = cells[0]
    del prev_group
    tbl = "<w:tbl>" + "".join(trs) + "</w:tbl>"
    if o.get("nested"):
        tbl = f"<w:tbl><w:tr><w:tc><w:p/>{tbl}<w:p/></w:tc></w:tr></w:tbl>"
    return tbl


def vmerge_rows(rows):
    """Group labels as vMerge: the first row holds the label, the following rows an empty merged cell."""
    return rows


def build_docx(rep, o, rng):
    title, body = text_for(rep, o, rng)
    parts = [f"<w:p><w:r><w:t>{esc(t)}</w:t></w:r></w:p>" for t in title]
    for kind, pay in split_pipe(body):
        if kind == "p":
            for ln in pay.split("\n"):
                parts.append(f"<w:p><w:r><w:t>{esc(ln)}</w:t></w:r></w:p>")
        else:
            rows = pay
            if o.get("vmerge"):
                rows = _vmerge(rows)
            parts.append(docx_table(rows, o) if not o.get("vmerge") else _vmerge_xml(rows, o))
    xml = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>{"".join(parts)}</w:body></w:document>'
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", xml)
    return buf.getvalue()


def _vmerge(rows):
    """Mark rows: a 2-label application row opens a merge; rows after it in the same group get a None cell."""
    out = []
    open_group = False
    for cells in rows:
        n = len(cells)
        if n == 9 and not cells[0].startswith("三"):  # group + leaf + 7 values
            out.append(("restart", cells))
            open_group = True
        elif n == 8 and open_group and cells[0].startswith(("1.", "2.", "3.", "4.", "5.", "6.", "7.", "8.")) and not cells[0].startswith("（"):
            out.append(("cont", cells))
        else:
            open_group = n == 9 and False
            out.append(("plain", cells))
    return out


def _vmerge_xml(rows, o):
    trs = []
    for kind, cells in rows:
        if kind == "restart":
            tcs = [_tc(cells[0], "<w:vMerge w:val='restart'/>")] + [_tc(c) for c in cells[1:]]
        elif kind == "cont":
            tcs = ["<w:tc><w:tcPr><w:vMerge/></w:tcPr><w:p/></w:tc>"] + [_tc(c) for c in cells]
        else:
            tcs = [_tc(c) for c in cells]
        trs.append("<w:tr>" + "".join(tcs) + "</w:tr>")
    tbl = "<w:tbl>" + "".join(trs) + "</w:tbl>"
    if o.get("nested"):
        tbl = f"<w:tbl><w:tr><w:tc><w:p/>{tbl}<w:p/></w:tc></w:tr></w:tbl>"
    return tbl


# ------------------------------------------------------------------ HTML
def build_html2(rep, o, rng):
    title, body = text_for(rep, o, rng)
    h = ["<html><head><meta charset='utf-8'>"]
    h.append(f"<title>{esc(''.join(title))}</title>" if o.get("title_tag") else "<title>政府信息公开</title>")
    h.append("</head><body>")
    if not o.get("title_tag"):
        h.append("<h1>" + "<br>".join(esc(t) for t in title) + "</h1>")

    def td(c):
        if o.get("span_nbsp") and c and c[0].isdigit():
            return f"<td><span style='font-size:12pt'>&nbsp;{esc(c)}&nbsp;</span></td>"
        return f"<td><p><span>{esc(c)}</span></p></td>"

    for kind, pay in split_pipe(body):
        if kind == "p":
            h += [f"<p>{esc(x)}</p>" for x in pay.split("\n")]
            continue
        rows = pay
        nh = 3 if len(rows) > 12 else (2 if len(rows) > 5 else 0)
        head = rows[:nh]
        thead = "<thead>" + "".join("<tr>" + "".join(td(c) for c in r) + "</tr>" for r in head) + "</thead>"
        data = rows[nh:]
        chunks = [data]
        if o.get("split_tables") and len(data) > 8:
            m = len(data) // 2
            chunks = [data[:m], data[m:]]
        for i, ch in enumerate(chunks):
            h.append("<table border='1'>" + (thead if (i == 0 or o.get("repeat_thead")) else ""))
            h.append("<tbody>" + "".join("<tr>" + "".join(td(c) for c in r) + "</tr>" for r in ch) + "</tbody></table>")
            if i < len(chunks) - 1:
                h.append("<p>- 2 -</p>" if o.get("footer_between") else "")
    h.append("</body></html>")
    return "\n".join(h)


# ------------------------------------------------------------------ page text in two columns
def build_twocol(rep, o, rng):
    title, body = text_for(rep, o, rng, layout="space")
    lines = body.split("\n")
    # find the applications table body: from the 商业企业 header line to 四、
    i = next(k for k, ln in enumerate(lines) if ln.startswith("商业企业"))
    j = next(k for k, ln in enumerate(lines) if ln.startswith("四、政府信息公开行政复议"))
    rows = lines[i + 1:j]
    half = (len(rows) + 1) // 2
    paired = [rows[k] + "        " + (rows[k + half] if k + half < len(rows) else "") for k in range(half)]
    lines[i + 1:j] = paired
    return "\n".join(title + lines)


def build_text(rep, o, rng):
    title, body = text_for(rep, o, rng, layout=o.get("layout", "pipe"))
    if o.get("dash_blank"):
        body = body
    return "\n".join(title + [body])


def ocr_mutate(text, kind, rng, rate=0.25):
    """OCR-era text: within the tables, some value tokens are misread the way OCR does."""
    lines = text.split("\n")
    a = next(k for k, ln in enumerate(lines) if ln.startswith("二、主动公开"))
    b = next((k for k, ln in enumerate(lines) if ln.startswith("五、")), len(lines))
    for k in range(a, b):
        toks = lines[k].split(" ")
        nums = [i for i, t in enumerate(toks) if re.fullmatch(r"\d+", t)]
        if len(nums) < 3 or rng.random() > rate:
            continue
        if kind == "split_digits":
            cand = [i for i in nums if len(toks[i]) >= 2]
            if not cand:
                continue
            i = rng.choice(cand)
            toks[i] = toks[i][:1] + " " + toks[i][1:]
        elif kind == "drop_zero":
            cand = [i for i in nums if toks[i] == "0"]
            if not cand:
                continue
            del toks[rng.choice(cand)]
        elif kind == "letters":
            i = rng.choice(nums)
            toks[i] = toks[i].replace("0", "O").replace("1", "l")
        elif kind == "dot_thousands":
            cand = [i for i in nums if len(toks[i]) >= 4]
            if not cand:
                continue
            i = rng.choice(cand)
            toks[i] = toks[i][:-3] + "." + toks[i][-3:]
        elif kind == "merge_cells":  # a space lost between two cells
            j = rng.randrange(len(nums) - 1)
            if nums[j + 1] == nums[j] + 1:
                toks[nums[j]] += toks[nums[j + 1]]
                del toks[nums[j + 1]]
        lines[k] = " ".join(toks)
    return "\n".join(lines)


def build_ocr(rep, o, rng):
    title, body = text_for(rep, o, rng, layout=o.get("layout", "space"))
    return "\n".join(title + [ocr_mutate(body, o["ocr"], rng)])


def build_html_rowspan(rep, o, rng):
    """The generator's rowspan/colspan HTML, then: T2 cut into two <table>s mid-group (the group
    label's rowspan crosses the cut), its three header rows repeated, numbers in <span>&nbsp;."""
    oo = {k: v for k, v in o.items() if k in ("t2_swaps", "f2019_apps", "blank_mark")}
    h = G.build_html(rep, oo).split("\n")
    a = next(i for i, ln in enumerate(h) if "三、收到和处理" in ln)
    b = next(i for i, ln in enumerate(h) if "四、政府信息公开行政复议" in ln)
    head = h[a + 1:a + 4]
    cut = a + 4 + o.get("cut", 9)
    if o.get("repeat_thead"):
        h[cut:cut] = ["</table><p>- 3 -</p><table border='1'>"] + head
    else:
        h[cut:cut] = ["</table><table border='1'>"]
    out = "\n".join(h)
    if o.get("span_nbsp"):
        out = re.sub(r"<span>(\d+)</span>", lambda m: f"<span>&nbsp;{m.group(1)}&nbsp;</span>", out)
    del b
    return out


def build_marks_before(rep, o, rng):
    title, body = text_for(rep, o, rng, layout="pipe")
    lines = body.split("\n")
    a = next(k for k, ln in enumerate(lines) if ln.startswith("三、收到"))
    for k in range(a, a + 30):
        if k % 4 == 1:
            lines[k] = re.sub(r"(?<=\| )(\d+)(?= \|)", lambda m: o["mark"] + m.group(1), lines[k], count=1)
    return "\n".join(title + lines)


def build_marks(rep, o, rng):
    """A few values carry a footnote mark (①, ¹, *): the number is still the printed digits."""
    title, body = text_for(rep, o, rng, layout=o.get("layout", "pipe"))
    lines = body.split("\n")
    a = next(k for k, ln in enumerate(lines) if ln.startswith("三、收到"))
    b = next(k for k, ln in enumerate(lines) if ln.startswith("四、政府信息公开行政复议"))
    done = 0
    for k in range(a, b):
        if done >= 3 or rng.random() > 0.3:
            continue
        new = re.sub(r"(?<=[ |])(\d+)(?= \|| |$)", lambda m: m.group(1) + o["mark"], lines[k], count=1)
        if new != lines[k]:
            lines[k] = new
            done += 1
    return "\n".join(title + lines)


def build_no_total(rep, o, rng):
    """T2 printed without its 总计 column (six values a row): the truth's totals become null."""
    title, body = text_for(rep, o, rng, layout=o.get("layout", "pipe"))
    lines = body.split("\n")
    a = next(k for k, ln in enumerate(lines) if ln.startswith("三、收到"))
    b = next(k for k, ln in enumerate(lines) if ln.startswith("四、政府信息公开行政复议"))
    for k in range(a, b):
        ln = lines[k]
        if o.get("layout") == "space":
            lines[k] = re.sub(r" \d+$", "", ln) if re.search(r"( \d+){7}$", ln) else ln.replace(" 总计", "")
        else:
            lines[k] = re.sub(r" \| [^|]* \|$", " |", ln) if re.search(r"(\| \d* ){6}\|$|(\d+ \| ){7}$", ln) else ln.replace(" | 总计 |", " |")
    for r in rep.truth["applications"].values():
        r["total"] = None
    return "\n".join(title + lines)


def build_html_sup(rep, o, rng):
    """Footnote references as <sup>1</sup> after a few values (HTML), or as a superscript run (docx)."""
    if o.get("docx"):
        data = build_docx(rep, {}, rng)
        zf = zipfile.ZipFile(io.BytesIO(data))
        xml = zf.read("word/document.xml").decode("utf-8")
        n = [0]

        def sup(m):
            n[0] += 1
            if n[0] % 17 != 5:
                return m.group(0)
            return m.group(0) + "<w:r><w:rPr><w:vertAlign w:val='superscript'/></w:rPr><w:t>1</w:t></w:r>"
        xml = re.sub(r"<w:r><w:t xml:space='preserve'>\d+</w:t></w:r>", sup, xml)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
            out.writestr("[Content_Types].xml", "<Types/>")
            out.writestr("word/document.xml", xml)
        return buf.getvalue()
    h = G.build_html(rep, {})
    n = [0]

    def sup(m):
        n[0] += 1
        return m.group(0) + ("<sup>" + o.get("mark", "1") + "</sup>" if n[0] % 13 == 4 else "")
    return re.sub(r"<span>\d+</span>" if o.get("outside") else r"(?<=<span>)\d+(?=</span>)", sup, h)


def build_space_thousands(rep, o, rng):
    """Thousands grouped with a (no-break) space, in HTML cells: "1&nbsp;288"."""
    h = G.build_html(rep, {})
    return re.sub(r"(?<=<span>)(\d{1,3})(\d{3})(?=</span>)", lambda m: m.group(1) + o["sep"] + m.group(2), h)


FAMILIES = [
    ("mark_before", "marks_b", {"mark": "①"}),
    ("html_nbsp_thousands", "thou", {"sep": "&nbsp;"}),
    ("html_space_thousands", "thou", {"sep": " "}),

    ("html_sup", "sup", {}),
    ("html_sup_outside", "sup", {"outside": 1}),
    ("html_sup_circled", "sup", {"mark": "①"}),
    ("docx_sup", "sup_docx", {"docx": 1}),

    ("mark_circled", "marks", {"mark": "①"}),
    ("mark_super", "marks", {"mark": "²"}),
    ("mark_star_space", "marks", {"mark": "*", "layout": "space"}),
    ("mark_circled_space", "marks", {"mark": "①", "layout": "space"}),
    ("no_total_pipe", "no_total", {}),
    ("no_total_space", "no_total", {"layout": "space"}),

    ("html_rowspan_cut", "html_rs", {"cut": 9}),
    ("html_rowspan_cut_thead", "html_rs", {"cut": 12, "repeat_thead": 1}),
    ("html_rowspan_cut_nbsp_swap", "html_rs", {"cut": 16, "repeat_thead": 1, "span_nbsp": 1, "t2_swaps": "pick"}),
    ("html_rowspan_cut_f2019", "html_rs", {"cut": 7, "f2019_apps": 1}),

    ("ocr_split_digits", "ocr", {"ocr": "split_digits"}),
    ("ocr_drop_zero", "ocr", {"ocr": "drop_zero"}),
    ("ocr_letters", "ocr", {"ocr": "letters"}),
    ("ocr_dot_thousands", "ocr", {"ocr": "dot_thousands"}),
    ("ocr_merge_cells", "ocr", {"ocr": "merge_cells"}),
    ("ocr_split_digits_t1swap", "ocr", {"ocr": "split_digits", "t1_swap": 1}),

    ("docx_plain", "docx", {}),
    ("docx_gridspan", "docx", {"gridspan": 1}),
    ("docx_vmerge", "docx", {"vmerge": 1}),
    ("docx_nested", "docx", {"nested": 1}),
    ("docx_vmerge_nested_swap", "docx", {"vmerge": 1, "nested": 1, "t2_swaps": "pick"}),
    ("docx_dash_blank", "docx", {"blank": "——", "n_blank": 4}),
    ("docx_f2019_2023", "docx", {"f2019_apps": 1}),
    ("html_split", "html", {"split_tables": 1}),
    ("html_split_thead", "html", {"split_tables": 1, "repeat_thead": 1}),
    ("html_split_footer", "html", {"split_tables": 1, "repeat_thead": 1, "footer_between": 1}),
    ("html_span_nbsp", "html", {"span_nbsp": 1}),
    ("html_title_tag", "html", {"title_tag": 1}),
    ("html_title_tag_cn_year", "html", {"title_tag": 1, "cn_year": 1}),
    ("html_slash_blank", "html", {"blank": "/", "n_blank": 4, "span_nbsp": 1}),
    ("twocol", "twocol", {}),
    ("twocol_swap", "twocol", {"t2_swaps": "pick"}),
    ("text_cn_year", "text", {"cn_year": 1}),
    ("text_cn_year_two_line", "text", {"cn_year": 1, "layout": "pdf_broken"}),
    ("text_dash_blank", "text", {"blank": "——", "n_blank": 4}),
    ("text_dash_blank_space", "text", {"blank": "——", "n_blank": 4, "layout": "space"}),
    ("agency_names", "text", {"agency": 1}),
    ("agency_names_html", "html", {"agency": 1, "title_tag": 1}),
    ("agency_names_docx", "docx", {"agency": 1, "cn_year": 1}),
]


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    manifest = []
    reports = M.load_reports()
    for ri, base in enumerate(reports):
        rng = random.Random(9000 + ri)
        for name, kind, opts in FAMILIES:
            rep = base.copy()
            o = dict(opts)
            if o.get("t2_swaps") == "pick":
                o["t2_swaps"] = [G.SWAPS[(ri + 3) % len(G.SWAPS)]]
            if o.get("f2019_apps"):
                M.to_f2019_applications(rep.truth)
            if o.get("agency"):
                rep.truth["agency"] = AGENCIES[ri % len(AGENCIES)]
            if "blank" in o:
                o["blank_mark"] = o["blank"]
                G.blank_cells(rep.truth, rng, o["n_blank"], o["blank"])
            data = {"docx": build_docx, "html": build_html2, "twocol": build_twocol, "text": build_text, "ocr": build_ocr, "html_rs": build_html_rowspan, "marks": build_marks, "no_total": build_no_total, "sup": build_html_sup, "sup_docx": build_html_sup, "marks_b": build_marks_before, "thou": build_space_thousands}[kind](rep, o, rng)
            ext = {"docx": "docx", "html": "html", "html_rs": "html", "sup": "html", "sup_docx": "docx", "thou": "html"}.get(kind, "txt")
            vid = f"{base.name}_{name}"
            (OUT / f"{vid}.{ext}").write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
            (OUT / f"{vid}.truth.json").write_text(json.dumps(rep.truth, ensure_ascii=False, indent=1), encoding="utf-8")
            manifest.append({"id": vid, "file": f"{vid}.{ext}", "desc": f"{base.name} {name} {o}"})
    import pdfgen2
    for vid, data, ext, truth, desc in pdfgen2.make_all(reports):
        (OUT / f"{vid}.{ext}").write_bytes(data)
        (OUT / f"{vid}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
        manifest.append({"id": vid, "file": f"{vid}.{ext}", "desc": desc})
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    print(len(manifest), "variants")


if __name__ == "__main__":
    main()
