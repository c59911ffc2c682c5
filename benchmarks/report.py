"""The figures section of docs/BENCHMARKS.md, rendered from a results JSON.

    .venv/bin/python -m benchmarks.report [benchmarks/results.json] [--write]

Prints the markdown; with ``--write`` replaces the part of docs/BENCHMARKS.md between
``<!-- figures:start -->`` and ``<!-- figures:end -->`` (``make bench`` does this after a
10,000-report run), so the document always shows the figures of the JSON beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
START, END = "<!-- figures:start -->", "<!-- figures:end -->"
NAMES = {
    "pdf_reports_per_s_core": "parsing, PDF 淮安 2024 (reports/s per core)",
    "html_reports_per_s_core": "parsing, HTML pages (reports/s per core)",
    "ocr_pages_per_s_core": "OCR, 150 dpi pages (pages/s per core)",
    "small_run_s": "xxgk run --full of the bundled samples, warm (s)",
    "reports": "reports in the end-to-end run",
    "pipeline_over_bare": "pipeline / bare loop (wall time)",
    "rerun_over_first": "unchanged re-run / first run (wall time)",
    "peak_rss_mb": "peak RSS of the pipeline process (MB)",
    "parse_reports_per_s_core": "parsing, page text, corpus mix (reports/s per core)",
    "mart_query_ms": "slowest mart_agency_year query, median (ms)",
}


def _run_row(name: str, r: dict) -> str:
    return (f"| {name} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r.get('inner_s') or 0:.1f} "
            f"| {r['peak_rss_mb']:.0f} |")


def render(res: dict) -> str:
    m = res.get("machine", {})
    load = res.get("load_average_1min", {})
    lines = [
        f"Measured {res.get('started_utc', '?')} with `{res.get('command', 'make bench')}` over "
        f"**{res['reports']:,} reports** ({res.get('total_s', 0) / 60:.0f} min in all).",
        "",
        f"Machine: {m.get('nproc')} cores ({m.get('cpu')}), {m.get('ram_gb')} GB RAM, Python {m.get('python')}; "
        + ", ".join(f"{k} {v}" for k, v in (m.get("packages") or {}).items() if v) + ".",
        f"Load average (1 min) while it ran: mean {load.get('mean', 0):.1f}, max {load.get('max', 0):.1f} "
        "(other jobs shared the machine; the ratios are measured side by side in the same run).",
        "",
        "| figure | value | target | met |",
        "|---|---|---|---|",
    ]
    for key, t in (res.get("targets") or {}).items():
        lines.append(f"| {NAMES.get(key, key)} | {t['value']} | {t['target']} | {'yes' if t['met'] else '**no**'} |")
    extra = [("parse processes: bare loop / pipeline",
              f"{res.get('bare_parse_processes')} / {res.get('pipeline_parse_processes')}"
              if res.get("bare_parse_processes") is not None else None),
             ("pipeline / bare loop, CPU time of each whole process tree", res.get("pipeline_over_bare_cpu")),
             ("unchanged re-run / first run, CPU time of each whole process tree", res.get("rerun_over_first_cpu")),
             ("parsing, slowest single layout (reports/s per core)", res.get("parse", {}).get("parse_slowest_text_kind"))]
    lines += [f"| {name} | {v} | | |" for name, v in extra if v is not None]
    rounds = res.get("rounds") or []
    if rounds:
        lines += ["", f"The {len(rounds)} rounds (each: bare loop, first run, re-run, back to back; the ratios above are "
                      "the medians of the rounds' own ratios):", "",
                  "| round | bare loop s | first run s | re-run s | pipeline / bare | re-run / first |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {i} | {r['bare_s']:.1f} | {r['first_s']:.1f} | {r['rerun_s']:.2f} | {r['pipeline_over_bare']} "
                  f"| {r['rerun_over_first']} |" for i, r in enumerate(rounds, 1)]
    runs = res.get("runs") or {}
    if runs:
        if rounds:
            lines += ["", "The round with the median first run:"]
        lines += ["", "| process | wall s | CPU s (the process and all it started) | run s (imports excluded) | peak RSS MB |", "|---|---|---|---|---|"]
        lines += [_run_row(name, runs[key]) for key, name in (
            ("bare", "bare loop"), ("pipeline_first", "pipeline, first run"),
            ("pipeline_rerun", "pipeline, unchanged re-run")) if key in runs]
        bare = runs.get("bare", {}).get("detail", {})
        if bare:
            lines.append("")
            lines.append(f"Bare loop phases: fetch {bare.get('fetch_s')} s, parse {bare.get('parse_s')} s, "
                         f"load {bare.get('load_s')} s.")
        for key, name in (("pipeline_first", "Pipeline, first run"), ("pipeline_rerun", "Pipeline, re-run")):
            counts = runs.get(key, {}).get("detail", {}).get("counts")
            if counts:
                lines.append(f"{name}: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items()) + ".")
        if res.get("rerun_unchanged") is False:
            lines.append("**The re-run was not a run with nothing changed (see the counts): its ratio is not valid.**")
    parse = (res.get("parse") or {}).get("by_kind") or {}
    if parse:
        windows = next(iter(parse.values())).get("windows")
        lines += ["", f"Parse throughput per core: the best of {windows} measuring windows per input kind, the median "
                      "and worst windows beside it (noise on a shared machine only ever adds CPU time).", "",
                  "| input kind | reports/s per core (best) | median | worst | reports/s wall | avg KB |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {k} | {v['per_s_core']} | {v.get('per_s_core_median', '')} | {v.get('per_s_core_worst', '')} "
                  f"| {v['per_s_wall']} | {v['avg_kb']} |" for k, v in parse.items()]
    marts = (res.get("marts") or {}).get("queries") or {}
    if marts:
        lines += ["", f"Mart queries (read-only connection, median of {res['marts'].get('runs')} runs after a "
                      f"warm-up; mart_agency_year holds {res['marts'].get('mart_agency_year_rows')} rows):", "",
                  "| query | median ms | max ms | rows |", "|---|---|---|---|"]
        lines += [f"| {k} | {v['median_ms']} | {v['max_ms']} | {v['rows']} |" for k, v in marts.items()]
    return "\n".join(lines) + "\n"


def write(res: dict, doc: Path = DOC) -> None:
    text = doc.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{doc} has no {START} ... {END} section")
    head, rest = text.split(START, 1)
    _old, tail = rest.split(END, 1)
    doc.write_text(f"{head}{START}\n{render(res)}{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.report")
    ap.add_argument("results", nargs="?", default=str(ROOT / "benchmarks" / "results.json"))
    ap.add_argument("--write", action="store_true", help=f"update {DOC.relative_to(ROOT)}")
    args = ap.parse_args(argv)
    res = json.loads(Path(args.results).read_text(encoding="utf-8"))
    if args.write:
        write(res)
    else:
        print(render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
