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
import importlib
import json
import os
import re
import sys
from pathlib import Path

from flows.commands import discover as discover_cmd
from flows.commands.common import (  # noqa: F401 - the exit codes, as `xxgk --help` lists them
    EXIT_ERROR,
    EXIT_NOT_PUBLISHED,
    EXIT_OK,
    EXIT_USAGE,
    RUN_EXITS,
    CliError,
    done,
    end_at_once_when_done,
    err,
    one_line,
)


def _command(module: str, name: str):
    """A command of ``module`` (flows/commands/...), imported when it runs: this module stays light, so that
    ``xxgk run --full`` starts its validator (flows/validator.py) before the run's own imports, and the
    validator process, which imports the main module again, does not import them at all."""

    def command(args: argparse.Namespace) -> int:
        return getattr(importlib.import_module(module), name)(args)

    command.__name__ = command.__qualname__ = name
    return command


cmd_run, cmd_backfill, cmd_rebuild, cmd_demo = (_command("flows.commands.running", n) for n in
                                                ("cmd_run", "cmd_backfill", "cmd_rebuild", "cmd_demo"))
cmd_status, cmd_failures, cmd_export, cmd_site = (_command("flows.commands.published", n) for n in
                                                  ("cmd_status", "cmd_failures", "cmd_export", "cmd_site"))

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


# ---------------------------------------------------------------- status


# ---------------------------------------------------------------- failures, export, site


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

    discover_cmd.add_parser(sub)

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


def _silence_shutdown() -> None:
    """After a run through Prefect's temporary server, its shutdown can print an asyncio
    CancelledError traceback at interpreter exit: everything useful has been printed by
    then, so stderr is closed to keep the user's terminal clean."""
    sys.stdout.flush()
    sys.stderr.flush()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)


PIPELINE_COMMANDS = ("run", "backfill", "rebuild", "demo")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 with a usage line on bad arguments
    if argv is None and args.command in PIPELINE_COMMANDS:  # the `xxgk` process, not tests
        end_at_once_when_done()
    _validator_head_start(args)
    status = None
    try:
        status = _dispatch(args)
        return status
    finally:
        if argv is None and isinstance(status, int):
            done(status)
        if argv is None and "flows.validator" in sys.modules:
            from flows import validator

            validator.discard(kill=True)  # the `xxgk` process ends: a validator still starting is not waited for
        if getattr(args, "prefect", False) and argv is None:  # only as the `xxgk` process, not in tests
            _silence_shutdown()


def _validator_head_start(args: argparse.Namespace) -> None:
    """``xxgk run --full`` validates: its validator process starts first thing, so that GX's start-up
    (seconds of CPU) runs beside the whole run, from its first import on (cmd_run also starts it for a
    run made full by its settings, a little later)."""
    if args.command == "run" and args.full and not args.prefect:
        from flows import validator

        validator.prestart(1)


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
        from flows import validator

        validator.discard(kill=True)
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
        err(str(e))
    except SettingsError as e:
        err(f"settings: {e}")
    except KeyboardInterrupt as e:
        _stop_children()
        err("terminated" if e.args == ("SIGTERM",) else "interrupted")
        return 143 if e.args == ("SIGTERM",) else 130
    except Exception as e:  # noqa: BLE001 - one clear line, not a traceback
        err(one_line(e))
        if os.environ.get("XXGK_DEBUG"):
            raise
    return EXIT_ERROR


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
