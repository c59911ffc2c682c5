"""Synthetic reports in every text layout of FORMAT.md §7 (pure, seeded).

Used by the tests (one fragment per layout and marker), the benchmark corpus and the
fuzzing drills. ``make_report`` draws a report whose numbers satisfy the invariants;
``render_text`` prints it the way a given web-to-text conversion would. Raw overrides
(``raw={"applications.new_received.total": "/"}``) print a cell as given, to plant
markers and errors.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from transforms import formatspec as fs

LAYOUTS = (
    "pipe_rows",  # §7.1 row per line, " | ", no fillers
    "markdown_fillers",  # §7.2 leading pipe, trailing filler cells
    "cell_per_line",  # §7.3 one cell per line ending " |"
    "cell_per_line_sep",  # §7.3 variant: separator on its own line
    "paragraphs",  # §7.4 cells as blank-line separated paragraphs (blank cells vanish)
    "padded",  # §7.5 cells with embedded newlines and padding
    "pdf_space",  # §7.6 space separated, vertical header text
    "runs",  # cells ran together with no separators (平潭)
)

AGENCIES = ("六盘水市", "衢州市人民政府办公室", "南宾街道办事处", "硚口区人民政府", "淮安市人民政府", "普洱市卫生健康委员会",
            "临夏州公安局", "武汉市生态环境局", "高平市人民政府办公室", "金昌市统计局")


def _draw(rng: random.Random, scale: int) -> int:
    r = rng.random()
    if r < 0.45:
        return 0
    if r < 0.75:
        return rng.randint(1, 9)
    return rng.randint(10, max(10, scale))


def make_report(rng: random.Random | int = 0, *, template_ad: str = fs.F2021, template_app: str = fs.F2021,
                agency: str | None = None, year: int = 2024, scale: int = 300) -> dict:
    """A contract object whose numbers satisfy H1-H6."""
    rng = rng if isinstance(rng, random.Random) else random.Random(rng)
    cols = [c.key for c in fs.APPLICANT_COLUMNS]
    parts = list(fs.APPLICANT_PARTS)
    app: dict[str, dict] = {}
    for row in fs.app_rows(template_app):
        if row.leaf:
            vals = {c: _draw(rng, scale if c == "natural_person" else scale // 20) for c in parts}
            vals["total"] = sum(vals.values())
            app[row.key] = vals
    total = {c: sum(app[k][c] for k in fs.app_leaves(template_app)) for c in cols}
    carried_over = {c: _draw(rng, 20) if c == "natural_person" else 0 for c in parts}
    carried_over["total"] = sum(carried_over.values())
    carried_forward = {c: min(_draw(rng, 20), total[c] + carried_over[c]) if c == "natural_person" else 0
                       for c in parts}
    carried_forward["total"] = sum(carried_forward.values())
    new = {c: total[c] + carried_forward[c] - carried_over[c] for c in cols}
    if any(v < 0 for v in new.values()):  # keep H1 with non-negative cells
        carried_over = dict(carried_forward)
        new = dict(total)
    out_app = {}
    for row in fs.app_rows(template_app):
        out_app[row.key] = {
            "new_received": new, "carried_over": carried_over, "total_processed": total,
            "carried_forward": carried_forward,
        }.get(row.key, app.get(row.key))
        out_app[row.key] = {c: out_app[row.key][c] for c in cols}
    rl = {}
    for g in fs.RL_GROUPS:
        vals = {o: _draw(rng, 30) for o in ("upheld", "corrected", "other", "pending")}
        vals["total"] = sum(vals.values())
        rl[g.key] = vals
    ad: dict[str, dict] = {}
    for item in fs.AD_ITEMS[template_ad]:
        ad[item.key] = {}
        for m in item.measures:
            vtype = fs.AD_MEASURES[template_ad][m].vtype
            if vtype == fs.DECIMAL:
                ad[item.key][m] = round(rng.random() * 500, 2)
            elif vtype == fs.SIGNED:
                ad[item.key][m] = rng.randint(-9, 9)
            elif vtype == fs.AMOUNT:
                ad[item.key][m] = rng.randint(0, 900000)
            else:
                ad[item.key][m] = _draw(rng, 5000)
        v = ad[item.key]  # keep the soft checks S3-S5 true too: planted errors are explicit
        if template_ad == fs.F2021 and item.key in ("regulations", "normative_documents"):
            v["in_force"] = max(v["in_force"], v["issued"])
        if "new_published" in v:
            v["new_published"] = min(v["new_published"], v["new_made"])
            v["total_published"] = max(v["total_published"], v["new_published"])
        if "prev_items" in v:
            v["delta_items"] = max(v["delta_items"], -v["prev_items"])
    return {
        "contract": "xxgk.report/1",
        "agency": agency or rng.choice(AGENCIES),
        "year": year,
        "templates": {"active_disclosure": template_ad, "applications": template_app, "review_litigation": "standard"},
        "active_disclosure": ad,
        "applications": out_app,
        "review_litigation": rl,
        "findings": [],
    }


# --------------------------------------------------------------------------- table rows
Row = tuple[list[str], int, bool]  # cells, trailing fillers, is-header


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v == int(v) else repr(v)  # repr: the shortest exact form
    return str(v)


def _val(report: dict, raw: dict, path: str) -> str:
    if path in raw:
        return raw[path]
    table, item, measure = path.split(".")
    return _fmt(((report.get(table) or {}).get(item) or {}).get(measure))


def _t1_rows(report: dict, raw: dict) -> list[Row]:
    tpl = report["templates"]["active_disclosure"]
    ms = fs.AD_MEASURES[tpl]
    rows: list[Row] = []
    last_block = None
    for item in fs.AD_ITEMS[tpl]:
        if item.block != last_block:
            last_block = item.block
            rows.append(([item.block], 3, True))
            heads = ["信息内容"] + [ms[m].label for m in item.measures]
            rows.append((heads, 4 - len(heads), True))
        vals = [_val(report, raw, f"active_disclosure.{item.key}.{m}") for m in item.measures]
        rows.append(([item.label] + vals, 3 - len(vals), False))
    return rows


def _t2_rows(report: dict, raw: dict) -> list[Row]:
    tpl = report["templates"]["applications"]
    rows: list[Row] = [
        (["(本列数据的勾稽关系为:第一项加第二项之和,等于第三项加第四项之和)", "申请人情况"], 8, True),
        (["自然人", "法人或其他组织", "总计"], 4, True),
        (["商业企业", "科研机构", "社会公益组织", "法律服务机构", "其他"], 0, True),
    ]
    group_seen: set[str] = set()
    groups = {g.key: g.label for g in fs.APP_GROUPS}
    for row in fs.app_rows(tpl):
        labels = []
        if row.key == "granted":
            labels.append("三、本年度办理结果")
        if row.group and row.group not in group_seen and (row.group != "other" or tpl == fs.F2021):
            group_seen.add(row.group)
            labels.append(groups[row.group])
        label = row.label
        if row.key == "total_processed":
            label = "(七)总计"
        labels.append(label)
        vals = [_val(report, raw, f"applications.{row.key}.{c.key}") for c in fs.APPLICANT_COLUMNS]
        rows.append((labels + vals, max(0, 3 - len(labels)), False))
    return rows


def _t3_rows(report: dict, raw: dict, vertical: bool = False) -> list[Row]:
    outcomes = ["结果维持", "结果纠正", "其他结果", "尚未审结", "总计"]
    vals = [_val(report, raw, f"review_litigation.{g.key}.{o.key}") for g in fs.RL_GROUPS for o in fs.RL_OUTCOMES]
    if vertical:  # §7.6: header words typeset one character per line
        head = [(["结 结 其 尚", "果 果 他 未", "维 纠 结 审", "持 正 果 结"], 0, True)]
    else:
        head = [(["行政复议", "行政诉讼"], 13, True),
                (outcomes[:4] + ["总计", "未经复议直接起诉", "复议后起诉"], 8, True),
                (outcomes + outcomes, 5, True)]
    return head + [(vals, 0, False)]


def _render_rows(rows: list[Row], layout: str) -> str:
    out: list[str] = []
    for cells, fillers, _header in rows:
        if layout == "pipe_rows":
            out.append(" | ".join(cells) + " |")
        elif layout == "markdown_fillers":
            out.append("| " + " | ".join(cells) + " |" + "|" * fillers)
        elif layout == "cell_per_line":
            lines = [(c + " |") if c else "|" for c in cells]
            lines[-1] += " " + "|" * fillers if fillers else ""
            out.extend(lines)
        elif layout == "cell_per_line_sep":
            for c in cells:
                out.append(c)
                out.append("|")
        elif layout == "paragraphs":
            out.append("\n\n".join(c for c in cells if c) + "\n")
        elif layout == "padded":
            out.append("".join(f"| \n {c}  " for c in cells) + "|" + "|" * fillers)
        elif layout == "pdf_space":
            out.append(" ".join(c for c in cells if c))
        elif layout == "runs":
            out.append("".join(cells))
        else:
            raise ValueError(f"unknown layout {layout!r}")
    joiner = "" if layout == "runs" else "\n"
    return joiner.join(out)


def render_text(report: dict, layout: str = "pipe_rows", *, raw: dict | None = None,
                narrative: bool = True, title: bool = True) -> str:
    """The report as page text in one of ``LAYOUTS``."""
    raw = raw or {}
    agency, year = report.get("agency") or "某单位", report.get("year") or 2024
    nl = "" if layout == "runs" else "\n"
    parts = []
    if title:
        parts.append(f"{agency}{year}年政府信息公开工作年度报告")
    parts.append(f"根据《中华人民共和国政府信息公开条例》规定,现公布{agency}{year}年政府信息公开工作年度报告。"
                 f"本报告中所列数据统计期限为{year}年1月1日至{year}年12月31日。")
    parts.append("一、总体情况")
    if narrative:
        parts.append(f"{year}年,{agency}认真贯彻落实政务公开工作要求,持续推进政府信息公开工作。")
    if report.get("active_disclosure") is not None:
        parts.append("二、主动公开政府信息情况")
        parts.append(_render_rows(_t1_rows(report, raw), layout))
    if report.get("applications") is not None:
        parts.append("三、收到和处理政府信息公开申请情况")
        parts.append(_render_rows(_t2_rows(report, raw), layout))
    if report.get("review_litigation") is not None:
        parts.append("四、政府信息公开行政复议、行政诉讼情况")
        parts.append(_render_rows(_t3_rows(report, raw, vertical=layout == "pdf_space"), layout))
    parts.append("五、存在的主要问题及改进情况")
    parts.append("一是公开质量有待提高。二是平台建设有待加强。")
    parts.append("六、其他需要报告的事项")
    parts.append("本年度未收取信息处理费。")
    return nl.join(parts) + nl


def corpus(n: int, seed: int = 0, layouts=LAYOUTS, f2019_share: float = 0.15,
           mutate: Callable[[random.Random, dict], dict] | None = None):
    """Yield (report, layout, text) for n reproducible synthetic reports."""
    rng = random.Random(seed)
    for i in range(n):
        old = rng.random() < f2019_share
        tpl = fs.F2019 if old else fs.F2021
        report = make_report(rng, template_ad=tpl, template_app=tpl, year=2020 if old else 2024,
                             agency=f"{rng.choice(AGENCIES)}{i}")
        raw = mutate(rng, report) if mutate else {}
        layout = layouts[i % len(layouts)]
        yield report, layout, render_text(report, layout, raw=raw)
