"""The report site: static pages in Chinese under ``$XXGK_HOME/site/``, built from marts.duckdb.

An index of regions and years, a page per region (province and city) and a page per agency:
the year's figures, trends across the years as SVG charts drawn here (no script, nothing from
the internet: the pages work offline), the quality status with the failing checks in words, and
links to the source URL and to the stored copy in the raw store. Built by ``xxgk site`` and after
each publish. The new site is written beside the old one and swapped in with a rename.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import uuid
from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

from reportsite.svg import bar_chart, line_chart
from transforms import formatspec as fs
from warehouse.export import open_marts
from warehouse.layout import SITE, Layout
from warehouse.statuses import PUBLISHED, QUARANTINED

SITE_DIR = SITE

CSS = """
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei","PingFang SC",
sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#23466e;color:#fff;padding:14px 24px}header a{color:#fff}
main{padding:12px 24px;max-width:1200px}h1{font-size:22px;margin:4px 0}h2{font-size:18px;margin-top:28px;
border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:8px 0;background:#fff}
td,th{border:1px solid #ccc;padding:4px 8px;font-size:14px}th{background:#eef2f7}td.n{text-align:right}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{background:#fff;border:1px solid #ddd}
.chart .ct{font-size:14px;font-weight:bold}.chart .ax{font-size:11px;fill:#444}.chart .lg{font-size:12px}
.chart .grid{stroke:#e4e4e4}.ok{color:#237a3b}.bad{color:#b3261e;font-weight:bold}.warn{color:#9a6700}
footer{color:#777;font-size:12px;padding:24px}
"""

LEVELS = ("省", "市", "县", "乡镇街道", "部门")


def _id(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode()).hexdigest()[:12]


def _n(v: Any, percent: bool = False) -> str:
    if v is None:
        return "—"
    if percent:
        return f"{v * 100:.1f}%"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.2f}"
    return f"{int(v):,}"


def _page(title: str, body: str, root: str, crumbs: list[tuple[str, str]] | None = None) -> str:
    nav = " › ".join(f'<a href="{escape(h)}">{escape(t)}</a>' for t, h in [("首页", f"{root}index.html"),
                                                                          *(crumbs or [])])
    return (f'<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{escape(title)} · 政府信息公开年报数据</title><style>{CSS}</style></head><body>"
            f'<header><div>{nav}</div><h1>{escape(title)}</h1></header><main>{body}</main>'
            f"<footer>政府信息公开工作年度报告数据（xxgk）：数值按年报所印，未通过硬性检查的年报被隔离、不计入数字。"
            f"</footer></body></html>\n")


def _rows(con, sql: str, params: dict | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _load(con) -> dict[str, Any]:
    """What the index and the region pages need: every agency, the figures the region pages list
    (not whole rows: the agency pages read theirs a part at a time), the regions' rows and the
    reports counted per year."""
    return {
        "agencies": _rows(con, "SELECT * FROM dim_agency ORDER BY province, city, county, name"),
        "figures": _rows(con, "SELECT agency_id, year, applications_received, disclosure_rate "
                              "FROM mart_agency_year ORDER BY agency_id, year"),
        "regions": _rows(con, "SELECT * FROM mart_region_year ORDER BY province, city, level, year"),
        "years": con.execute("SELECT year, count(*) FILTER (WHERE status = $p), count(*) FILTER (WHERE status = $q), "
                             "count(*) FROM dim_report GROUP BY year ORDER BY year",
                             {"p": PUBLISHED, "q": QUARANTINED}).fetchall(),
    }


AGENCY_CHUNK = 2000  # agencies whose rows are read and written at once (a year of 100,000 agencies is ~5 KB each)


def _agency_chunks(con, shard: int = 0, shards: int = 1):
    """The rows of the agency pages of one part (every ``shards``-th agency by id), a chunk of
    agencies at a time: (agencies, figures, quality, reports), the last three grouped by agency."""
    ids = [a for (a,) in con.execute("SELECT agency_id FROM dim_agency ORDER BY agency_id").fetchall()][shard::shards]
    for start in range(0, len(ids), AGENCY_CHUNK):
        chunk = {"ids": ids[start:start + AGENCY_CHUNK]}
        chosen = "agency_id IN (SELECT unnest($ids))"
        yield (_rows(con, f"SELECT * FROM dim_agency WHERE {chosen} ORDER BY agency_id", chunk),
               *(_group(_rows(con, f"SELECT agency_id, {', '.join(cols)} FROM {t} WHERE {chosen} "
                                   "ORDER BY agency_id, year", chunk), "agency_id")
                 for t, cols in AGENCY_PAGE_COLUMNS.items()))


def _check_words(names: str | None) -> list[str]:
    """'H1[column=total], S3[item=x]' → one sentence per check, in Chinese where known."""
    out = []
    for name in [n.strip() for n in (names or "").split(", ") if n.strip()]:
        cid, _, scope = name.partition("[")
        inv = fs.INVARIANTS_BY_ID.get(cid)
        words = fs.CHECK_WORDS_ZH.get(cid) or (inv.statement if inv else fs.OTHER_CHECKS.get(cid, ("", cid))[1])
        out.append(f"{cid}{'（' + scope.rstrip(']') + '）' if scope else ''}：{words}")
    return out


FIGURE_COLUMNS = (
    ("applications_received", "新收申请", False), ("applications_processed", "办理结果总计", False),
    ("granted", "予以公开", False), ("partially_granted", "部分公开", False), ("denied", "不予公开", False),
    ("disclosure_rate", "公开率", True), ("review_total", "行政复议", False), ("litigation_total", "行政诉讼", False),
    ("correction_rate", "纠错率", True), ("fees_10k_yuan", "收费(万元)", False),
)


def _figures_table(rows: list[dict[str, Any]], first: tuple[str, str] = ("year", "年度")) -> str:
    head = "".join(f"<th>{t}</th>" for t in (first[1], *(c[1] for c in FIGURE_COLUMNS)))
    body = "".join("<tr><td>" + escape(str(r[first[0]] if r[first[0]] is not None else "—")) + "</td>"
                   + "".join(f'<td class="n">{_n(r.get(c), p)}</td>' for c, _t, p in FIGURE_COLUMNS) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


# The columns an agency page shows, read alone (the marts' other columns, e.g. the previous year's
# figures and the fetch times, cost their conversion to Python for nothing).
AGENCY_PAGE_COLUMNS = {
    "mart_agency_year": ("year", *dict.fromkeys([c for c, _t, _p in FIGURE_COLUMNS] + ["cases_corrected"])),
    "mart_quality": ("year", "status", "checks_passed", "checks_warned", "checks_failed", "failed_checks",
                     "warned_checks", "reasons"),
    "dim_report": ("year", "source_url", "content_sha256"),
}


def _trend_charts(rows: list[dict[str, Any]]) -> str:
    years = [str(r["year"]) for r in rows]
    col = lambda c: [r.get(c) for r in rows]  # noqa: E731
    charts = [
        bar_chart("收到申请及办理结果", years, [("新收申请", col("applications_received")), ("予以公开", col("granted")),
                                        ("部分公开", col("partially_granted")), ("不予公开", col("denied"))]),
        bar_chart("行政复议与行政诉讼", years, [("行政复议", col("review_total")), ("行政诉讼", col("litigation_total")),
                                        ("结果纠正", col("cases_corrected"))]),
        line_chart("公开率（予以公开 + 部分公开）/ 办理总计", years, [("公开率", col("disclosure_rate"))]),
    ]
    return '<div class="charts">' + "".join(charts) + "</div>"


def _agency_page(a: dict, figures: list[dict], quality: list[dict], reports: list[dict], raw_rel: str | None) -> str:
    where = " ".join(x for x in (a["province"], a["city"], a["county"]) if x)
    body = [f"<p>{escape(where)}{'，层级：' + escape(a['level']) if a['level'] else ''}</p>"]
    if figures:
        latest = figures[-1]
        body.append(f"<h2>{latest['year']} 年主要数字</h2>" + _figures_table([latest]))
        # The years' table only for more than one year: with one it would repeat the table above.
        years = _figures_table(figures) if len(figures) > 1 else ""
        body.append("<h2>历年趋势</h2>" + _trend_charts(figures) + years)
    else:
        body.append("<p class='bad'>尚无通过检查的年报，没有可发布的数字。</p>")
    body.append("<h2>质量状况</h2><table><tr><th>年度</th><th>状态</th><th>通过</th><th>提示</th><th>失败</th>"
                "<th>未通过的检查</th></tr>")
    for q in quality:
        ok = q["status"] == PUBLISHED
        words = _check_words(q["failed_checks"]) + [f"（提示）{w}" for w in _check_words(q["warned_checks"])]
        if not words and q["reasons"]:
            words = [q["reasons"]]
        body.append(f"<tr><td>{q['year']}</td><td class='{'ok' if ok else 'bad'}'>{'已发布' if ok else '已隔离'}</td>"
                    f"<td class='n'>{q['checks_passed']}</td><td class='n'>{q['checks_warned']}</td>"
                    f"<td class='n'>{q['checks_failed']}</td><td>{'<br>'.join(escape(w) for w in words) or '—'}"
                    "</td></tr>")
    body.append("</table><h2>年报原文</h2><ul>")
    for r in reports:
        src = (f'<a href="{escape(r["source_url"])}" rel="noreferrer">{escape(r["source_url"])}</a>'
               if r["source_url"] else "—")
        copy = (f' · <a href="{escape(raw_rel)}/{r["content_sha256"][:2]}/{r["content_sha256"]}">存档副本</a>'
                if raw_rel and r["content_sha256"] else "")
        body.append(f"<li>{r['year']} 年：{src}{copy}</li>")
    body.append("</ul>")
    return "".join(body)


def _region_label(province: str | None, city: str | None) -> str:
    return f"{province or '未注明省份'} {city or '（省直属及未设市的机关）'}"


def build_site(home: Path, raw_dir: Path | None = None, shards: int = 1, run_shards=None,
               min_agencies: int = 0) -> Path:
    """Build ``home/site/`` from ``home/marts.duckdb``; returns the index page's path.

    ``shards`` > 1: the agency pages (most of the work) are written in that many parts, each by
    ``run_shards(jobs)``, which calls ``write_agency_pages(*job)`` for every job, e.g. in worker
    processes, while this process writes the region pages and the index (from ``min_agencies`` on).
    """
    home = Path(home)
    tmp = render_site(Layout(home).marts, home, raw_dir, shards, run_shards, min_agencies)
    return swap_in(home, tmp)


def render_site(marts: Path, home: Path, raw_dir: Path | None = None, shards: int = 1, run_shards=None,
                min_agencies: int = 0) -> Path:
    """The pages of ``home``'s site, from ``marts`` (a file with the published dimensions and marts),
    written to a new folder beside ``home/site/`` (returned); ``swap_in`` makes it the site,
    ``discard`` removes it."""
    home = Path(home)
    tmp = home / f".{SITE_DIR}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        with contextlib.closing(open_marts(marts)) as con:
            _render(con, str(marts), home, tmp, raw_dir, shards, run_shards, min_agencies)
    except BaseException:
        discard(tmp)
        raise
    return tmp


def swap_in(home: Path, tmp: Path) -> Path:
    """The rendered folder ``tmp`` made ``home/site/`` with a rename; the old site removed."""
    final = Path(home) / SITE_DIR
    old = Path(home) / f".{SITE_DIR}.old-{uuid.uuid4().hex[:8]}"
    try:
        if final.exists():
            os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        discard(tmp)
    return final / "index.html"


def discard(tmp: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(tmp)


def _render(con, marts: str, home: Path, tmp: Path, raw_dir: Path | None, shards: int, run_shards,
            min_agencies: int) -> None:
    agencies = con.execute("SELECT count(*) FROM dim_agency").fetchall()[0][0]
    (tmp / "agency").mkdir(parents=True)
    (tmp / "region").mkdir()
    raw = Path(raw_dir) if raw_dir else Layout(home).raw
    raw_rel = os.path.relpath(raw / "objects", tmp / "agency") if (raw / "objects").is_dir() else None
    if shards > 1 and run_shards is not None and agencies >= min_agencies:
        import threading

        jobs = [(marts, str(tmp), raw_rel, k, shards) for k in range(shards)]
        failed: list[BaseException] = []

        def agency_pages() -> None:
            try:
                run_shards(jobs)
            except BaseException as e:  # noqa: BLE001 - raised below, in this thread
                failed.append(e)

        writer = threading.Thread(target=agency_pages, name="xxgk-site", daemon=True)
        writer.start()
    else:
        writer = None
        _write_agency_pages(con, tmp, raw_rel)
    data = _load(con)  # after the agency pages' writers started: they read the marts themselves
    figures = _group(data["figures"], "agency_id")
    regions: dict[tuple, list[dict]] = defaultdict(list)
    for a in data["agencies"]:
        regions[(a["province"], a["city"])].append(a)
    region_rows = _group(data["regions"], "province", "city")
    for (prov, city), members in regions.items():
        _write(tmp / "region" / f"{_id(prov, city)}.html",
               _page(_region_label(prov, city), _region_body(members, region_rows.get((prov, city), []), figures),
                     "../"))
    _write(tmp / "index.html", _page("政府信息公开工作年度报告数据", _index_body(data["years"], regions), ""))
    if writer is not None:
        writer.join()
        if failed:
            raise failed[0]
        missing = agencies - sum(1 for _ in (tmp / "agency").iterdir())
        if missing:
            raise RuntimeError(f"the site's agency pages were not all written ({missing} missing)")


def write_agency_pages(marts: str, tmp: str, raw_rel: str | None, shard: int, shards: int) -> int:
    """One part of the agency pages of ``render_site`` (every ``shards``-th agency), from the marts
    file (a worker reads it itself, a chunk of agencies at a time)."""
    con = open_marts(Path(marts))
    try:
        return _write_agency_pages(con, Path(tmp), raw_rel, shard, shards)
    finally:
        con.close()


def _write_agency_pages(con, tmp: Path, raw_rel: str | None, shard: int = 0, shards: int = 1) -> int:
    n = 0
    for agencies, figures, quality, reports in _agency_chunks(con, shard, shards):
        for a in agencies:
            aid = a["agency_id"]
            page = _page(a["name"], _agency_page(a, figures.get(aid, []), quality.get(aid, []),
                                                 reports.get(aid, []), raw_rel), "../",
                         [(_region_label(a["province"], a["city"]), f"../region/{_id(a['province'], a['city'])}.html")])
            _write(tmp / "agency" / f"{aid}.html", page)
            n += 1
    return n


def _write(path: Path, page: str) -> None:
    """A new page file, UTF-8 (the bytes of ``path.write_text(page, encoding="utf-8")``, without a
    text stream's layers: a site is 10,000 and more files)."""
    data = memoryview(page.encode("utf-8"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        while data:
            data = data[os.write(fd, data):]
    finally:
        os.close(fd)


def _group(rows: list[dict], *keys: str) -> dict:
    out: dict = defaultdict(list)
    for r in rows:
        out[r[keys[0]] if len(keys) == 1 else tuple(r[k] for k in keys)].append(r)
    return out


def _region_body(members: list[dict], region_rows: list[dict], figures: dict) -> str:
    body = ["<h2>机关</h2><table><tr><th>机关</th><th>层级</th><th>年度</th><th>新收申请</th><th>公开率</th></tr>"]
    for a in sorted(members, key=lambda a: (LEVELS.index(a["level"]) if a["level"] in LEVELS else 9, a["name"])):
        rows = figures.get(a["agency_id"], [])
        last = rows[-1] if rows else {}
        body.append(f"<tr><td><a href='../agency/{a['agency_id']}.html'>{escape(a['name'])}</a></td>"
                    f"<td>{escape(a['level'] or '—')}</td><td>{', '.join(str(r['year']) for r in rows) or '—'}</td>"
                    f"<td class='n'>{_n(last.get('applications_received'))}</td>"
                    f"<td class='n'>{_n(last.get('disclosure_rate'), True)}</td></tr>")
    body.append("</table>")
    for level, rows in _group(region_rows, "level").items():
        label = f"{level}级机关合计" if level else "未注明层级的机关合计"
        body.append(f"<h2>{escape(label)}</h2>"
                    "<p>同一层级的机关相加；不同层级不相加（市的年报已包含其部门和区县）。</p>")
        body.append(_trend_charts(rows) + _figures_table(rows))
    return "".join(body)


def _index_body(year_counts: list[tuple], regions: dict) -> str:
    """``year_counts``: (year, published, quarantined, reports) per year."""
    years = [y for y, *_ in year_counts]
    counts = {y: [pub, quar] for y, pub, quar, _n in year_counts}
    body = ["<h2>年度</h2><table><tr><th>年度</th><th>已发布</th><th>已隔离</th></tr>"]
    for y, pub, _quar, n in year_counts:
        body.append(f"<tr><td>{y}</td><td class='n'>{pub}</td><td class='n'>{n - pub}</td></tr>")
    body.append("</table><h2>地区</h2><table><tr><th>地区</th><th>机关</th></tr>")
    for (prov, city), members in sorted(regions.items(), key=lambda kv: (kv[0][0] or "", kv[0][1] or "")):
        links = "、".join(f"<a href='agency/{a['agency_id']}.html'>{escape(a['name'])}</a>" for a in members)
        body.append(f"<tr><td><a href='region/{_id(prov, city)}.html'>{escape(_region_label(prov, city))}</a></td>"
                    f"<td>{links}</td></tr>")
    body.append("</table>")
    if years:
        body.append("<h2>各年度年报</h2><div class='charts'>"
                    + bar_chart("各年度已发布与已隔离的年报数", [str(y) for y in years],
                                [("已发布", [counts[y][0] for y in years]), ("已隔离", [counts[y][1] for y in years])])
                    + "</div>")
    return "".join(body)
