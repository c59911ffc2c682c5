"""Every benchmark in one run: ``make bench`` (``.venv/bin/python -m benchmarks.run_all``).

    .venv/bin/python -m benchmarks.run_all [--n 10000] [--skip-parse]

Runs benchmarks.bench_parse (parse throughput per core by input kind) and
benchmarks.bench_e2e (etl_year against the bare loop, the unchanged re-run, peak RSS,
mart queries) and writes the figures, the machine and the command as JSON:
``benchmarks/results.json`` for the documented size (10,000 reports), else
``benchmarks/out/results-<n>.json`` so that a quick run (``XXGK_BENCH_N=500 make bench``)
never overwrites the documented figures. docs/BENCHMARKS.md explains each figure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTED_N = 10_000
TARGETS = {  # issue #16
    "pdf_reports_per_s_core": (">=", 30),
    "html_reports_per_s_core": (">=", 1500),
    "parse_reports_per_s_core": (">=", 1000),
    "ocr_pages_per_s_core": (">=", 0.5),
    "pipeline_over_bare": ("<=", 1.15),
    "rerun_over_first": ("<=", 0.05),
    "small_run_s": ("<=", 4),
    "peak_rss_mb": ("<=", 1536),
    "mart_query_ms": ("<", 50),
    "reports": (">=", 10000),
}
PACKAGES = ("prefect", "prefect-dask", "dask", "distributed", "great_expectations", "duckdb", "pandas",
            "pyarrow", "pypdfium2", "pdfplumber", "pdfminer.six", "lxml", "requests", "reportlab")


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    ram_gb = None
    try:
        kb = next(int(ln.split()[1]) for ln in Path("/proc/meminfo").read_text().splitlines()
                  if ln.startswith("MemTotal"))
        ram_gb = round(kb / 1024 / 1024, 1)
    except (OSError, StopIteration):
        pass
    versions = {}
    for p in PACKAGES:
        try:
            versions[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            versions[p] = None
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": cpu, "ram_gb": ram_gb,
            "python": platform.python_version(), "platform": platform.platform(), "packages": versions}


class LoadSampler:
    """The 1-minute load average every few seconds while the benchmarks run (how busy the machine was)."""

    def __init__(self, every: float = 5.0):
        self.every, self.samples = every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append(os.getloadavg()[0])
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        s = sorted(self.samples) or [0.0]
        return {"mean": round(sum(s) / len(s), 2), "median": round(s[len(s) // 2], 2), "max": round(s[-1], 2),
                "samples": len(s)}


def ocr_rate(say, seed_ids: list[str] | None = None) -> float | None:
    """``ocr_pages_per_s_core`` from benchmarks.bench_ocr (the OCR work's benchmark), when it is there."""
    try:
        from benchmarks import bench_ocr  # type: ignore[attr-defined]
    except ImportError:
        say("  benchmarks.bench_ocr not there: no OCR figure")
        return None
    summary = bench_ocr.run(seed_ids)["summary"]
    say(f"  {summary['pages_per_cpu_s']} pages per CPU-second; cells exact {summary['exact']}, "
        f"null {summary['null']}, wrong {summary['wrong']}")
    return summary["pages_per_cpu_s"]


def check_targets(res: dict) -> dict:
    out = {}
    for key, (op, limit) in TARGETS.items():
        v = res.get(key)
        ok = v is not None and (v <= limit if op == "<=" else v >= limit if op == ">=" else v < limit)
        out[key] = {"value": v, "target": f"{op} {limit}", "met": bool(ok)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run_all")
    ap.add_argument("--n", type=int, default=int(os.environ.get("XXGK_BENCH_N", DOCUMENTED_N)),
                    help="reports in the end-to-end run (default 10000, or XXGK_BENCH_N)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--skip-parse", action="store_true", help="leave out the parse throughput benchmark")
    ap.add_argument("--results", help="where to write the JSON (default: see the module docstring)")
    args = ap.parse_args(argv)
    from benchmarks import bench_e2e, bench_parse, bench_small

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    res: dict = {}
    with LoadSampler() as load:
        if not args.skip_parse:
            say("== parse throughput per core, by input kind")
            parse = bench_parse.main([])
            res["parse_reports_per_s_core"] = parse["parse_reports_per_s_core"]
            res["parse"] = parse
        say("== OCR pages per core")
        res["ocr_pages_per_s_core"] = ocr_rate(say)
        say("== a small run: xxgk run --full of the bundled samples, warm")
        small = bench_small.run(args.out)
        say(f"  {small['small_run_s']} s")
        say(f"== end to end over {args.n} reports")
        e2e = bench_e2e.run(args.n, args.out, progress=say)
    res = {
        "reports": args.n,
        "pipeline_over_bare": e2e["pipeline_over_bare"],
        "rerun_over_first": e2e["rerun_over_first"],
        "peak_rss_mb": e2e["peak_rss_mb"],
        "parse_reports_per_s_core": res.get("parse_reports_per_s_core"),
        "pdf_reports_per_s_core": (res.get("parse") or {}).get("pdf_reports_per_s_core"),
        "html_reports_per_s_core": (res.get("parse") or {}).get("html_reports_per_s_core"),
        "ocr_pages_per_s_core": res.get("ocr_pages_per_s_core"),
        "small_run_s": small["small_run_s"],
        "small_run": small,
        "mart_query_ms": e2e["mart_query_ms"],
        **{k: v for k, v in e2e.items() if k not in ("reports",)},
        **({"parse": res["parse"]} if "parse" in res else {}),
    }
    res["targets"] = check_targets(res)
    res["machine"] = machine()
    res["load_average_1min"] = load.summary()
    res["command"] = "make bench" + (f"  (XXGK_BENCH_N={args.n})" if args.n != DOCUMENTED_N else "")
    res["started_utc"] = started.isoformat(timespec="seconds")
    res["total_s"] = round(time.perf_counter() - t0, 1)
    path = Path(args.results) if args.results else (
        ROOT / "benchmarks" / "results.json" if args.n == DOCUMENTED_N else Path(args.out) / f"results-{args.n}.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    if args.n == DOCUMENTED_N and not args.results:
        from benchmarks import report

        report.write(res)  # docs/BENCHMARKS.md shows the figures of benchmarks/results.json
        say(f"figures written into {report.DOC}")
    say(f"\nreports: {args.n}   (load average during the run: {res['load_average_1min']})")
    for key, t in res["targets"].items():
        say(f"  {key:<26} {t['value']!s:>10}   target {t['target']:<8} {'met' if t['met'] else 'NOT MET'}")
    say(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
