"""Tables that are pictures, through a whole run on loopback: a page whose three tables are
``<img>`` PNGs and a scanned PDF are published, their facts marked ``provenance = 'ocr'``,
each picture fetched once (OCR: slow)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import duckdb
import pytest

from flows.outcomes import FETCH_FAILED, PUBLISHED
from flows.plan import run_year
from flows.settings import load_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "transforms"))
import ocrgen  # noqa: E402

pytestmark = pytest.mark.slow
SEEDS = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"


def _seed(n: str) -> dict:
    return json.loads(next(SEEDS.glob(f"{n}_*.expected.json")).read_text(encoding="utf-8"))


def _settings(tmp_path: Path, rows: list[tuple[str, str]]):
    """Settings for a registry of 2024 rows (agency, url) served on loopback."""
    registry = tmp_path / "registry.csv"
    registry.write_text("agency,year,url\n" + "".join(f"{a},2024,{u}\n" for a, u in rows), encoding="utf-8")
    # OCR is ~10 CPU-s a page: the parse limit leaves room for a machine busy with other work
    return load_settings(env={}, home=tmp_path / "home", sources=str(registry), min_delay=0.0,
                         parse_timeout=900.0)


def test_picture_tables_and_a_scan_are_published_with_provenance_ocr(httpserver, tmp_path):
    page_report, scan_report = _seed("000"), _seed("001")
    html, pictures = ocrgen.image_page(page_report, names=("img/t1.png", "img/t2.png", "img/t3.png"))
    httpserver.expect_request("/nb/page.html").respond_with_data(html, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/nb/logo.gif").respond_with_data("", status=404)
    for src, png in pictures.items():
        httpserver.expect_request(f"/nb/{src}").respond_with_data(png, content_type="image/png")
    scan_agency = "淮安市人民政府办公室"
    pages = [ocrgen.degrade(p, seed=i) for i, p in
             enumerate(ocrgen.scan_pages(scan_report, f"{scan_agency}{scan_report['year']}年政府信息公开工作年度报告"))]
    httpserver.expect_request("/nb/scan.pdf").respond_with_data(ocrgen.scanned_pdf(pages),
                                                                content_type="application/pdf")
    settings = _settings(tmp_path, [(page_report["agency"], httpserver.url_for("/nb/page.html")),
                                    (scan_agency, httpserver.url_for("/nb/scan.pdf"))])
    summary = run_year(2024, settings)
    assert [o.outcome for o in summary.reports] == [PUBLISHED, PUBLISHED], \
        [[r for r in o.reasons if not r.startswith("gate")] for o in summary.reports]
    assert any("read from 3 picture(s) by OCR" in r for r in summary.reports[0].reasons)
    for src in pictures:
        assert sum(1 for r, _ in httpserver.log if r.path == f"/nb/{src}") == 1, src

    con = duckdb.connect(str(settings.marts_path), read_only=True)
    try:
        rows = con.execute("""
            SELECT r.agency_id, f.provenance, count(*), count(f.value)
            FROM fact_application AS f JOIN dim_report AS r USING (report_id)
            GROUP BY ALL ORDER BY ALL""").fetchall()
        assert {p for _, p, _, _ in rows} == {"ocr"}
        assert [n for _, _, n, _ in rows] == [175, 175]
        assert all(v >= 166 for _, _, _, v in rows)  # >= 95% of the cells have a proved value
        got = dict(con.execute("""
            SELECT f.row_code || '.' || f.applicant, f.value FROM fact_application AS f
            JOIN dim_report AS r USING (report_id) JOIN dim_agency AS a USING (agency_id)
            WHERE a.name = ? AND f.value IS NOT NULL""", [page_report["agency"]]).fetchall())
        want = {f"{r}.{c}": v for r, cols in page_report["applications"].items() for c, v in cols.items()}
        assert all(want[k] == v for k, v in got.items())  # not one wrong number
        quality = con.execute("SELECT sum(cells_ocr) FROM mart_quality").fetchone()[0]
        assert quality >= 0.95 * 2 * 200
    finally:
        con.close()

    # A picture that cannot be checked now (a server error) is not a changed one: the cached
    # reading is kept. Then the pictures are taken down: the cached reading, resting on the
    # pictures' sha256s, no longer holds, and the page falls back to what its text gives.
    served = {r.path for r, _ in httpserver.log}
    pdf = ocrgen.scanned_pdf(pages)
    for logo_status, picture_status in ((500, 200), (404, 404)):
        httpserver.clear()
        httpserver.expect_request("/nb/page.html").respond_with_data(html, content_type="text/html; charset=utf-8")
        httpserver.expect_request("/nb/scan.pdf").respond_with_data(pdf, content_type="application/pdf")
        httpserver.expect_request("/nb/logo.gif").respond_with_data("", status=logo_status)
        for src, png in pictures.items():
            httpserver.expect_request(f"/nb/{src}").respond_with_data(
                png if picture_status == 200 else b"", status=picture_status, content_type="image/png")
        again = run_year(2024, settings)
        if logo_status == 500:
            assert again.reports[0].outcome == PUBLISHED, again.reports[0].reasons
            assert any("the cached reading is kept" in r for r in again.reports[0].reasons)
    assert {f"/nb/{src}" for src in pictures} <= served
    assert again.reports[1].outcome == PUBLISHED
    assert again.reports[0].outcome != PUBLISHED
    assert "pictures changed since the cached reading" in again.reports[0].reasons


def test_xxgk_parse_reads_the_pictures_beside_a_saved_page_and_none_outside_its_folder(tmp_path, capsys):
    from flows.cli import main

    rep = _seed("003")
    html, pictures = ocrgen.image_page(rep, names=("files/t1.png", "files/t2.png", "../t3.png"))
    folder = tmp_path / "saved"
    (folder / "files").mkdir(parents=True)
    (folder / "page.html").write_bytes(html)
    for src, png in pictures.items():
        (folder / src).write_bytes(png)  # ../t3.png lands outside the page's folder
    assert main(["parse", str(folder / "page.html")]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["applications"] is not None and got["active_disclosure"] is not None
    assert got["review_litigation"] is None  # its picture is outside the folder: not read
    assert [f["where"] for f in got["findings"] if f["code"] == "tables_missing"] == ["review_litigation"]
    cells = [(v, rep["applications"][r][c]) for r, cols in got["applications"].items() for c, v in cols.items()]
    assert all(v == want for v, want in cells if v is not None)
    assert sum(v is not None for v, _ in cells) >= 0.95 * len(cells)


def test_linked_picture_files_and_a_registry_url_that_is_a_picture_are_read(httpserver, tmp_path):
    rep = _seed("003")
    names = ("att/t1.png", "att/t2.jpg", "att/t3.png")
    html, pictures = ocrgen.image_page(rep, names=names)
    for n in names:  # the tables are linked picture files (image attachments), not <img>
        html = html.replace(f'<img src="{n}">'.encode(), f'<a href="{n}">附件</a>'.encode())
    httpserver.expect_request("/lk/page.html").respond_with_data(html, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/lk/logo.gif").respond_with_data("", status=404)
    for src, png in pictures.items():
        httpserver.expect_request(f"/lk/{src}").respond_with_data(png, content_type="image/png")
    # a registry row whose URL is itself a picture (here of one table: the other two are missing)
    other = _seed("000")
    httpserver.expect_request("/lk/rl.png").respond_with_data(
        ocrgen.png_bytes(ocrgen.table_images(other)[2]), content_type="image/png")
    settings = _settings(tmp_path, [(rep["agency"], httpserver.url_for("/lk/page.html")),
                                    (other["agency"], httpserver.url_for("/lk/rl.png"))])
    summary = run_year(2024, settings)
    page, picture = summary.reports
    assert page.outcome == PUBLISHED, page.reasons
    assert any("read from 3 picture(s) by OCR" in r for r in page.reasons)
    for src in pictures:
        assert sum(1 for r, _ in httpserver.log if r.path == f"/lk/{src}") == 1, src
    assert picture.outcome != FETCH_FAILED and picture.parse == "parsed", picture.reasons

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        got = dict(con.execute("""
            SELECT c.item || '.' || c.measure, c.value FROM stg_cell AS c JOIN stg_document AS d USING (report_id)
            WHERE d.agency = ? AND c.table_name = 'review_litigation' AND c.provenance = 'ocr'""",
            [other["agency"]]).fetchall())
    finally:
        con.close()
    want = {f"{g}.{o}": v for g, cols in other["review_litigation"].items() for o, v in cols.items()}
    assert got and all(v is None or want[k] == v for k, v in got.items())  # read, and not one wrong number
    assert sum(v is not None for v in got.values()) >= 12
