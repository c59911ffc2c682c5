"""xxgk: clean, checked numbers from government information disclosure annual reports.

Runs the pipeline without a Prefect server (use the Prefect deployments for scheduled
runs: docs/ORCHESTRATION.md). Data goes to $XXGK_HOME (default ./data); settings come
from XXGK_* environment variables or a TOML file (--config, else $XXGK_HOME/xxgk.toml).

Exit status (every command):
  0  done: the year(s) published, or nothing changed since the last complete run
  1  an error (one line on stderr, starting "xxgk:")
  2  bad arguments (with a usage line)
  3  run/backfill/demo: a year published nothing (nothing fetched, nothing parsed, or the
     publish gate's breaker); the reason is printed. Errors (1) take precedence.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_PUBLISHED = 0, 1, 2, 3
RUN_EXITS = (" Exit 0 when every year published or nothing changed since its last complete run; 3 when "
             "a year published nothing (nothing fetched, nothing parsed, or the gate's breaker); 1 on "
             "errors; 2 for bad arguments.")


class CliError(Exception):
    """An error shown to the user as one line (exit status 1)."""


def _err(msg: str) -> None:
    print(f"xxgk: {msg}", file=sys.stderr)


def _one_line(e: BaseException) -> str:
    """An exception as one line: its type and its message with line breaks folded."""
    return f"{type(e).__name__}: {' '.join(str(e).split())}"


def _progress(quiet: bool):
    def emit(msg: str) -> None:
        if not quiet:
            print(f"  … {msg}", file=sys.stderr, flush=True)

    return emit


# ---------------------------------------------------------------- parse


def cmd_parse(args: argparse.Namespace) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as e:
        raise CliError(f"cannot read {args.file}: {e.strerror or e}") from None
    from transforms.parse import parse_document

    pictures = local_pictures(Path(args.file), data)
    result = parse_document(data, agency=args.agency, year=args.year, pictures=pictures or None).report
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return EXIT_OK


def local_pictures(page: Path, data: bytes) -> dict[str, bytes]:
    """The pictures a saved page shows by relative path, as a browser opening the file would
    load them, but only from inside the page's own folder (no ``..`` out of it, no absolute
    paths, no URLs), at most MAX_PICTURES of at most MAX_PICTURE_BYTES each."""
    from urllib.parse import unquote, urlsplit

    from transforms.decode import HTML, decode
    from transforms.pdfimages import MAX_PICTURE_BYTES, html_image_srcs

    try:
        doc = decode(data)
    except Exception:  # noqa: BLE001 - the parser reports an undecodable file itself
        return {}
    if doc.kind != HTML:
        return {}
    folder = page.resolve().parent
    out: dict[str, bytes] = {}
    for src in html_image_srcs(doc.text):
        parts = urlsplit(src)
        if parts.scheme or parts.netloc or src.startswith(("/", "\\")):
            continue
        path = (folder / unquote(parts.path)).resolve()
        if not path.is_relative_to(folder) or not path.is_file() or path.stat().st_size > MAX_PICTURE_BYTES:
            continue
        out[src] = path.read_bytes()
    return out


# ---------------------------------------------------------------- years


def parse_years(text: str) -> list[int]:
    """'2019-2024', '2022,2024' or a mix ('2019-2020,2023')."""
    years: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d{4})\s*-\s*(\d{4})", part)
        if m:
            a, b = int(m.group(1)), int(m.group(2))
            if b < a:
                raise argparse.ArgumentTypeError(f"range {part}: end before start")
            years.update(range(a, b + 1))
        elif re.fullmatch(r"\d{4}", part):
            years.add(int(part))
        else:
            raise argparse.ArgumentTypeError(f"not a year or range of years: {part!r} (e.g. 2019-2024 or 2022,2024)")
    return sorted(years)


def _year(text: str) -> int:
    if not re.fullmatch(r"\d{4}", text.strip()):
        raise argparse.ArgumentTypeError(f"not a year: {text!r}")
    return int(text)


# ---------------------------------------------------------------- running


def _settings(args: argparse.Namespace, **extra: Any):
    from flows.settings import load_settings

    full = True if getattr(args, "full", False) else None  # without --full: the file or XXGK_FULL_RUN decide
    return load_settings(config=args.config, home=args.home, sources=getattr(args, "sources", None),
                         full_run=full, **extra)


def _summary_text(s: Any) -> str:
    c = s.counts
    lines = [
        f"{s.year}: {c['sources']} report(s) in the registry; fetched {c['fetched']}, not modified "
        f"{c['not_modified']}, fetch failed {c['failed']}; parsed {c['parsed']} ({c['parse_cached']} from cache), "
        f"parse failed {c['parse_failed']}; quarantined {c['quarantined']}; published {c['published']}",
    ]
    if getattr(s, "unchanged_since", None):
        lines.append(f"  nothing changed since the run of {s.unchanged_since}: its outcomes stand (--full re-runs)")
    if c.get("kept"):
        lines.append(f"  kept: {c['kept']} report(s) failed this time; the version published before stays")
    lines += [f"  note: {n}" for n in getattr(s, "notes", ())]
    if s.not_published:
        lines.append(f"  nothing published: {s.not_published}")
    elif not s.published:
        lines.append(f"  not published: {s.gate_reason or 'see the reasons below'}")
    for r in s.reports:
        if r.reasons and r.outcome != "published":
            lines.append(f"  - {r.agency} {r.year}: {r.outcome}: {'; '.join(r.reasons)}"[:300])
    return "\n".join(lines)


def _run_years(years: list[int], settings: Any, quiet: bool, use_prefect: bool) -> list[Any]:
    """Run each year; a failing year is reported and the next one runs."""
    from flows import pipeline as pl

    progress = _progress(quiet)
    done: list[Any] = []
    failed: list[tuple[int, str]] = []
    for year in years:
        try:
            if use_prefect:
                done.append(_run_year_prefect(year, settings))
            else:
                done.append(pl.run_year(year, settings, progress=progress))
        except Exception as e:  # noqa: BLE001 - one year's failure must not hide the others
            failed.append((year, _one_line(e)))
            _err(f"year {year} failed: {_one_line(e)}")
    for s in done:
        print(_summary_text(s))
    if any(s.published for s in done):
        print(f"marts: {settings.marts_path.resolve()}")
    docs = [s.data_docs_path for s in done if s.data_docs_path]
    if docs:
        print(f"data docs: {docs[-1]}")
    if failed:
        raise CliError("failed year(s): " + ", ".join(str(y) for y, _why in failed) + " (reasons above)")
    return done


def _run_year_prefect(year: int, settings: Any):
    """Through the Prefect flow (PREFECT_API_URL, or a temporary local server)."""
    # A busy machine needs more than the default 20 s to start the temporary server.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")  # no telemetry (and no error without internet)
    from flows import pipeline as pl
    from flows.etl import etl_year

    # The flow reads its settings itself: hand it the ones given on the command line.
    os.environ["XXGK_HOME"] = str(settings.home)
    if settings.config_file:
        os.environ["XXGK_CONFIG"] = str(settings.config_file)
    if settings.sources:
        os.environ["XXGK_SOURCES"] = settings.sources
    if settings.full_run:
        os.environ["XXGK_FULL_RUN"] = "true"
    state = etl_year(year=year, sources=settings.sources, return_state=True)
    if state.is_completed():
        result = state.result()
    else:  # a run that published nothing ends Failed and carries its summary
        data = state.result(raise_on_failure=False)
        if isinstance(data, pl.NothingPublished) and data.summary:
            result = data.summary
        elif isinstance(data, BaseException):
            raise data
        else:
            raise RuntimeError(state.message or f"the flow run of {year} ended {state.name}")
    s = pl.RunSummary(year=year, published=result["published"], gate_reason=result["gate_reason"],
                      marts_path=result["marts_path"], data_docs_path=result["data_docs_path"],
                      unchanged_since=result.get("unchanged_since"))
    for row in result["reports"]:
        o = pl.ReportOutcome(agency=row["agency"], year=row["year"], url=row["url"], fetch=row["fetch"],
                             parse=row["parse"] or None, outcome=row["outcome"])
        o.reasons = [r for r in row["reasons"].split("; ") if r]
        s.reports.append(o)
    return s


def _exit_status(done: list[Any]) -> int:
    """EXIT_NOT_PUBLISHED when a year published nothing (errors raised before this)."""
    nothing = [s for s in done if s.not_published]
    for s in nothing:
        _err(f"{s.year}: nothing published: {s.not_published}")
    return EXIT_NOT_PUBLISHED if nothing else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return _exit_status(_run_years([args.year], settings, args.quiet, args.prefect))


def cmd_backfill(args: argparse.Namespace) -> int:
    settings = _settings(args)
    return _exit_status(_run_years(args.years, settings, args.quiet, args.prefect))


def cmd_rebuild(args: argparse.Namespace) -> int:
    from flows import pipeline as pl

    settings = _settings(args)
    done = pl.rebuild_years(settings, args.years, progress=_progress(args.quiet))
    if not done:
        raise CliError(f"nothing to rebuild: the raw store {settings.raw_dir} holds no report of the years of the "
                       f"registry {pl.registry_path(settings)}")
    for s in done:
        print(_summary_text(s))
    if any(s.published for s in done):
        print(f"marts: {settings.marts_path.resolve()}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from flows import pipeline as pl

    # The demo is the bundled samples, whatever XXGK_SOURCES or the config file say.
    settings = dataclasses.replace(_settings(args), sources=None)
    sources = pl.load_sources(settings, None, samples_base="http://127.0.0.1")
    years = sorted({int(s.year) for s in sources})
    print(f"xxgk demo: {len(sources)} bundled sample report(s) of {', '.join(map(str, years))}, "
          f"served on loopback; data in {settings.home.resolve()}", file=sys.stderr)
    code = _exit_status(_run_years(years, settings, args.quiet, args.prefect))
    print()
    cmd_status(args)
    return code


# ---------------------------------------------------------------- status


def status_data(marts: Path) -> dict[str, Any]:
    import datetime as dt

    import duckdb

    from warehouse.publish import open_published

    if not marts.is_file():
        raise CliError(f"nothing published yet: {marts} does not exist (run `xxgk demo` or `xxgk run --year YYYY`)")
    published_at = dt.datetime.fromtimestamp(marts.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    try:
        with open_published(marts) as con:  # a reader's WAL or read-write lock does not get in the way
            tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
            by_year: list[dict[str, Any]] = []
            if "dim_report" in tables:
                for year, status, n in con.execute(
                    "select year, coalesce(status, 'published'), count(*) from dim_report group by all order by 1, 2"
                ).fetchall():
                    by_year.append({"year": int(year), "status": status, "reports": int(n)})
            quality: list[dict[str, Any]] = []
            if "mart_quality" in tables:
                cols = [r[0] for r in con.execute("describe mart_quality").fetchall()]
                if "status" in cols:
                    quality = [{"status": s, "reports": int(n)} for s, n in con.execute(
                        "select status, count(*) from mart_quality group by 1 order by 1").fetchall()]
            counts = {t: int(con.execute(f'select count(*) from "{t}"').fetchone()[0]) for t in sorted(tables)}
    except duckdb.Error as e:
        raise CliError(f"cannot open {marts} read-only: {e}") from None
    return {"marts": str(marts.resolve()), "published_at": published_at, "reports_by_year": by_year,
            "quality": quality, "tables": counts}


def cmd_status(args: argparse.Namespace) -> int:
    settings = _settings(args)
    data = status_data(settings.marts_path)
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"published: {data['marts']}")
    print(f"  at {data['published_at']}")
    years: dict[int, list[str]] = {}
    for row in data["reports_by_year"]:
        years.setdefault(row["year"], []).append(f"{row['reports']} {row['status']}")
    total = sum(row["reports"] for row in data["reports_by_year"])
    print(f"  from {total} report(s):")
    for year, parts in years.items():
        print(f"    {year}: {', '.join(parts)}")
    print("  tables: " + ", ".join(f"{t} ({n} rows)" for t, n in data["tables"].items()))
    return EXIT_OK


# ---------------------------------------------------------------- failures, export, site


def failures_data(home: Path, year: int | None = None) -> list[dict[str, Any]]:
    """Reports of the years' last complete runs that were not published, with their reasons
    (from the run records ``$XXGK_HOME/runs/<Y>.json``: fetch and parse failures never reach
    the marts)."""
    runs = Path(home) / "runs"
    paths = sorted(runs.glob("[0-9][0-9][0-9][0-9].json")) if runs.is_dir() else []
    if year is not None:
        paths = [p for p in paths if p.stem == str(year)]
    if not paths:
        where = f" for {year}" if year is not None else ""
        raise CliError(f"no complete run recorded{where} under {runs} (run `xxgk run --year YYYY` first)")
    out = []
    for p in paths:
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise CliError(f"cannot read the run record {p}: {e}") from None
        for r in rec.get("reports", []):
            if r.get("outcome") in ("published", "passed"):
                continue
            out.append({"year": int(rec["year"]), "agency": r.get("agency") or "", "outcome": r.get("outcome"),
                        "reasons": list(r.get("reasons") or []), "url": r.get("url") or "",
                        "report_id": r.get("report_id") or "", "run_at": rec.get("written_at")})
    return out


def cmd_failures(args: argparse.Namespace) -> int:
    settings = _settings(args)
    rows = failures_data(settings.home, args.year)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not rows:
        print("no failed or quarantined report in the last complete run(s)")
    for r in rows:
        print(f"{r['year']}  {r['agency'] or r['url']}  {r['outcome']}")
        for why in r["reasons"]:
            print(f"    {why}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from warehouse.export import export_year

    settings = _settings(args)
    out = Path(args.out) if args.out else settings.home / "export"
    try:
        paths = export_year(settings.marts_path, args.year, args.format, out)
    except (FileNotFoundError, LookupError) as e:
        raise CliError(str(e).strip("'\"")) from None
    for p in paths:
        print(p.resolve())
    return EXIT_OK


def cmd_site(args: argparse.Namespace) -> int:
    from reportsite.build import build_site

    settings = _settings(args)
    if not settings.marts_path.is_file():
        raise CliError(f"nothing published yet: {settings.marts_path} does not exist (run `xxgk demo` first)")
    index = build_site(settings.home, settings.raw_dir)
    print(index.resolve())
    return EXIT_OK


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("xxgk")
    except PackageNotFoundError:
        return "unknown (not installed)"


# ---------------------------------------------------------------- argparse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xxgk", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"xxgk {version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--home", help="data directory (default: $XXGK_HOME or ./data)")
    common.add_argument("--config", help="TOML settings file (default: $XXGK_HOME/xxgk.toml if present)")

    running = argparse.ArgumentParser(add_help=False)
    running.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    running.add_argument("--prefect", action="store_true",
                         help="run through the Prefect flows (PREFECT_API_URL, or a temporary local server) "
                              "instead of plain Python")
    running.add_argument("--full", "--refetch", action="store_true", dest="full",
                         help="fetch every body again without conditional requests, and load, validate and "
                              "publish even when nothing changed since the year's last complete run (by default "
                              "such a re-run only makes its conditional requests and keeps that run's outcomes)")

    p = sub.add_parser("parse", help="parse one report file and print the contract JSON",
                       description="Parse one report file (HTML, text or PDF, detected from its bytes) and print "
                                   "the JSON object of docs/CONTRACT.md §1. Exit 0 when JSON was printed, 1 when "
                                   "the file cannot be read, 2 for bad arguments.")
    p.add_argument("file", help="the report file")
    p.add_argument("--agency", help="the publishing body, as the registry names it (takes precedence)")
    p.add_argument("--year", type=_year, help="the report year (takes precedence over the document)")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("run", parents=[common, running], help="fetch, parse, check and publish one year",
                       description="Run the whole pipeline for one year: fetch the registry's reports of that "
                                   "year, parse, load, validate (the publish gate) and publish marts.duckdb." + RUN_EXITS)
    p.add_argument("--year", type=_year, required=True, help="the report year, e.g. 2024")
    p.add_argument("--sources", help="registry CSV (default: the bundled sample registry, served on loopback)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("backfill", parents=[common, running], help="run several years in order",
                       description="Run the pipeline for several years, oldest first. A failing year is "
                                   "reported and the others still run." + RUN_EXITS)
    p.add_argument("--years", type=parse_years, required=True, help="a range 2019-2024 or a list 2022,2024")
    p.add_argument("--sources", help="registry CSV (default: the bundled sample registry, served on loopback)")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("rebuild", parents=[common, running], help="load every year again from the raw store",
                       description="Rebuild warehouse.duckdb and the marts from the raw store, without the network: "
                                   "each year of the registry is parsed, loaded, validated and published from the "
                                   "last body stored for each of its URLs. Use it after losing or damaging "
                                   "warehouse.duckdb (a run does it by itself when the file is missing).")
    p.add_argument("--years", type=parse_years, help="only these years (default: every year the raw store holds)")
    p.add_argument("--sources", help="registry CSV (default: the bundled sample registry)")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("demo", parents=[common, running], help="the whole pipeline on the bundled samples",
                       description="Serve the bundled sample reports on loopback (no internet needed), run every "
                                   "year they cover through the whole pipeline and print a summary and the "
                                   "status of the published marts." + RUN_EXITS)
    p.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("discover", help="find report links on agencies' listing pages",
                       description="Fetch the listing pages of a listings CSV (agency,listing_url,...), follow "
                                   "their pagination, and print the reports found and which are new to the "
                                   "registry; --write merges them into it. Options: see `xxgk discover --help`.",
                       add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser("status", parents=[common], help="what is published, when, from how many reports",
                       description="Open marts.duckdb read-only and show when it was published, how many "
                                   "reports of each year it holds and the row counts of its tables.")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("failures", parents=[common], help="reports that failed or were quarantined, and why",
                       description="List the reports of each year's last complete run that were not published: "
                                   "fetch failed, parse failed or quarantined, with their reasons. Exit 1 when "
                                   "no run is recorded.")
    p.add_argument("--year", type=_year, help="only this year")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=cmd_failures)

    p = sub.add_parser("export", parents=[common], help="a year's figures as CSV files or an Excel workbook",
                       description="Write a year's published figures for spreadsheet users: one table per CSV "
                                   "file (UTF-8 with BOM) or one sheet per table in an .xlsx workbook, with "
                                   "Chinese headers. Exit 1 when nothing is published for the year.")
    p.add_argument("--year", type=_year, required=True, help="the report year")
    p.add_argument("--format", choices=["csv", "xlsx"], default="xlsx", help="csv or xlsx (default xlsx)")
    p.add_argument("--out", help="output directory (default: $XXGK_HOME/export)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("site", parents=[common], help="build the report site from the published marts",
                       description="Build the static report site (Chinese, charts as SVG, works offline) into "
                                   "$XXGK_HOME/site/ from marts.duckdb. Each publish also rebuilds it.")
    p.set_defaults(func=cmd_site)
    return parser


def cmd_discover(args: argparse.Namespace) -> int:
    from flows.pipeline import make_fetcher
    from flows.settings import load_settings
    from sources.discover import cli_main

    settings = load_settings()
    rest = list(args.rest)
    if not any(a == "--listings" or a.startswith("--listings=") for a in rest) and settings.listings:
        rest += ["--listings", settings.listings]
    if not any(a == "--registry" or a.startswith("--registry=") for a in rest) and settings.sources:
        rest += ["--registry", settings.sources]
    with make_fetcher(settings) as fetcher:
        return cli_main(rest, fetcher=fetcher)


def _silence_shutdown() -> None:
    """After a run through Prefect's temporary server, its shutdown can print an asyncio
    CancelledError traceback at interpreter exit: everything useful has been printed by
    then, so stderr is closed to keep the user's terminal clean."""
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    raw = sys.argv[1:] if argv is None else list(argv)
    if raw[:1] == ["discover"]:  # its options belong to sources.discover's own parser
        return _dispatch(argparse.Namespace(func=cmd_discover, rest=raw[1:]))
    args = parser.parse_args(argv)  # exits 2 with a usage line on bad arguments
    try:
        return _dispatch(args)
    finally:
        if getattr(args, "prefect", False) and argv is None:  # only as the `xxgk` process, not in tests
            _silence_shutdown()


def _on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt("SIGTERM")


def _stop_children() -> None:
    """After an interrupt: kill the parse workers and the fork server that starts them. They
    are not our children (the fork server's), so nothing else would, and they hold our stdout
    (``xxgk run | tee`` would wait for them)."""
    import contextlib
    import signal

    with contextlib.suppress(Exception):
        from flows import parsepool

        if parsepool._POOL is not None:
            parsepool._POOL._kill()
    with contextlib.suppress(Exception):
        from multiprocessing import forkserver

        pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
        if pid:
            os.kill(pid, signal.SIGTERM)


def _dispatch(args: argparse.Namespace) -> int:
    import signal

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics leave the machine
    # SIGTERM (a service manager, `timeout`, kill) ends a run the way Ctrl-C does: workers stopped.
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading_main() else None
    try:
        return _run_command(args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run_command(args: argparse.Namespace) -> int:
    from flows.settings import SettingsError

    try:
        return args.func(args)
    except CliError as e:
        _err(str(e))
    except SettingsError as e:
        _err(f"settings: {e}")
    except KeyboardInterrupt as e:
        _stop_children()
        _err("terminated" if e.args == ("SIGTERM",) else "interrupted")
        return 143 if e.args == ("SIGTERM",) else 130
    except Exception as e:  # noqa: BLE001 - one clear line, not a traceback
        _err(_one_line(e))
        if os.environ.get("XXGK_DEBUG"):
            raise
    return EXIT_ERROR


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
