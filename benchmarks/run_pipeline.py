"""One run of the real pipeline over a registry, as the benchmark measures it.

    .venv/bin/python -m benchmarks.run_pipeline --registry REG.csv --home DIR --year 2024 [--plain]

Default: the Prefect flow ``flows.etl.etl_year`` (through ``PREFECT_API_URL`` when set,
else Prefect's temporary server). ``--plain``: ``flows.plan.run_year``, the same
steps without Prefect. The fetcher's politeness is relaxed for the loopback server
(``XXGK_MAX_PER_HOST=8``, ``XXGK_MIN_DELAY=0``) unless the environment sets them.
Prints one JSON line: the seconds of the run (imports excluded, reported apart) and the
counts of the run summary. The process then ends as `xxgk run` does (flows/commands/common.py
``end_at_once_when_done``): after every exit handler (Prefect's log and event workers drained), without the
interpreter's teardown.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

LOOPBACK_POLITENESS = {"XXGK_MAX_PER_HOST": "8", "XXGK_MIN_DELAY": "0"}


def set_environment(registry: str, home: str) -> None:
    """The run's registry and data folder, the loopback politeness (unless set), no GX usage statistics."""
    os.environ["XXGK_HOME"] = str(home)
    os.environ["XXGK_SOURCES"] = str(registry)
    for k, v in LOOPBACK_POLITENESS.items():
        os.environ.setdefault(k, v)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def main(argv: list[str] | None = None) -> int:
    t_start = time.perf_counter()
    from flows.commands.common import done, end_at_once_when_done

    if argv is None:  # the process, as `xxgk run` (flows/cli.py main), not a test calling main()
        end_at_once_when_done()
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run_pipeline")
    ap.add_argument("--registry", required=True)
    ap.add_argument("--home", required=True)
    ap.add_argument("--year", type=int, required=True)
    ap.add_argument("--plain", action="store_true", help="flows.plan.run_year, without Prefect")
    args = ap.parse_args(argv)
    set_environment(args.registry, args.home)
    if args.plain:
        from flows.plan import run_year
        from flows.settings import load_settings

        t0 = time.perf_counter()
        summary = run_year(args.year, load_settings())
        seconds = time.perf_counter() - t0
        counts, published, unchanged = summary.counts, summary.published, summary.unchanged_since
    else:
        from flows.commands.common import import_etl
        from flows.settings import load_settings

        etl_year = import_etl(args.year, load_settings()).etl_year  # as `xxgk run --prefect` imports it
        t0 = time.perf_counter()
        result = etl_year(year=args.year, sources=args.registry)
        seconds = time.perf_counter() - t0
        counts, published, unchanged = result["counts"], result["published"], result.get("unchanged_since")
    print(json.dumps({"seconds": round(seconds, 3), "imports_s": round(t0 - t_start, 3), "counts": counts,
                      "published": published, "unchanged_since": unchanged}), flush=True)
    if argv is None:
        done(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
