"""`xxgk run`, `backfill`, `rebuild`, `demo`: the plan of each year, directly or through Prefect."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from flows.commands.common import (
    EXIT_NOT_PUBLISHED,
    EXIT_OK,
    CliError,
    err,
    import_etl,
    one_line,
    progress_printer,
    settings_from,
)
from flows.commands.published import cmd_status
from flows.outcomes import PUBLISHED


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
        if r.reasons and r.outcome != PUBLISHED:
            lines.append(f"  - {r.agency} {r.year}: {r.outcome}: {'; '.join(r.reasons)}"[:300])
    return "\n".join(lines)


@contextlib.contextmanager
def samples_served(settings: Any, progress=None) -> Iterator[Any]:
    """The settings to run with: a registry that names the bundled sample pages (``{samples}``,
    the default one) gets them served on loopback by the demo tooling for as long as the block
    runs (``samples_base``); any other registry is run as it is."""
    from flows.steps.fetching import needs_sample_server

    if settings.samples_base or not needs_sample_server(settings):
        yield settings
        return
    from testkit.serve import serve_samples

    with serve_samples() as base:
        if progress:
            progress(f"serving the bundled sample reports on {base}")
        yield settings.with_overrides(samples_base=base)


def _run_years(years: list[int], settings: Any, quiet: bool, use_prefect: bool) -> list[Any]:
    """Run each year; a failing year is reported and the next one runs."""
    from flows.plan import run_year

    progress = progress_printer(quiet)
    done: list[Any] = []
    failed: list[tuple[int, str]] = []
    with samples_served(settings, progress) as served:
        for year in years:
            try:
                if use_prefect:
                    done.append(_run_year_prefect(year, served))
                else:
                    done.append(run_year(year, served, progress=progress))
            except Exception as e:  # noqa: BLE001 - one year's failure must not hide the others
                failed.append((year, one_line(e)))
                err(f"year {year} failed: {one_line(e)}")
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
    from flows.outcomes import NothingPublished, RunSummary

    etl_year = import_etl(year, settings).etl_year  # the parse workers' server starting meanwhile

    # The flow reads its settings itself: the ones given on the command line go in as parameters.
    state = etl_year(year=year, sources=settings.sources, home=str(settings.home),
                     config=str(settings.config_file) if settings.config_file else None,
                     full_run=settings.full_run or None, samples_base=settings.samples_base, return_state=True)
    if state.is_completed():
        result = state.result()
    else:  # a run that published nothing ends Failed and carries its summary
        data = state.result(raise_on_failure=False)
        if isinstance(data, NothingPublished) and data.summary:
            result = data.summary
        elif isinstance(data, BaseException):
            raise data
        else:
            raise RuntimeError(state.message or f"the flow run of {year} ended {state.name}")
    return RunSummary.from_dict(result)


def _exit_status(done: list[Any]) -> int:
    """EXIT_NOT_PUBLISHED when a year published nothing (errors raised before this)."""
    nothing = [s for s in done if s.not_published]
    for s in nothing:
        err(f"{s.year}: nothing published: {s.not_published}")
    return EXIT_NOT_PUBLISHED if nothing else EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if settings.full_run and not args.prefect:  # it validates: GX starts up while the run goes on
        from flows import validator

        validator.prestart(1)
    return _exit_status(_run_years([args.year], settings, args.quiet, args.prefect))


def cmd_backfill(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    return _exit_status(_run_years(args.years, settings, args.quiet, args.prefect))


def cmd_rebuild(args: argparse.Namespace) -> int:
    from flows.plan import rebuild_years
    from flows.steps.fetching import registry_path

    settings = settings_from(args)
    with samples_served(settings, progress_printer(args.quiet)) as served:
        done = rebuild_years(served, args.years, progress=progress_printer(args.quiet))
    if not done:
        raise CliError(f"nothing to rebuild: the raw store {settings.raw_dir} holds no report of the years of the "
                       f"registry {registry_path(settings)}")
    for s in done:
        print(_summary_text(s))
    if any(s.published for s in done):
        print(f"marts: {settings.marts_path.resolve()}")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from flows.steps.fetching import load_sources

    # The demo is the bundled samples, whatever XXGK_SOURCES or the config file say.
    settings = settings_from(args).model_copy(update={"sources": None})
    sources = load_sources(settings, None, samples_base="http://127.0.0.1")
    years = sorted({int(s.year) for s in sources})
    print(f"xxgk demo: {len(sources)} bundled sample report(s) of {', '.join(map(str, years))}, "
          f"served on loopback; data in {settings.home.resolve()}", file=sys.stderr)
    code = _exit_status(_run_years(years, settings, args.quiet, args.prefect))
    print()
    cmd_status(args)
    return code


