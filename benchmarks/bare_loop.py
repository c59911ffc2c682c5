"""The baseline: fetch, parse and bulk-load a registry's reports with nothing else.

    .venv/bin/python -m benchmarks.bare_loop --registry REG.csv --home DIR [--workers 8]

No Prefect, no Great Expectations, no raw store, no parsed cache, no publish: a plain
``requests.Session`` (pooled, keep-alive) fetching with as many threads as the pipeline's
fetcher uses, ``transforms.parse.parse_document`` (and the narrative figures, so that the
warehouse receives the same documents) in as many worker processes as the pipeline parses
with (``parse_processes()``: ``XXGK_PARSE_WORKERS``, else one per core), and one
``warehouse.load.load_documents`` call into ``DIR/warehouse.duckdb``. It is the work the
pipeline cannot avoid; ``pipeline / bare loop`` is what orchestration, validation,
caching and publishing add on top. Prints one JSON line of timings.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import multiprocessing as mp
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import requests

from sources.registry import load_registry
from transforms.narrative import extract
from transforms.parse import PARSER_VERSION, parse_document
from warehouse.db import connect, init_schema
from warehouse.load import Document, load_documents

FETCH_WORKERS = 8  # sources.fetch.Fetcher's default pool, which the pipeline uses


def fetch_all(urls: list[str], workers: int = FETCH_WORKERS, timeout: float = 30.0) -> list[tuple]:
    """(body, content type, fetched at) per URL, in order; a failure is (None, error, None)."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=workers, pool_maxsize=workers, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)

    def get(url: str) -> tuple:
        try:
            r = session.get(url, timeout=timeout)
            r.raise_for_status()
            return r.content, r.headers.get("Content-Type"), dt.datetime.now(dt.UTC)
        except requests.RequestException as e:
            return None, f"{type(e).__name__}: {e}", None

    with session, ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(get, urls))


def parse_processes() -> int:
    """The pipeline's number of parse worker processes (flows.parsepool), for the same machine."""
    from flows.parsepool import default_workers

    return int(os.environ.get("XXGK_PARSE_WORKERS") or 0) or default_workers()


def _parse(body: bytes, agency: str, year: int, ctype: str | None) -> tuple | None:
    try:
        res = parse_document(body, agency=agency, year=year, content_type=ctype)
    except Exception:  # noqa: BLE001 - the baseline skips what it cannot parse, as the pipeline does
        return None
    return res.report, dict(extract(res.text)) if res.text else {}


def parse_all(jobs: list[tuple], processes: int) -> list[tuple | None]:
    """``_parse`` of every job, in order, in ``processes`` forked workers (1: in this process)."""
    if processes <= 1:
        return [_parse(*job) for job in jobs]
    with ProcessPoolExecutor(processes, mp_context=mp.get_context("fork")) as pool:
        return list(pool.map(_parse, *zip(*jobs, strict=True), chunksize=max(1, min(64, len(jobs) // (8 * processes)))))


def run(registry: str | Path, home: str | Path, year: int | None = None, workers: int = FETCH_WORKERS,
        processes: int | None = None) -> dict:
    processes = processes or parse_processes()
    t0 = time.perf_counter()
    sources = [s for s in load_registry(registry) if year is None or s.year == year]
    fetched = fetch_all([s.url for s in sources], workers)
    t_fetch = time.perf_counter()
    docs: list[Document] = []
    failed = 0
    ok = [(src, body, ctype, at) for src, (body, ctype, at) in zip(sources, fetched, strict=True) if body is not None]
    failed = len(sources) - len(ok)
    parsed = parse_all([(body, src.agency, src.year, ctype) for src, body, ctype, _at in ok], processes)
    for (src, body, _ctype, at), result in zip(ok, parsed, strict=True):
        if result is None:
            failed += 1
            continue
        report, narrative = result
        docs.append(Document(
            agency=src.agency, year=src.year, source_url=src.url,
            content_sha256=hashlib.sha256(body).hexdigest(), fetched_at=at, province=src.province,
            city=src.city, county=src.county, level=src.level, parent=src.parent, report=report,
            parser_version=str(PARSER_VERSION), narrative=narrative,
        ))
    t_parse = time.perf_counter()
    Path(home).mkdir(parents=True, exist_ok=True)
    con = connect(Path(home) / "warehouse.duckdb")
    try:
        init_schema(con)
        summary = load_documents(con, docs)
    finally:
        con.close()
    t_load = time.perf_counter()
    return {
        "reports": len(sources), "loaded": summary.total, "failed": failed, "parse_processes": processes,
        "fetch_s": round(t_fetch - t0, 3), "parse_s": round(t_parse - t_fetch, 3),
        "load_s": round(t_load - t_parse, 3), "seconds": round(t_load - t0, 3),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bare_loop")
    ap.add_argument("--registry", required=True)
    ap.add_argument("--home", required=True)
    ap.add_argument("--year", type=int)
    ap.add_argument("--workers", type=int, default=FETCH_WORKERS)
    ap.add_argument("--processes", type=int, help="parse processes (default: as many as the pipeline)")
    args = ap.parse_args(argv)
    print(json.dumps(run(args.registry, args.home, args.year, args.workers, args.processes)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
