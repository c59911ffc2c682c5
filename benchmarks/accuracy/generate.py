"""Generate the adversarial corpus: corpus/<id>.{txt,html,pdf} + corpus/<id>.truth.json + MANIFEST.json.

Each variant re-typesets a real report's true values (expected JSON) the way a web-to-text
converter or a PDF extractor mangles them, with one or a few traps, and records the truth the
typesetting implies (blanked cells become null, etc.). Deterministic (seeded RNG).
"""

from __future__ import annotations

import json
import random
import re
import shutil

import model as M

OUT = M.OUT_ROOT / "corpus"
FULLWIDTH = str.maketrans("0123456789.", "０１２３４５６７８９．")


# ------------------------------------------------------------------ values
def fmt(v, o) -> str:
    if v is None:
        return o.get("blank_mark", "")
    if isinstance(v, float):
        s = repr(v)
    else:
        s = str(v)
    if o.get("thousands") and isinstance(v, int) and abs(v) >= 1000:
        s = f"{v:,}"
    if o.get("fullwidth"):
        s = s.translate(FULLWIDTH)
    if o.get("unit_suffix") and isinstance(v, int):
        s += "件"
    return s


# ------------------------------------------------------------------ tables as rows of cells
def t1_rows(truth, o):
    blocks = M.T1_F2019 if truth["templates"]["active_disclosure"] == "F2019" else M.T1_F2021
    ad = truth["active_disclosure"]
    rows = []
    for caption, heads, items in blocks:
        rows.append({"kind": "caption", "cells": [caption]})
        rows.append({"kind": "head", "cells": ["信息内容"] + heads})
        for key, label, measures in items:
            if key == "normative_documents" and o.get("norm_f2019_label"):
                label = "规范性文件"
            rows.append({"kind": "data", "key": key, "cells": [label], "vals": [fmt(ad[key][m], o) for m in measures]})
    if o.get("t1_swap"):  # swap 规章 and 行政规范性文件 (labelled), and 行政处罚/行政强制
        _swap_keys(rows, "regulations", "normative_documents")
        _swap_keys(rows, "penalty", "coercion")
    return rows


def _swap_keys(rows, a, b):
    ia = next(i for i, r in enumerate(rows) if r.get("key") == a)
    ib = next(i for i, r in enumerate(rows) if r.get("key") == b)
    rows[ia], rows[ib] = rows[ib], rows[ia]


def t2_rows(truth, o):
    f2019 = truth["templates"]["applications"] == "F2019"
    spec = M.APP_ROWS_F2019 if f2019 else M.APP_ROWS_F2021
    apps = truth["applications"]
    rows = [
        {"kind": "head", "cells": [M.APP_HEADER_NOTE, "申请人情况"]},
        {"kind": "head", "cells": ["自然人", "法人或其他组织", "总计"]},
        {"kind": "head", "cells": ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]},
    ]
    for key, group, leaf in spec:
        labels = [group, leaf] if group else [leaf]
        if o.get("truncate_labels") and len(leaf) > 20:
            labels[-1] = leaf[:-4]  # "…行政机关不再处理其政府信息公" style truncation
        rows.append({"kind": "data", "key": key, "cells": labels, "vals": [fmt(apps[key][c], o) for c in M.COLS]})
    if o.get("group_rows") or o.get("subtotals"):
        # a group label printed as a row of its own: blank cells, or a local subtotal row (FORMAT §6 H3a)
        out = []
        for r in rows:
            if r.get("kind") == "data" and len(r["cells"]) == 2 and not r["cells"][0].startswith("三"):
                members = _group_members(spec, r["key"])
                if o.get("subtotals"):
                    vals = [fmt(sum(apps[k][c] or 0 for k in members), o) for c in M.COLS]
                else:
                    vals = [""] * 7
                out.append({"kind": "data", "key": None, "cells": [r["cells"][0] + ("小计" if o.get("subtotals") else "")],
                            "vals": vals})
                r = dict(r, cells=r["cells"][1:])
            out.append(r)
        rows = out
    if o.get("org_subtotal"):  # a non-template 法人或其他组织 小计 column after 其他
        rows[2] = {"kind": "head", "cells": rows[2]["cells"] + ["小计"]}
        for r in rows:
            if r.get("kind") == "data":
                k = r["key"]
                sub = sum(apps[k][c] or 0 for c in M.COLS[1:6]) if k else ""
                r["vals"] = r["vals"][:6] + [fmt(sub, o) if k else ""] + r["vals"][6:]
    for a, b in o.get("t2_swaps", []):
        _swap_keys(rows, a, b)
        # a group label travels with the first row of its group: keep it on the group's first row
        _fix_groups(rows, spec)
    return rows


def _fix_groups(rows, spec):
    groups = {k: g for k, g, _ in spec if g}
    leaf = {k: lf for k, _, lf in spec}
    for r in rows:
        if r.get("kind") == "data":
            r["cells"] = [r["cells"][-1]] if len(r["cells"]) > 1 else r["cells"]
    for key, g in groups.items():
        # the group label goes on the first row, in print order, of the rows that belong to it
        members = _group_members(spec, key)
        first = next(r for r in rows if r.get("key") in members)
        first["cells"] = [g] + first["cells"]
    del leaf


def _group_members(spec, first_key):
    out, on = [], False
    for k, g, _ in spec:
        if k == first_key:
            on = True
        elif (g or k in ("total_processed", "other_processing")) and on:
            break
        if on:
            out.append(k)
    if first_key == "granted":  # 三、本年度办理结果 spans to （七）总计
        out = [k for k, _, _ in spec][2:-1]
    return out


TRAD = str.maketrans("规范许处罚强费额万单请数结转办开务机关应复议诉讼维纠审计总项条发废现决协统书类属国门违议",
                     "規範許處罰強費額萬單請數結轉辦開務機關應復議訴訟維糾審計總項條發廢現決協統書類屬國門違議")


def t3_rows(truth, o):
    rl = truth["review_litigation"]
    if o.get("rl_subtables"):
        rows = []
        for g, title in zip(M.RL_GROUPS, ["行政复议", "行政诉讼（未经复议直接起诉）", "行政诉讼（复议后起诉）"]):
            rows.append({"kind": "caption", "cells": [title]})
            rows.append({"kind": "head", "cells": list(M.RL_OUTCOME_LABELS)})
            rows.append({"kind": "data", "key": g, "cells": [], "vals": [fmt(rl[g][x], o) for x in M.RL_OUTCOMES]})
        return rows
    return [
        {"kind": "head", "cells": ["行政复议", "行政诉讼"]},
        {"kind": "head", "cells": M.RL_OUTCOME_LABELS + ["未经复议直接起诉", "复议后起诉"]},
        {"kind": "head", "cells": M.RL_OUTCOME_LABELS * 2},
        {"kind": "data", "key": "t3", "cells": [], "vals": [fmt(rl[g][x], o) for g in M.RL_GROUPS for x in M.RL_OUTCOMES]},
    ]


# ------------------------------------------------------------------ layouts
def _split_label(label, parts):
    n = len(label)
    cuts = [round(n * i / parts) for i in range(parts + 1)]
    return [label[cuts[i]:cuts[i + 1]] for i in range(parts)]


def render_rows(rows, layout, o, rng):
    out = []
    for r in rows:
        cells, vals = r["cells"], r.get("vals", [])
        if r["kind"] != "data":
            if layout in ("pipe", "md"):
                out.append(("| " if layout == "md" else "") + " | ".join(cells) + " |")
            elif layout == "cell":
                out += [c + " |" for c in cells]
            elif layout == "para":
                out += [c + "\n" for c in cells]
            else:  # PDF text: header words wrapped
                out += cells if layout != "pdf_vertical" else [" ".join(c[i] if i < len(c) else "" for c in cells) for i in range(4)]
            continue
        if o.get("extra_empty") and rng.random() < 0.3:
            vals = [""] + vals if layout in ("pipe", "md", "cell") else vals
        if layout == "pipe":
            out.append(" | ".join(cells + vals) + " |")
        elif layout == "md":
            fill = " ||" if len(cells) == 1 else " |"
            out.append("| " + " | ".join(cells + vals) + " |" + fill)
        elif layout == "cell":
            out += [c + " |" for c in cells] + [(v + " |") if v else "|" for v in vals]
        elif layout == "para":
            out += [c + "\n" for c in cells] + [v + "\n" for v in vals if v]
        elif layout == "space":  # PDF row: label then numbers on one line
            out.append(" ".join(cells + [v for v in vals if v]))
        elif layout in ("pdf_before", "pdf_vertical"):  # numbers line, then the label (centred cell baseline)
            if vals:
                out.append(" ".join(v for v in vals if v))
            out += cells
        elif layout == "pdf_broken":  # labels wrapped over 2-4 lines, numbers on the middle line
            lines = []
            for c in cells:
                parts = min(4, max(1, len(c) // 7))
                lines += _split_label(c, parts)
            mid = len(lines) // 2
            numbers = " ".join(v for v in vals if v)
            if numbers:
                lines.insert(mid, numbers)
            out += lines
        elif layout == "pdf_colmajor":  # handled per block below
            out.append(" ".join(cells + [v for v in vals if v]))
    return out


def colmajor_t1(rows):
    """pdfminer-like column-major Table 1: each block's labels, then its values column by column."""
    out, block = [], []

    def flush():
        if block:
            out.append(" ".join(r["cells"][0] for r in block))
            for j in range(len(block[0]["vals"])):
                out.append(" ".join(r["vals"][j] for r in block if r["vals"][j]))
            block.clear()
    for r in rows:
        if r["kind"] == "data":
            block.append(r)
        else:
            flush()
            out += r["cells"] if r["kind"] == "caption" else [" ".join(r["cells"])]
    flush()
    return out


def run_together(rows):
    """pingtan style: all cells of a data row glued with no separator."""
    out = []
    for r in rows:
        if r["kind"] == "data":
            out.append("".join(r["cells"]) + "".join(r["vals"]))
        else:
            out.append("".join(r["cells"]))
    return out


# ------------------------------------------------------------------ line-level traps
FOOTERS = ["— 5 —", "- 4 -", "—6—", "第 3 页 共 8 页", "- 7 -"]


def insert_lines(lines, what, rng, count=2, lo=0.2, hi=0.9):
    for _ in range(count):
        i = rng.randint(int(len(lines) * lo), max(int(len(lines) * lo), int(len(lines) * hi)))
        lines.insert(i, what if isinstance(what, str) else rng.choice(what))
    return lines


# ------------------------------------------------------------------ whole document
def title_lines(rep, o):
    ag, y = rep.truth["agency"], rep.truth["year"]
    t = o.get("title", "plain")
    if t == "none":
        return []
    if t == "plain":
        return [f"{ag}{y}年政府信息公开工作年度报告"]
    if t == "two_line":
        return [ag, f"{y}年政府信息公开工作年度报告"]
    if t == "after_year":
        return [f"{ag}{y}年", "政府信息公开工作年度报告"]
    if t == "three_line":
        return [ag[: len(ag) // 2], ag[len(ag) // 2:] + f"{y}年政府信息", "公开工作年度报告"]
    if t == "year_first":
        return [f"{y}年度{ag}", "政府信息公开工作年度报告"]
    if t == "spaced_year":
        return [f"{ag}", f"{y} 年政府信息公开工作年度报告"]
    raise ValueError(t)


NAV = ["首页 > 政府信息公开 > 法定主动公开内容 > 政府信息公开年报", "栏目：政府信息公开年报", "当前位置：首页 > 政务公开",
       "【字体：大 中 小】 打印本页 关闭窗口", "发布时间：2025-01-21 09:30 来源：本网 浏览次数：1024"]
QUOTED = ("根据国务院办公厅政府信息与政务公开办公室《关于印发〈中华人民共和国政府信息公开工作年度报告格式〉的通知》"
          "（国办公开办函〔2021〕30号）和《关于印发〈中华人民共和国政府信息公开条例〉实施细则的通知》要求，编制本报告。")


def build(rep: M.Report, layout: str, o: dict, rng: random.Random) -> str:
    truth = rep.truth
    lines = []
    if o.get("nav"):
        lines += NAV[: o["nav"]]
    if o.get("quoted_first"):
        lines.append(QUOTED)
    lines += title_lines(rep, o)
    pre = rep.preamble
    if o.get("quoted"):
        pre = QUOTED + "\n" + pre
    if o.get("misleading_year"):
        pre = f"截至{truth['year'] + 1}年1月，累计公开信息12万条。2019年以来本级共印发规范性文件58件。\n" + pre
    lines.append(pre)

    def table(rows, which):
        if layout == "run":
            body = run_together(rows)
        elif layout == "pdf_colmajor" and which == "t1":
            body = colmajor_t1(rows)
        else:
            lay = "space" if layout == "pdf_colmajor" else layout
            body = render_rows(rows, lay, o, rng)
        if o.get("footers"):
            insert_lines(body, FOOTERS, rng, count=o["footers"])
        if o.get("lone_one"):
            insert_lines(body, "1", rng, count=1)
        if o.get("page_header"):
            insert_lines(body, f"{truth['agency']}{truth['year']}年政府信息公开工作年度报告", rng, count=1)
        if o.get("traditional"):
            body = [ln.translate(TRAD) for ln in body]
        if o.get("nbsp_q"):  # NBSP shown as "?" before some values (FORMAT §7.10)
            body = [re.sub(r"(?<=\| )(\d)", r"? \1", ln) if rng.random() < 0.5 else ln for ln in body]
        if o.get("repeat_header") and which == "t2":
            i = len(body) // 2
            body[i:i] = ["- 3 -", "自然人 法人或其他组织 总计", "商业企业 科研机构 社会公益组织 法律服务机构 其他"]
        return body

    lines.append("二、主动公开政府信息情况")
    if o.get("captions"):
        lines.append("表二：主动公开政府信息情况")
    lines += table(t1_rows(truth, o), "t1")
    lines.append("三、收到和处理政府信息公开申请情况")
    if o.get("captions"):
        lines.append("表一：收到和处理政府信息公开申请情况（单位：件）")
    lines += table(t2_rows(truth, o), "t2")
    lines.append("四、政府信息公开行政复议、行政诉讼情况")
    if o.get("captions"):
        lines.append("表三：政府信息公开行政复议、行政诉讼情况 单位：件 1")
    lines += table(t3_rows(truth, o), "t3")
    lines.append(rep.postamble)
    sep = "\n\n" if layout == "para" else "\n"
    return sep.join(lines)


# ------------------------------------------------------------------ HTML
def build_html(rep: M.Report, o: dict) -> str:
    truth = rep.truth
    td = lambda s, rs=1, cs=1: f"<td rowspan='{rs}' colspan='{cs}'><p><span>{s}</span></p></td>"  # noqa: E731
    h = ["<html><head><meta charset='utf-8'><title>政府信息公开年报</title></head><body>"]
    if o.get("nav"):
        h.append("<div class='nav'>首页 &gt; 政府信息公开 &gt; 年报</div><div>栏目：政府信息公开年报</div>")
    h.append(f"<h1>{''.join('<br>' + x if i else x for i, x in enumerate(title_lines(rep, o)))}</h1>")
    h += [f"<p>{x}</p>" for x in rep.preamble.splitlines()]
    h.append("<p>二、主动公开政府信息情况</p><table border='1'>")
    for r in t1_rows(truth, o):
        if r["kind"] == "caption":
            h.append("<tr>" + td(r["cells"][0], cs=4) + "</tr>")
        elif r["kind"] == "head":
            h.append("<tr>" + td(r["cells"][0]) + "".join(td(c, cs=3 if len(r["cells"]) == 2 else 1) for c in r["cells"][1:]) + "</tr>")
        else:
            h.append("<tr>" + td(r["cells"][0]) + "".join(td(v, cs=3 if len(r["vals"]) == 1 else 1) for v in r["vals"]) + "</tr>")
    h.append("</table><p>三、收到和处理政府信息公开申请情况</p><table border='1'>")
    h.append("<tr>" + td(M.APP_HEADER_NOTE, rs=3, cs=3) + td("申请人情况", cs=7) + "</tr>")
    h.append("<tr>" + td("自然人", rs=2) + td("法人或其他组织", cs=5) + td("总计", rs=2) + "</tr>")
    h.append("<tr>" + "".join(td(c) for c in ["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"]) + "</tr>")
    spec = M.APP_ROWS_F2019 if truth["templates"]["applications"] == "F2019" else M.APP_ROWS_F2021
    rows = [r for r in t2_rows(truth, o) if r["kind"] == "data"]
    span_of = {g: len(_group_members(spec, k)) for k, g, _ in spec if g}
    grp_span = {r["key"]: span_of[r["cells"][0]] for r in rows if len(r["cells"]) == 2}
    for r in rows:
        cells = ""
        if r["key"] in ("new_received", "carried_over", "carried_forward"):
            cells = td(r["cells"][-1], cs=3)
        elif r["key"] == "granted" or (r["key"] in grp_span and len(r["cells"]) == 2 and r["cells"][0].startswith("三")):
            cells = td("三、本年度办理结果", rs=grp_span.get(r["key"], 1)) + td(r["cells"][-1], cs=2)
        elif len(r["cells"]) == 2:
            cells = td(r["cells"][0], rs=grp_span[r["key"]]) + td(r["cells"][-1])
        elif r["key"] in ("partially_granted", "total_processed", "other_processing"):
            cells = td(r["cells"][-1], cs=2)
        else:
            cells = td(r["cells"][-1])
        h.append("<tr>" + cells + "".join(td(v) for v in r["vals"]) + "</tr>")
    h.append("</table><p>四、政府信息公开行政复议、行政诉讼情况</p><table border='1'>")
    rl = truth["review_litigation"]
    h.append("<tr>" + td("行政复议", cs=5) + td("行政诉讼", cs=10) + "</tr>")
    h.append("<tr>" + "".join(td(x, rs=2) for x in M.RL_OUTCOME_LABELS) + td("未经复议直接起诉", cs=5) + td("复议后起诉", cs=5) + "</tr>")
    h.append("<tr>" + "".join(td(x) for x in M.RL_OUTCOME_LABELS * 2) + "</tr>")
    h.append("<tr>" + "".join(td(fmt(rl[g][x], o)) for g in M.RL_GROUPS for x in M.RL_OUTCOMES) + "</tr></table>")
    h += [f"<p>{x}</p>" for x in rep.postamble.splitlines()]
    h.append("</body></html>")
    return "\n".join(h)


# ------------------------------------------------------------------ truth edits
def blank_cells(truth, rng, n, mark):
    """Blank n application cells (and one table-1 cell): the truth becomes null."""
    apps = truth["applications"]
    keys = list(apps)
    done = []
    for _ in range(n):
        k, c = rng.choice(keys), rng.choice(M.COLS)
        apps[k][c] = None
        done.append(f"applications.{k}.{c}")
    truth["active_disclosure"]["regulations"][next(iter(truth["active_disclosure"]["regulations"]))] = None
    return done


# ------------------------------------------------------------------ the variant plan
LAYOUTS = ["pipe", "md", "cell", "para", "space", "pdf_before", "pdf_broken", "pdf_vertical", "pdf_colmajor"]

SWAPS = [("denied_internal_affairs", "denied_process_info"), ("rejected_duplicate", "rejected_publication"),
         ("granted", "partially_granted"), ("unavailable_not_held", "unavailable_needs_creation"),
         ("new_received", "carried_over")]

TRAP_SETS = [
    ("clean", {}),
    ("footers", {"footers": 3}),
    ("lone_one", {"lone_one": 1}),
    ("captions", {"captions": 1}),
    ("norm_f2019_label", {"norm_f2019_label": 1}),
    ("extra_empty", {"extra_empty": 1}),
    ("truncated", {"truncate_labels": 1}),
    ("rl_subtables", {"rl_subtables": 1}),
    ("t1_swap", {"t1_swap": 1}),
    ("t2_swap", {"t2_swaps": "pick"}),
    ("page_header", {"page_header": 1}),
    ("repeat_header", {"repeat_header": 1}),
    ("fullwidth", {"fullwidth": 1}),
    ("thousands", {"thousands": 1}),
    ("unit_suffix", {"unit_suffix": 1}),
    ("blank_cells", {"blank": "", "n_blank": 4}),
    ("slash_cells", {"blank": "/", "n_blank": 4}),
    ("f2019_apps", {"f2019_apps": 1}),
    ("f2019_both", {"f2019_apps": 1, "f2019_active": 1}),
    ("group_rows", {"group_rows": 1}),
    ("subtotal_rows", {"subtotals": 1}),
    ("org_subtotal_col", {"org_subtotal": 1}),
    ("traditional", {"traditional": 1}),
    ("nbsp_q", {"nbsp_q": 1}),
    ("subtotals_swap", {"subtotals": 1, "t2_swaps": "pick"}),
    ("combo", {"footers": 2, "lone_one": 1, "captions": 1, "norm_f2019_label": 1, "t2_swaps": "pick"}),
]

META_SETS = [
    ("title_two_line", {"title": "two_line"}),
    ("title_after_year", {"title": "after_year"}),
    ("title_three_line", {"title": "three_line"}),
    ("title_year_first", {"title": "year_first"}),
    ("title_spaced_year", {"title": "spaced_year"}),
    ("nav_first", {"nav": 5}),
    ("nav_first_no_title", {"nav": 3, "title": "none"}),
    ("quoted_notice_first", {"quoted_first": 1, "title": "after_year"}),
    ("quoted_notice_prose", {"quoted": 1, "nav": 2}),
    ("misleading_year", {"misleading_year": 1, "title": "two_line"}),
]


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    manifest = []
    reports = M.load_reports()

    def save(vid, data, ext, truth, desc):
        (OUT / f"{vid}.{ext}").write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        (OUT / f"{vid}.truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1), encoding="utf-8")
        manifest.append({"id": vid, "file": f"{vid}.{ext}", "desc": desc})

    for ri, base in enumerate(reports):
        rng = random.Random(1000 + ri)
        for layout in LAYOUTS:
            for tname, topts in TRAP_SETS:
                # keep the corpus small: every trap in 4 layouts per report, rotating
                if tname != "clean" and (LAYOUTS.index(layout) + TRAP_SETS.index((tname, topts)) + ri) % 3:
                    continue
                rep = base.copy()
                o = dict(topts)
                if o.get("t2_swaps") == "pick":
                    o["t2_swaps"] = [rng.choice(SWAPS)]
                if o.get("f2019_apps"):
                    M.to_f2019_applications(rep.truth)
                if o.get("f2019_active"):
                    M.to_f2019_active(rep.truth)
                desc = f"{base.name} layout={layout} trap={tname} {o}"
                if "blank" in o:
                    o["blank_mark"] = o["blank"]
                    blank_cells(rep.truth, rng, o["n_blank"], o["blank"])
                text = build(rep, layout, o, rng)
                save(f"{base.name}_{layout}_{tname}", text, "txt", rep.truth, desc)
        # run-together digits (pingtan style), clean and with a swap
        for tname, o in [("clean", {}), ("t2_swap", {"t2_swaps": [SWAPS[ri % len(SWAPS)]]})]:
            rep = base.copy()
            save(f"{base.name}_run_{tname}", build(rep, "run", o, rng), "txt", rep.truth, f"{base.name} layout=run {o}")
        # metadata traps on a clean pipe layout and on PDF-like text
        for mname, mo in META_SETS:
            for layout in ("pipe", "pdf_broken"):
                rep = base.copy()
                save(f"{base.name}_{layout}_{mname}", build(rep, layout, dict(mo), rng), "txt", rep.truth,
                     f"{base.name} layout={layout} meta={mname}")
        # HTML: clean, rows swapped, nav+two-line title, F2019 applications
        for hname, ho in [("clean", {}), ("t2_swap", {"t2_swaps": [SWAPS[(ri + 1) % len(SWAPS)]]}),
                          ("nav_title", {"nav": 1, "title": "two_line"}), ("f2019_apps", {"f2019_apps": 1}),
                          ("norm_f2019_label", {"norm_f2019_label": 1, "t1_swap": 1})]:
            rep = base.copy()
            if ho.get("f2019_apps"):
                M.to_f2019_applications(rep.truth)
            save(f"{base.name}_html_{hname}", build_html(rep, ho), "html", rep.truth, f"{base.name} html {ho}")
    # the no-table seed with metadata traps
    nt = M.no_tables_report()
    for mname, pre in [("nav", "\n".join(NAV) + "\n"), ("quoted", QUOTED + "\n")]:
        save(f"002_notables_{mname}", pre + nt.preamble, "txt", nt.truth, f"002 no tables {mname}")
    try:
        import pdfgen
        for item in pdfgen.make_all(reports):
            save(*item)
    except ImportError:
        pass
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    print(len(manifest), "variants")


if __name__ == "__main__":
    main()
