"""HTTP fault matrix at the pipeline level: one year run over a loopback site where most
URLs misbehave. Every report ends published or with a precise recorded reason (run summary
and raw manifest), and the good reports' facts are published exactly as printed.

The fetcher's own unit tests (tests/sources/test_fetch_faults.py) check each fault in
isolation; this drill checks that the whole run survives them together.
"""

from __future__ import annotations

import json
import time
import zlib

import duckdb
import pytest
import rel_fuzz as rf
import rel_marts as rm
from rel_site import Site, registry, report_page, response

from flows.outcomes import FETCH_FAILED, PARSE_FAILED, PUBLISHED, QUARANTINED
from flows.plan import run_year
from flows.settings import Settings
from transforms import formatspec as fs

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
YEAR = 2024


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


def settings(home, sources, **kw) -> Settings:
    opts = {"min_delay": 0.0, "timeout": 2.0, "retries": 2, "max_per_host": 4, **kw}
    return Settings().with_overrides(home=home, sources=str(sources), **opts)


def published_values(marts, agency: str) -> dict[str, float]:
    """cell path -> value of the agency's published report."""
    with duckdb.connect(str(marts), read_only=True) as con:
        rows = con.execute("""
            SELECT 'applications.' || row_code || '.' || applicant, value FROM fact_application
            JOIN dim_report USING (report_id) JOIN dim_agency USING (agency_id) WHERE name = $a
            UNION ALL
            SELECT 'review_litigation.' || proceeding || '.' || outcome, value FROM fact_review_litigation
            JOIN dim_report USING (report_id) JOIN dim_agency USING (agency_id) WHERE name = $a
            UNION ALL
            SELECT 'active_disclosure.' || item || '.' || measure, value FROM fact_active_disclosure
            JOIN dim_report USING (report_id) JOIN dim_agency USING (agency_id) WHERE name = $a""",
                           {"a": agency}).fetchall()
    return dict(rows)


def printed_values(rep: dict) -> dict[str, float]:
    return {f"{t}.{i}.{m}": v for t in fs.TABLES for i, row in rep[t].items() for m, v in row.items()}


def test_fault_matrix_every_report_published_or_failed_with_its_reason(site, tmp_path, figures):
    good, rows, expect = {}, [], {}

    def add(agency: str, url: str, outcome: str, reason: str | None = None):
        rows.append((agency, YEAR, url))
        expect[agency] = (outcome, reason)

    # Reports that must come through, some of them after trouble.
    for i in range(3):
        rep, page = report_page(f"良好局{i}", seed=i)
        good[f"良好局{i}"] = rep
        add(f"良好局{i}", site.page(f"/good{i}.html", page), PUBLISHED)
    rep, page = report_page("闪断局", seed=11)
    good["闪断局"] = rep
    add("闪断局", site.sequence("/flap.html", [response(503), response(502), response(
        200, page, {"Content-Type": "text/html; charset=utf-8"})]), PUBLISHED)
    rep, page = report_page("限流局", seed=12)
    good["限流局"] = rep
    add("限流局", site.sequence("/429.html", [response(429, b"", {"Retry-After": "1"}), response(
        200, page, {"Content-Type": "text/html; charset=utf-8"})]), PUBLISHED)
    rep, page = report_page("慢速局", seed=13)
    good["慢速局"] = rep
    add("慢速局", site.drip("/drip.html", page, every=0.1, chunk=max(1, len(page) // 12)), PUBLISHED)
    rep, page = report_page("错码局", seed=14, encoding="gbk")
    good["错码局"] = rep  # GBK bytes, but the header says UTF-8 (the page's meta says gbk)
    add("错码局", site.page("/charset.html", page, "text/html; charset=utf-8"), PUBLISHED)

    # Reports that cannot come through: each must name its reason.
    add("宕机局", site.sequence("/500.html", [response(500)]), FETCH_FAILED, "http_500")
    add("缺失局", site.sequence("/404.html", [response(404)]), FETCH_FAILED, "http_404")
    add("重置局", site.reset("/reset.html"), FETCH_FAILED, "connection_reset")
    add("截断局", site.raw("/trunc.html", response(200, b"", {"Content-Length": "10000"}) + "三、收到".encode() * 400),
        FETCH_FAILED, "truncated")

    def oversize(conn, n):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
        chunk = "本年新收".encode() * 20000
        for _ in range(21_000_000 // len(chunk) + 2):
            conn.sendall(chunk)

    add("超大局", site.route("/big.html", oversize), FETCH_FAILED, "too_large")
    for i, target in enumerate(["file:///etc/passwd", "ftp://127.0.0.1/x.html", "javascript:alert(1)"]):
        add(f"跳转局{i}", site.raw(f"/scheme{i}.html", response(302, b"", {"Location": target})), FETCH_FAILED,
            "bad_scheme")
    site.raw("/loop-b.html", response(302, b"", {"Location": "/loop-a.html"}))
    add("循环局", site.raw("/loop-a.html", response(302, b"", {"Location": "/loop-b.html"})), FETCH_FAILED,
        "redirect_loop")
    add("软404局", site.page("/soft404.html", "<html><body>对不起，页面不存在 404</body></html>".encode()),
        FETCH_FAILED, "soft_error_page")
    # Fetched but unreadable: ends quarantined (or parse_failed) with the parser's reason.
    add("图片局", site.page("/image.html", "<html><body><p>二、主动公开政府信息情况</p><img src=t1.png>"
                                           "<p>三、收到和处理政府信息公开申请情况</p><img src=t2.png></body></html>".encode()),
        QUARANTINED, "table")
    add("炸弹局", site.page("/bomb.docx", rf.hostile_docx(__import__("random").Random(0), 0),
                         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        "unreadable", "docx")

    reg = registry(tmp_path / "registry.csv", rows)
    home = tmp_path / "home"
    t0 = time.monotonic()
    summary = run_year(YEAR, settings(home, reg))
    seconds = time.monotonic() - t0

    by_agency = {r.agency: r for r in summary.reports}
    assert set(by_agency) == set(expect)
    problems = []
    for agency, (outcome, reason) in expect.items():
        r = by_agency[agency]
        text = "; ".join(r.reasons)
        if outcome == "unreadable":  # the precise reason is checked by the next test
            ok = r.outcome in (PARSE_FAILED, QUARANTINED) and bool(text)
        else:
            ok = r.outcome == outcome and (reason is None or reason in text)
        if not ok:
            problems.append(f"{agency}: expected {outcome} ({reason}), got {r.outcome}: {text[:200]}")
    assert not problems, "\n".join(problems)

    # The raw manifest records the same failure codes.
    manifest = [json.loads(x) for x in (home / "raw" / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    codes = {m["agency"]: m["error"] for m in manifest}
    for agency, (outcome, reason) in expect.items():
        if outcome == FETCH_FAILED:
            assert codes[agency] == reason, (agency, codes[agency])
    # The good reports are published with the numbers as printed; the others are not in the facts.
    assert summary.published
    marts = home / "marts.duckdb"
    for agency, rep in good.items():
        got, want = published_values(marts, agency), printed_values(rep)
        assert got == pytest.approx(want), agency
    assert rm.duplicates(marts) == dict.fromkeys(rm.KEYED, 0)
    with duckdb.connect(str(marts), read_only=True) as con:
        published = {n for (n,) in con.execute(
            "SELECT name FROM dim_report JOIN dim_agency USING (agency_id) WHERE status = 'published'").fetchall()}
        quarantined = dict(con.execute("SELECT agency, reasons FROM mart_quality WHERE status = 'quarantined'")
                           .fetchall())
    assert published == set(good)
    assert "图片局" in quarantined and quarantined["图片局"]  # with its reasons, for the dashboards
    # Retries were made where they help and not where they do not.
    assert site.hits["/flap.html"] == 3 and site.hits["/429.html"] == 2
    assert site.hits["/404.html"] == 1 and site.hits["/scheme0.html"] == 1
    figures.setdefault("faults", {})["matrix"] = {
        "reports": len(expect), "faults_injected": len(expect) - 3, "published": len(published),
        "failed_with_reason": len(expect) - len(published), "seconds": round(seconds, 1)}


def test_quarantine_reason_says_why_a_document_is_unreadable(site, tmp_path):
    """A zip bomb served as a Word attachment is refused by the parser with a reason
    ("expands to N bytes: refused (zip bomb?)"); that reason must reach the run summary
    and mart_quality, not only "table missing (not in the report, or not readable)"."""
    rep, page = report_page("良好局", seed=1)
    rows = [("良好局", YEAR, site.page("/good.html", page)),
            ("炸弹局", YEAR, site.page("/bomb.docx", rf.hostile_docx(__import__("random").Random(0), 0),
                                     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"))]
    home = tmp_path / "home"
    summary = run_year(YEAR, settings(home, registry(tmp_path / "registry.csv", rows)))
    bomb = next(r for r in summary.reports if r.agency == "炸弹局")
    assert bomb.outcome in (QUARANTINED, PARSE_FAILED)
    with duckdb.connect(str(home / "marts.duckdb"), read_only=True) as con:
        reasons = con.execute("SELECT reasons FROM mart_quality WHERE agency = '炸弹局'").fetchone()
    said = "; ".join(bomb.reasons) + " | " + str(reasons)
    assert "zip bomb" in said or "expands to" in said, f"the parser's reason is lost: {said[:400]}"


def test_endless_slow_drip_is_cut_by_a_total_deadline(site, tmp_path, figures):
    """A server that sends one byte every half second never trips the per-read timeout; the
    fetch must still end within a bounded time (here: well before the 16 s drip ends)."""
    rep, page = report_page("良好局", seed=1)
    body = page + b" " * 40
    rows = [("良好局", YEAR, site.page("/good.html", page)),
            ("滴漏局", YEAR, site.drip("/drip.html", body, every=0.4, chunk=max(1, len(body) // 40)))]
    reg = registry(tmp_path / "registry.csv", rows)
    t0 = time.monotonic()
    summary = run_year(YEAR, settings(tmp_path / "home", reg, retries=0))
    seconds = time.monotonic() - t0
    figures.setdefault("faults", {})["endless_drip_seconds"] = round(seconds, 1)
    drip = next(r for r in summary.reports if r.agency == "滴漏局")
    # Without a total deadline the drip completes after 16 s and the report is fetched.
    assert drip.outcome == FETCH_FAILED and "timeout" in "; ".join(drip.reasons), (
        f"a slow drip holds a fetch for as long as the server likes (no total deadline per fetch): "
        f"{drip.outcome} {drip.reasons} after {seconds:.0f} s")
    assert next(r for r in summary.reports if r.agency == "良好局").outcome == PUBLISHED


def test_a_document_that_hangs_the_parser_does_not_hang_the_run(site, tmp_path, figures):
    """A fetched PDF that sends the parser into an endless loop (found by fuzzing) must end
    as one failed report with a reason; the other reports are published."""
    loop_pdf = rf.mini_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"2 0 R", b"<< /Type /ObjStm /N 1 /First 4 /Length 5 >>"])
    bomb_pdf = rf._page_pdf(rf._stream(zlib.compress(bytes(50 * 1024 * 1024), 9), b"/Filter /FlateDecode "))
    rows = [(f"良好局{i}", YEAR, site.page(f"/good{i}.html", report_page(f"良好局{i}", seed=i)[1])) for i in range(4)]
    rows += [("死循环局", YEAR, site.page("/loop.pdf", loop_pdf, "application/pdf")),
            ("炸弹局", YEAR, site.page("/bomb.pdf", bomb_pdf, "application/pdf"))]
    reg = registry(tmp_path / "registry.csv", rows)
    home = tmp_path / "home"
    limit = 40  # a normal run of three reports takes about 10 s
    try:
        p = rm.xxgk("run", "--year", str(YEAR), "--sources", str(reg), "--quiet", home=home, timeout=limit,
                    env={"XXGK_RETRIES": "0", "XXGK_TIMEOUT": "5"})
    except Exception as e:  # subprocess.TimeoutExpired
        pytest.fail(f"xxgk run did not finish within {limit} s: the parser runs in-process with no time limit "
                    f"per document ({type(e).__name__})")
    assert p.returncode == 0, p.stderr[-2000:]
    assert "死循环局" in p.stdout and "炸弹局" in p.stdout
    # Two bad reports of six stay under the gate's share of failures: the good ones publish.
    assert len(rm.facts(home / "marts.duckdb")["dim_report"]) >= 4, p.stdout[-1500:]
