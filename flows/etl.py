"""Prefect flows: ``etl_year`` (one year) and ``backfill`` (years in order, each its own run).

Thin wiring over flows/plan.py: the same plan, each step a task. Tasks work on batches (a Prefect task costs ~8 ms,
so no task per report):

* ``fetch``: the registry rows of the year, fetched politely into the raw store. Retried
  (the fetcher is resumable: a retry re-requests only what is not stored yet).
* ``parse``: chunks of documents, cached by Prefect under a key made of the content hashes,
  the registry metadata and the parser version, on top of the per-document parsed cache
  of the pipeline. An unchanged report is never parsed again.
* ``load`` / ``validate`` / ``publish``: the warehouse writes, inside the global concurrency
  limit ``xxgk-warehouse-writer`` (limit 1), so only one run writes at a time.

Every run leaves three artifacts (flows/runartifacts.py): a table of per-report outcomes, a markdown summary with
the counts and the marts path, and a link to the Data Docs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import gc
import hashlib
import inspect
import os
import time
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.concurrency.sync import concurrency
from prefect.utilities.annotations import quote

from flows import plan
from flows.outcomes import NothingPublished, RunSummary
from flows.runartifacts import ReportTable, publish_artifacts
from flows.settings import Settings, load_settings
from flows.steps import parsing
from flows.steps.fetching import open_ahead
from flows.steps.loading import writer_lock
from flows.steps.parsing import drop_early_results
from flows.writerlimit import WRITER_LIMIT, WriterLimitAhead

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")  # no usage statistics from the worker's flow runs
# What the imports made (Prefect's ~1M objects) lives as long as the process: out of the cyclic
# collector's sight, which otherwise walks it on every full collection and once more at exit
# (0.6 s of an unchanged re-run's 3).
gc.freeze()


def _heartbeats_not_joined() -> bool:
    """Prefect 3.8's flow-run heartbeat thread sleeps in steps of one second, and the sync engine joins it
    when the run ends: 0-1 s of every run spent waiting (a sixth of an unchanged re-run). Prefect's async
    engine does not join it (``join_on_exit=False``); here the sync engine does the same: the thread sees
    the stop at its next second and returns without another heartbeat. Heartbeats themselves are kept.
    False (nothing changed) on a Prefect whose engine has no such parameter."""
    from prefect import flow_engine

    original = getattr(flow_engine, "_send_heartbeats", None)
    if getattr(original, "xxgk_not_joined", False):
        return True
    if original is None or "join_on_exit" not in inspect.signature(original).parameters:
        return False

    @contextlib.contextmanager
    def send_heartbeats(engine, join_on_exit: bool = True):
        with send_heartbeats.__wrapped__(engine, join_on_exit=False):
            yield

    send_heartbeats.xxgk_not_joined = True
    send_heartbeats.__wrapped__ = original
    flow_engine._send_heartbeats = send_heartbeats
    return True


HEARTBEATS_NOT_JOINED = _heartbeats_not_joined()

PARSE_CHUNK = 200  # documents per parse task at least: a batch large enough to amortise the task overhead
# Parse tasks of a run on the default (thread) runner at most: its documents were parsed while it fetched
# (flows/steps/parsing.py EarlyParse), so a chunk task is Prefect's bookkeeping (states, cache lookup,
# persisted result): 50 chunks of 10,000 reports took 1.4 s after the last parse. A chunk missing from
# Prefect's cache reads the others of its chunk from the parsed cache (~0.1 ms a report).
PARSE_TASKS = 8
PARSE_IN_FLIGHT = 2  # parse chunks running at once on the default (thread) runner


def previous_year(now: dt.datetime | None = None) -> int:
    """Reports on year Y appear from January of Y+1: the schedule's default is last year."""
    now = now or dt.datetime.now(ZoneInfo("Asia/Shanghai"))
    return now.year - 1


def parse_cache_key(_context: Any, parameters: dict[str, Any]) -> str:
    version = parsing.parser_version()
    keys = sorted(parsing.parse_cache_key(i["sha256"], i.get("agency"), i.get("year"), version) for i in parameters["items"])
    return "xxgk-parse-" + hashlib.sha256("\n".join(keys).encode()).hexdigest()


def retry_unless_bad_registry(_task, _task_run, state) -> bool:
    """A registry with errors fails the same way on every try: fail once, with its own message."""
    from sources.registry import RegistryError

    try:
        state.result()
    except RegistryError:
        return False
    except Exception:  # noqa: BLE001 - any other failure (network, disk) is worth a retry
        return True
    return True


@task(name="parse", cache_key_fn=parse_cache_key, persist_result=True)
def parse_task(items: list[dict[str, Any]], settings: Settings) -> dict[str, dict]:
    return parsing.parse_batch(items, settings, progress=get_run_logger().info)


def _submit_parse(chunk: list[dict[str, Any]], settings: Settings):
    """On the thread runner, quote(): the chunk's documents are plain dicts, never futures; Prefect would walk
    each of them twice (resolving inputs, recording task inputs), ~1 CPU-s at 10,000 reports. The task and
    its cache key still see the list itself. (Not on Dask: prefect-dask hands the task the quote itself;
    there the chunks are small and walked on the workers.)"""
    return parse_task.submit(quote(chunk), settings)


def _collect(futures) -> dict[str, dict]:
    parsed: dict[str, dict] = {}
    for future in futures:
        result = future.result()
        if future.state.name == "Cached":  # the whole chunk came from Prefect's cache
            result = {k: {**v, "cached": True} for k, v in result.items()}
        parsed.update(result)
    return parsed


@functools.cache
def parse_on_dask():  # made when first used (only the Dask runner does): a flow's parameter schema costs ~0.01 s
    @flow(name="parse-documents")
    def parse_documents(chunks: list[list[dict[str, Any]]], settings: Settings) -> dict[str, dict]:
        """The parse chunks on a Dask cluster (task_runner = "dask"): parsing is CPU-bound."""
        return _collect([parse_task.submit(chunk, settings) for chunk in chunks])
    return parse_documents


def parse_chunks(chunks: list[list[dict[str, Any]]], settings: Settings) -> dict[str, dict]:
    if settings.task_runner == "dask" and chunks:
        from prefect_dask import DaskTaskRunner

        runner = DaskTaskRunner(address=settings.dask_address) if settings.dask_address else DaskTaskRunner()
        return parse_on_dask().with_options(task_runner=runner)(chunks, settings)
    # Threads share one GIL: more than PARSE_IN_FLIGHT chunks at once only add memory (PDFs).
    futures = []
    for i, chunk in enumerate(chunks):
        if i >= PARSE_IN_FLIGHT:
            futures[i - PARSE_IN_FLIGHT].wait()
        futures.append(_submit_parse(chunk, settings))
    return _collect(futures)


@flow(name="etl-year", log_prints=True)
def etl_year(year: int | None = None, sources: str | None = None, home: str | None = None,
             config: str | None = None, full_run: bool | None = None,
             samples_base: str | None = None) -> dict[str, Any]:
    """Fetch, parse, load, validate and publish the reports of one year.

    ``year`` defaults to the previous calendar year (Asia/Shanghai): the reports on year Y
    are published from January of Y+1. ``sources`` is a registry CSV; the default is the
    bundled sample registry, whose pages are at ``samples_base`` (a server the caller started:
    ``xxgk run --prefect``, or the deployments' entry flows in flows/commands/deployments.py).

    The run ends Failed when it published nothing (nothing fetched, nothing parsed, the gate's
    breaker), with the reason in its summary artifact; its data is then a
    :class:`~flows.outcomes.NothingPublished` that carries the summary.
    """
    year = int(year) if year is not None else previous_year()
    # home, config and full_run: the command line's (`xxgk run --prefect`); a deployment leaves them to XXGK_*.
    settings = load_settings(config=config, home=home, sources=sources, full_run=full_run, samples_base=samples_base)
    open_ahead(settings, year)  # the fetch step's first work done while Prefect starts the first task
    logger = get_run_logger()
    summary = RunSummary(year=year)
    table = ReportTable()
    t0 = time.monotonic()

    try:
        _run(plan.YearRun(year=year, settings=settings, summary=summary), table)
    except BaseException as e:
        summary.gate_reason = f"run failed: {type(e).__name__}: {e}"
        raise
    finally:
        summary.seconds = time.monotonic() - t0
        try:
            publish_artifacts(summary, table)  # also for a failed run: the UI shows how far it got
        except Exception as e:  # noqa: BLE001 - never hide the run's own outcome behind an artifact error
            logger.warning("could not create the run's artifacts: %s", e)
    logger.info("%s", summary.counts)
    if summary.not_published:
        from prefect.states import Failed

        why = f"nothing published for {year}: {summary.not_published}"
        logger.error("%s", why)
        return Failed(message=why, data=NothingPublished(why, summary.to_dict()))
    return summary.to_dict(rows=False)


_PLAIN_JSON = (str, int, float, bool, type(None))


def _plain_parameters(flow_object):
    """The flow's parameters as the API gets them: FastAPI's ``jsonable_encoder`` (Prefect's way, whose import
    of FastAPI was ~0.1 CPU-s of an unchanged re-run) only for values that are not plain JSON already; it
    returns those as they are."""
    encode = flow_object.serialize_parameters

    def serialize_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
        if all(type(v) in _PLAIN_JSON for v in parameters.values()):
            return dict(parameters)
        return encode(parameters)

    flow_object.serialize_parameters = serialize_parameters
    return flow_object


_plain_parameters(etl_year)


# Prefect's options for the plan's steps that run as tasks; the others run in the flow itself.
TASK_OPTIONS: dict[str, dict[str, Any]] = {
    "discover": {"retries": 1, "retry_delay_seconds": 30},
    "fetch": {"retries": 2, "retry_delay_seconds": [5, 30], "retry_condition_fn": retry_unless_bad_registry},
    "unchanged": {"name": "check-unchanged"},
    "attachments": {"retries": 1, "retry_delay_seconds": 10},
    "evidence": {},
    "load": {},
    "validate": {},
    "publish": {},
    "data_docs": {"name": "data-docs"},
}


def _step_task(step: plan.Step):
    """One step of the plan as a Prefect task: the run goes in and comes back (quote(): Prefect
    would walk every report of it looking for futures, minutes at 10,000)."""
    # persist_result=False whatever the user's PREFECT_RESULTS_PERSIST_BY_DEFAULT: the run goes from step to
    # step in this process, and holds what no result store could keep (the validators' futures, a load's
    # early validation: flows/steps/validation.py).
    options = {"name": step.__name__, "cache_policy": NO_CACHE, "persist_result": False, **TASK_OPTIONS[step.__name__]}

    def run_step(run: plan.YearRun) -> plan.YearRun:
        return step(run, get_run_logger().info)

    run_step.__name__ = run_step.__qualname__ = f"{step.__name__}_task"
    run_step.__doc__ = step.__doc__
    return task(**options)(run_step)


STEP_TASKS = {name: _step_task(getattr(plan, name)) for name in TASK_OPTIONS}


def chunk_size(documents: int, settings: Settings) -> int:
    """Documents per parse task: PARSE_CHUNK on Dask (the chunks are the cluster's parallel work), else
    enough that a run makes at most PARSE_TASKS tasks."""
    if settings.task_runner == "dask":
        return PARSE_CHUNK
    return max(PARSE_CHUNK, -(-documents // PARSE_TASKS))


def parse_step(run: plan.YearRun, progress) -> plan.YearRun:
    """The parse step as chunks of documents (``chunk_size``), each a cached task (or on Dask)."""
    items = parsing.parse_items(run.outcomes)
    progress(f"{run.year}: parsing {len(items)} document(s)")
    size = chunk_size(len(items), run.settings)
    run.parsed = parse_chunks([items[i : i + size] for i in range(0, len(items), size)], run.settings)
    drop_early_results(run.settings)  # what flows/plan.py's fetch step parsed meanwhile, now taken
    return run


def _call(step: plan.Step, run: plan.YearRun, progress, table: ReportTable | None = None) -> plan.YearRun:
    if step is plan.data_docs and table is not None:
        table.start(run.summary)  # the outcomes are final: published (or not) and quarantined
    if step is plan.discover and not run.settings.listings:
        return run
    if step is plan.parse:
        return parse_step(run, progress)
    wrapped = STEP_TASKS.get(step.__name__)
    return wrapped(quote(run)) if wrapped is not None else step(run, progress)


@contextlib.contextmanager
def _writer(run: plan.YearRun, limit: WriterLimitAhead) -> Iterator[None]:
    limit.wait()  # looked up ahead while the run parsed, or now
    with concurrency(WRITER_LIMIT, occupy=1), writer_lock(run.settings):
        yield


def _run(run: plan.YearRun, table: ReportTable | None = None) -> plan.YearRun:
    """The plan of flows/plan.py, each step a task (flows/plan.py runs the same plan directly)."""
    limit = WriterLimitAhead()

    def call(step: plan.Step, run: plan.YearRun, progress) -> plan.YearRun:
        if step is plan.parse:
            limit.start()
        return _call(step, run, progress, table)

    return plan.run_plan(run, get_run_logger().info, call=call, writer=lambda run: _writer(run, limit))


def resolve_years(years: list[int] | None = None, start: int | None = None, end: int | None = None) -> list[int]:
    if years:
        return sorted({int(y) for y in years})
    if start is None and end is None:
        return [previous_year()]
    start = int(start if start is not None else end)
    end = int(end if end is not None else start)
    if end < start:
        raise ValueError(f"backfill: end year {end} is before start year {start}")
    return list(range(start, end + 1))


@flow(name="backfill", log_prints=True)
def backfill(
    years: list[int] | None = None,
    start: int | None = None,
    end: int | None = None,
    sources: str | None = None,
    samples_base: str | None = None,
) -> dict[str, Any]:
    """Run ``etl_year`` for each year in order, each as its own (sub)flow run.

    A failing year (or one that published nothing) is recorded and the next year runs; the
    summary lists failed years, and the backfill run then ends Failed.
    """
    logger = get_run_logger()
    todo = resolve_years(years, start, end)
    results: dict[int, dict[str, Any]] = {}
    failed: dict[int, str] = {}
    for year in todo:
        state = etl_year.with_options(flow_run_name=f"etl-year-{year}")(
            year=year, sources=sources, samples_base=samples_base, return_state=True
        )
        if state.is_completed():
            results[year] = state.result()
        else:
            failed[year] = state.message or state.name
            logger.error("year %d failed: %s", year, failed[year])
            data = state.result(raise_on_failure=False)
            if isinstance(data, NothingPublished) and data.summary:
                results[year] = data.summary
    lines = ["# xxgk backfill", "", "| year | sources | fetched | parsed | quarantined | published | state |",
             "|---|---|---|---|---|---|---|"]
    for year in todo:
        if year in results:
            c = results[year]["counts"]
            st = f"**failed**: {failed[year]}" if year in failed else "completed"
            lines.append(f"| {year} | {c['sources']} | {c['fetched'] + c['not_modified']} | {c['parsed']} "
                         f"| {c['quarantined']} | {c['published']} | {st} |")
        else:
            lines.append(f"| {year} | | | | | | **failed**: {failed[year]} |")
    if failed:
        lines += ["", f"**Failed years:** {', '.join(str(y) for y in failed)}"]
    create_markdown_artifact(markdown="\n".join(lines), key="xxgk-backfill",
                             description=f"Backfill of {todo[0]}-{todo[-1]}" if todo else "Backfill")
    out = {"years": todo, "completed": sorted(set(results) - set(failed)),
           "failed": {str(k): v for k, v in failed.items()}, "results": {str(k): v for k, v in results.items()}}
    if failed:  # the scheduler's alert fires; the other years still ran and published
        from prefect.states import Failed

        return Failed(message=f"backfill: year(s) {', '.join(map(str, failed))} failed or published nothing",
                      data=BackfillFailed(out))
    return out


_plain_parameters(backfill)


class BackfillFailed(Exception):
    """The data of a backfill run that ends Failed: ``.result`` is what the flow would return."""

    def __init__(self, result: dict[str, Any]):
        super().__init__(result)
        self.result = result

    def __str__(self) -> str:
        return "backfill failed for year(s) " + ", ".join(self.result.get("failed", {}))
