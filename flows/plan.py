"""The plan of one year, written once: a list of steps, each a small function over a YearRun.

discover → rebuild a lost warehouse → fetch → unchanged? → parse → attachments → evidence → choose →
[writer lock] load → validate + gate → publish → Data Docs → run record.

``run_year`` runs the plan directly (``xxgk run``, the benchmarks); flows/etl.py runs the same
plan with each step wrapped as a Prefect task (and the parse step split into chunks). A report
that cannot be fetched or parsed is recorded with its reason and the run goes on with the others.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from flows.outcomes import Progress, ReportOutcome, RunSummary, quiet
from flows.settings import Settings
from flows.steps.attachments import follow_attachments
from flows.steps.documents import choose_one_url
from flows.steps.evidence import apply_evidence
from flows.steps.fetching import (
    discover_step,
    fetch_batch,
    load_sources,
    needs_sample_server,
    registry_path,
    samples_base,
    stored_years,
)
from flows.steps.loading import import_in_background, load_batch, warehouse, writer_lock
from flows.steps.parsing import (
    apply_parsed,
    drop_early_results,
    parse_batch,
    parse_items,
    start_early_parse,
    verify_bodies,
)
from flows.steps.publishing import build_data_docs, mark_published, note_kept_versions, publish_batch
from flows.steps.record import (
    apply_record,
    forget_run,
    record_ahead,
    record_exists,
    record_run,
    run_fingerprint,
    try_unchanged,
)
from flows.steps.validating import (
    apply_gate,
    gate_allows_publish,
    prestart_validation,
    quarantine_reasons,
    starts_validation_early,
)
from flows.steps.validation import start_early_validation, validate_batch


def rebuild_years(settings: Settings, years: list[int] | None = None, progress: Progress = quiet) -> list[RunSummary]:
    """Load, validate and publish every year of the registry from the raw store, without the network
    (``xxgk rebuild``): after a lost or damaged warehouse.duckdb."""
    offline = settings.with_overrides(offline=not needs_sample_server(settings), full_run=True)
    if years is None:
        in_registry = {int(s.year) for s in load_sources(settings, None, samples_base="http://127.0.0.1")}
        years = sorted(in_registry & stored_years(settings)) if offline.offline else sorted(in_registry)
    out = []
    for y in years:
        progress(f"rebuild: {y} from the raw store")
        out.append(run_year(y, offline, progress))
    return out


def rebuild_if_missing(year: int, settings: Settings, progress: Progress = quiet) -> list[RunSummary]:
    """A missing warehouse.duckdb with reports of other years in the raw store: rebuild those
    years first, so that the publish of ``year`` does not silently drop them; or refuse, saying how."""
    if settings.offline or settings.warehouse_path.exists() or not settings.raw_dir.is_dir():
        return []
    others = stored_years(settings) - {int(year)}
    if not others:
        return []
    listed = {int(s.year) for s in load_sources(settings, None, samples_base="http://127.0.0.1")}
    unlisted = sorted(others - listed)
    if unlisted:
        raise RuntimeError(
            f"{settings.warehouse_path} is missing and the raw store ({settings.raw_dir}) holds reports of "
            f"{', '.join(map(str, unlisted))}, which the registry {registry_path(settings)} does not list: publishing "
            f"{year} now would drop them from the marts. Run `xxgk rebuild --sources REGISTRY` with a registry "
            f"that lists those years, then this run again (or move {settings.raw_dir} aside to start afresh).")
    progress(f"{settings.warehouse_path} is missing: rebuilding {', '.join(map(str, sorted(others)))} "
             "from the raw store first")
    return rebuild_years(settings, sorted(others), progress)


@dataclass
class YearRun:
    """What the steps of one year hand on to each other (returned by every step: a task
    runner may work on copies)."""

    year: int
    settings: Settings
    summary: RunSummary
    outcomes: list[ReportOutcome] = field(default_factory=list)
    parsed: dict[str, dict] = field(default_factory=dict)
    followed: list[dict] = field(default_factory=list)  # attachments followed (the run record keeps them)
    report_ids: list[str] = field(default_factory=list)
    checks: Any = None  # RunChecks (flows/steps/validating.py)
    decision: Any = None
    reports_df: Any = None
    early_validation: Any = None  # the chunks the load handed to the validators (flows/steps/validation.py)
    finished: bool = False  # nothing changed since the last complete run: the remaining steps are skipped


Step = Callable[[YearRun, Progress], YearRun]


def discover(run: YearRun, progress: Progress) -> YearRun:
    """New and moved reports on the configured listing pages, merged into the registry."""
    run.settings = discover_step(run.year, run.settings, progress)
    return run


def rebuild_missing(run: YearRun, progress: Progress) -> YearRun:
    """A lost warehouse: the other years first, from raw/."""
    rebuild_if_missing(run.year, run.settings, progress)
    return run


def fetch(run: YearRun, progress: Progress) -> YearRun:
    year, settings = run.year, run.settings
    base = samples_base(settings)
    if base:
        progress(f"{year}: the bundled sample reports, served on {base}")
    sources = load_sources(settings, year, samples_base=base)
    first = not likely_unchanged(settings, year)  # a likely unchanged re-run starts nothing
    if sources and first:
        prepare_writes(len(sources))  # this run validates: GX starts in its workers while it fetches
    progress(f"{year}: fetching {len(sources)} report(s)")
    drop_early_results(settings)
    early = start_early_parse(settings) if first else None  # new bodies are parsed while the others are fetched
    ahead = None if first else record_ahead(settings, year, sources)  # the check after the fetch, prepared
    on_fetched = (lambda s, sha, ctype: early.offer(sha, s.agency, int(s.year), ctype)) if early else None
    run.outcomes = fetch_batch(sources, settings, loopback=base is not None, progress=_say(year, progress),
                               on_fetched=on_fetched, meanwhile=ahead)  # while the conditional requests are out
    run.summary.notes += verify_bodies(run.outcomes, settings, loopback=base is not None,
                                       progress=_say(year, progress))
    run.summary.reports = run.outcomes
    progress(f"{year}: fetched {sum(o.fetch == 'fetched' for o in run.outcomes)}, not modified "
             f"{sum(o.fetch == 'not_modified' for o in run.outcomes)}, failed "
             f"{sum(o.fetch == 'failed' for o in run.outcomes)}")
    return run


def unchanged(run: YearRun, progress: Progress) -> YearRun:
    """Nothing changed since the year's last complete run? Then its outcomes stand (flows/runrecord.py)."""
    year, settings, summary = run.year, run.settings, run.summary
    summary.fingerprint = run_fingerprint(year, settings, run.outcomes)
    rec = try_unchanged(year, settings, run.outcomes, summary.fingerprint,
                        loopback=samples_base(settings) is not None, progress=_say(year, progress))
    if rec is not None:
        apply_record(summary, rec)
        progress(f"{year}: nothing changed since the run of {rec['written_at']}: its outcomes stand "
                 "(parse, load, validation and publish skipped; --full runs them)")
        run.finished = True
        drop_early_results(settings)
    else:
        prepare_writes(len(run.outcomes))  # something changed: GX starts up in its workers while the run parses
    return run


def parse(run: YearRun, progress: Progress) -> YearRun:
    items = parse_items(run.outcomes)
    progress(f"{run.year}: parsing {len(items)} document(s)")
    run.parsed = parse_batch(items, run.settings, progress=_say(run.year, progress))
    drop_early_results(run.settings)
    return run


def attachments(run: YearRun, progress: Progress) -> YearRun:
    """Pages whose tables are only in a linked attachment: fetch it once and parse it instead."""
    run.followed = follow_attachments(run.outcomes, run.parsed, run.settings,
                                      loopback=samples_base(run.settings) is not None,
                                      progress=_say(run.year, progress))
    return run


def evidence(run: YearRun, progress: Progress) -> YearRun:
    """Runs of digits the invariants leave open: parsed again with the agency's previous report (X1, X2)."""
    apply_evidence(run.outcomes, run.parsed, run.settings, progress=_say(run.year, progress))
    return run


def choose(run: YearRun, progress: Progress) -> YearRun:
    """The parse outcomes on the reports; one URL per agency and year."""
    apply_parsed(run.outcomes, run.parsed)
    for note in choose_one_url(run.outcomes, run.parsed):
        run.summary.notes.append(note)
        progress(f"{run.year}: {note}")
    return run


def load(run: YearRun, progress: Progress) -> YearRun:
    forget_run(run.settings, run.year)  # from here on the year's last run record no longer holds
    progress(f"{run.year}: loading")
    if run.early_validation is not None:
        run.early_validation.abandon()  # a retried load: what its first try handed over is stale
    run.early_validation = early = None
    if run.outcomes:
        prestart_validation(len(run.outcomes))  # started already by a short run's fetch (cheap then)
        early = start_early_validation(run.outcomes, run.year, run.settings.warehouse_memory)  # validated as loaded
    say = _say(run.year, progress)
    try:
        with warehouse(run.settings) as con:
            run.report_ids = load_batch(con, early.order if early else run.outcomes, run.parsed, run.settings,
                                        progress=say,
                                        after_chunk=(lambda count: early.loaded(con, count, say)) if early else None)
    except BaseException:
        if early is not None:
            early.abandon()
        raise
    run.early_validation = early
    run.parsed = {}
    progress(f"{run.year}: loaded {len(run.report_ids)} report(s)")
    if not run.report_ids:
        run.summary.gate_reason = "no report was parsed: nothing to publish"
    return run


def validate(run: YearRun, progress: Progress) -> YearRun:
    """GX validation and the gate's verdict."""
    if not run.report_ids:
        return run
    progress(f"{run.year}: validating")
    with warehouse(run.settings) as con:
        run.checks, run.decision, run.reports_df = validate_batch(con, run.report_ids, run.settings, run.year,
                                                                     progress=_say(run.year, progress),
                                                                     early=run.early_validation)
    run.early_validation = None
    quarantined = apply_gate(run.outcomes, run.decision)
    allowed, run.summary.gate_reason = gate_allows_publish(run.decision)
    progress(f"{run.year}: gate: {len(quarantined)} quarantined, publish={allowed} {run.summary.gate_reason}")
    return run


def publish(run: YearRun, progress: Progress) -> YearRun:
    if run.decision is None or not gate_allows_publish(run.decision)[0]:
        return run
    progress(f"{run.year}: publishing")
    with warehouse(run.settings) as con:
        statuses = publish_batch(con, run.settings, quarantine_reasons(run.decision))
        mark_published(run.outcomes, statuses)
        note_kept_versions(con, run.outcomes, statuses)
    run.summary.published = True
    run.summary.marts_path = str(run.settings.marts_path.resolve())
    return run


def data_docs(run: YearRun, progress: Progress) -> YearRun:
    if not run.report_ids:
        return run
    progress(f"{run.year}: writing the Data Docs")
    run.summary.data_docs_path = build_data_docs(run.settings, run.checks, run.year, run.decision,
                                                 run.reports_df)
    return run


def record(run: YearRun, progress: Progress) -> YearRun:
    """After the last write of a complete run (inside the writer lock, warehouse closed)."""
    run.summary.reports = run.outcomes
    record_run(run.settings, run.summary, run.followed)
    return run


# The plan. The steps after WRITE_FROM run inside the writer lock (one writer of $XXGK_HOME).
PLAN: list[Step] = [discover, rebuild_missing, fetch, unchanged, parse, attachments, evidence, choose,
                    load, validate, publish, data_docs, record]
WRITE_FROM = PLAN.index(load)


def prepare_writes(reports: int) -> None:
    """A run that will load, validate and publish: the writing steps' imports start now, while the run
    fetches and parses, and GX's start-up (validator processes) too for a short run (a long one starts
    it with the load: ``load``)."""
    if starts_validation_early(reports):
        prestart_validation(reports)
    import_in_background()


def likely_unchanged(settings: Settings, year: int) -> bool:
    """A re-run (the year has a record of its last complete run, and not --full): it will likely stop after the
    fetch. Otherwise the run parses what it fetches, and validates."""
    return not settings.full_run and record_exists(settings, year)


def start_parse_server(year: int, settings: Settings) -> bool:
    """Start the parse workers' fork server now, for a run that will parse what it fetches (a first run or
    --full, as ``fetch`` decides; not on Dask or without workers): the fetch's processes and the parse pool
    fork from it, and its imports (the parser, the fetcher: ~0.5 CPU-s) then overlap the caller's, e.g.
    Prefect's import and the flow run's start (flows/commands/common.py ``import_etl``). The fetch would start
    it anyway; an unchanged re-run does not need it and starts nothing. True when it was started."""
    if settings.parse_timeout == 0 or settings.task_runner == "dask":
        return False
    if likely_unchanged(settings, year):
        return False
    from multiprocessing import forkserver

    from flows.parsepool import forkserver_context

    forkserver_context()  # its preload, set before the server starts
    forkserver.ensure_running()
    return True


def start_revalidation(year: int, settings: Settings) -> bool:
    """Start the fetch of a run that is likely unchanged (a record of the year's last complete run exists, not
    --full) in a process of its own, before the caller imports Prefect (flows/steps/fetch_ahead.py
    ``start_revalidation``; the fetch step takes its outcomes). True when it was started."""
    if not likely_unchanged(settings, year):
        return False
    from flows.steps.fetch_ahead import start_revalidation as start

    return start(year, settings)


def _say(year: int, progress: Progress) -> Progress:
    return lambda m: progress(f"{year}: {m}")


def _call(step: Step, run: YearRun, progress: Progress) -> YearRun:
    return step(run, progress)


@contextlib.contextmanager
def _writer(run: YearRun) -> Iterator[None]:
    with writer_lock(run.settings):
        yield


def run_plan(run: YearRun, progress: Progress = quiet, call=_call, writer=_writer) -> YearRun:
    """Run the plan's steps in order: ``call(step, run, progress)`` runs one (directly, or as a
    Prefect task), ``writer(run)`` is the context the writing steps run in."""
    for step in PLAN[:WRITE_FROM]:
        run = call(step, run, progress)
        if run.finished:
            return run
    with writer(run):
        for step in PLAN[WRITE_FROM:]:
            run = call(step, run, progress)
    return run


def run_year(year: int, settings: Settings, progress: Progress = quiet) -> RunSummary:
    """The whole pipeline for one year, without Prefect."""
    t0 = time.monotonic()
    run = run_plan(YearRun(year=year, settings=settings, summary=RunSummary(year=year)), progress)
    run.summary.seconds = time.monotonic() - t0
    return run.summary
