"""OCR of table pictures: cells exact / null / wrong, and pages per CPU-second at 150 dpi.

For each seed report with tables (tests/fixtures/seeds), its numbers are laid out in the
official templates by the tests' generator (tests/transforms/ocrgen.py) two ways:
a scanned PDF (150 dpi, skew, noise, JPEG, table 2 broken across pages) and a page whose
three tables are PNG pictures. Both go through ``transforms.parse.parse_document``.
CPU time is the process's (all threads), measured around each parse.

    PYTHONPATH=. .venv/bin/python -m benchmarks.bench_ocr [--seeds 000,001] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "transforms"))

import ocrgen  # noqa: E402

from transforms import formatspec as fs  # noqa: E402
from transforms.parse import parse_document  # noqa: E402

SEEDS = ROOT / "tests" / "fixtures" / "seeds"
STAND_IN_AGENCY = "淮安市人民政府办公室"  # the machine has no CJK font: glyphs come from the 淮安 PDF


def score(expected: dict, got: dict) -> dict[str, int]:
    out = {"exact": 0, "null": 0, "wrong": 0}
    for table in fs.TABLES:
        for row, cols in (expected.get(table) or {}).items():
            for col, want in cols.items():
                value = ((got.get(table) or {}).get(row) or {}).get(col)
                out["null" if value is None else "exact" if value == want else "wrong"] += 1
    return out


def cases(seed_ids: list[str] | None = None):
    """(name, expected report, document bytes, pictures, agency the document names)."""
    for path in sorted(SEEDS.glob("*.expected.json")):
        if seed_ids and path.name[:3] not in seed_ids:
            continue
        rep = json.loads(path.read_text(encoding="utf-8"))
        if not rep.get("applications"):
            continue
        agency = rep["agency"] if ocrgen.has_glyphs(rep["agency"]) else STAND_IN_AGENCY
        title = f"{agency}{rep['year']}年政府信息公开工作年度报告"
        pages = [ocrgen.degrade(p, seed=i + 17) for i, p in enumerate(ocrgen.scan_pages(rep, title))]
        yield f"{path.name[:3]}-scan", rep, ocrgen.scanned_pdf(pages), None, agency, len(pages)
        html, pictures = ocrgen.image_page(rep)
        yield f"{path.name[:3]}-png", rep, html, pictures, rep["agency"], len(pictures)


def run(seed_ids: list[str] | None = None) -> dict:
    rows = []
    for name, rep, data, pictures, agency, pages in cases(seed_ids):
        t0 = time.process_time()
        got = parse_document(data, pictures=pictures).report
        cpu = time.process_time() - t0
        s = score(rep, got)
        meta_ok = (got.get("agency") == agency, got.get("year") == rep["year"],
                   all(got["templates"][t] == rep["templates"][t] for t in fs.TABLES))
        rows.append({"case": name, **s, "pages": pages, "cpu_s": round(cpu, 2),
                     "agency_ok": meta_ok[0], "year_ok": meta_ok[1], "templates_ok": meta_ok[2]})
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    total = {k: sum(r[k] for r in rows) for k in ("exact", "null", "wrong", "pages")}
    cpu = sum(r["cpu_s"] for r in rows)
    cells = total["exact"] + total["null"] + total["wrong"]
    summary = {**total, "cells": cells, "exact_share": round(total["exact"] / max(cells, 1), 4),
               "cpu_s": round(cpu, 1), "pages_per_cpu_s": round(total["pages"] / max(cpu, 1e-9), 3)}
    return {"cases": rows, "summary": summary}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", help="comma-separated seed numbers (000,001,...); all by default")
    ap.add_argument("--json", help="write the results here")
    args = ap.parse_args()
    out = run(args.seeds.split(",") if args.seeds else None)
    print(json.dumps(out["summary"], ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(out, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
