"""Registry rows, the polite fetch into the raw store, damaged bodies, discovery."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flows.outcomes import FETCH_FAILED, Progress, ReportOutcome, quiet
from flows.settings import Settings
from sources.rawstore import redact_url


def registry_path(settings: Settings) -> Path:
    """The user's registry, or the sample registry shipped in the sources package."""
    if settings.sources:
        return Path(settings.sources)
    from sources.registry import BUNDLED_REGISTRY

    return Path(BUNDLED_REGISTRY)


_SAMPLES_NAMED: dict[tuple, bool] = {}  # registry file version (_registry_version) -> whether it names the samples


def needs_sample_server(settings: Settings) -> bool:
    """A registry whose URLs use ``{samples}`` (the bundled one) is served on loopback."""
    from sources.registry import SAMPLES_PLACEHOLDER

    version = _registry_version(settings)  # a run asks 3-4 times: the file read once (~4 ms at 10,000 rows)
    if version is None:
        return False  # load_registry reports the unreadable file with its own message
    found = _SAMPLES_NAMED.get(version)
    if found is None:
        try:  # as bytes: decoding a registry of 10,000 rows to search it took ~25 ms
            found = _SAMPLES_NAMED[version] = SAMPLES_PLACEHOLDER.encode("utf-8") in Path(version[0]).read_bytes()
        except OSError:
            return False
    return found


def _registry_version(settings: Settings) -> tuple | None:
    """The registry file as (path, mtime, size): what it held is what it holds while this stays the same; None
    when it cannot be read."""
    path = registry_path(settings)
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_mtime_ns, st.st_size)


def samples_base(settings: Settings) -> str | None:
    """The base URL to put in place of the registry's ``{samples}``; None for a registry of real URLs.

    The server of the bundled samples is demo tooling: the command line (or the deployments'
    entry flows, flows/commands/deployments.py) starts it and passes its URL in ``samples_base``;
    the pipeline neither starts nor names it.
    """
    if not needs_sample_server(settings):
        return None
    if not settings.samples_base:
        from sources.registry import SAMPLES_PLACEHOLDER, RegistryError

        raise RegistryError(str(registry_path(settings)), [(0, (
            f"it names the bundled sample pages ({SAMPLES_PLACEHOLDER}) but no server of them was given: run it "
            "with `xxgk run` or `xxgk demo` (they serve the samples), or set samples_base (XXGK_SAMPLES_BASE) "
            "to a server of sources/samples/"))])
    return settings.samples_base


def load_sources(settings: Settings, year: int | None, samples_base: str | None = None) -> list:
    """Registry rows of ``year`` (all rows when None): the ones ``open_ahead`` loaded, if it did (and the
    registry file is as it was then)."""
    key = _sources_key(settings, year, samples_base)
    with _SOURCES_LOCK:  # held while open_ahead's thread loads them
        held = _SOURCES_AHEAD.pop(key, None) if key is not None else None
    return held if held is not None else _load_sources(settings, year, samples_base)


def _load_sources(settings: Settings, year: int | None, samples_base: str | None) -> list:
    from sources.registry import load_registry

    rows = load_registry(registry_path(settings), samples_base=samples_base, cache_dir=settings.layout.cache)
    return [s for s in rows if year is None or int(s.year) == int(year)]


_SOURCES_AHEAD: dict[tuple, list] = {}  # rows open_ahead loaded, for the fetch step (taken once)
_SOURCES_LOCK = threading.Lock()


def _sources_key(settings: Settings, year: int | None, samples_base: str | None) -> tuple | None:
    version = _registry_version(settings)
    return None if version is None else (*version, year, samples_base, str(settings.layout.cache))


def make_fetcher(settings: Settings, loopback: bool = False):
    from sources.fetch import Fetcher, StoreFetcher

    if settings.offline:
        return StoreFetcher()

    # No point being polite to our own loopback server: it only slows the demo down.
    return Fetcher(
        max_per_host=settings.max_per_host,
        min_delay_s=0.0 if loopback else settings.min_delay,
        timeout=settings.timeout,
        retries=settings.retries,
        user_agent=settings.user_agent,
        unconditional=settings.full_run,  # --full / --refetch: read every body again
        host_fail_after=settings.host_fail_after,
        deadline_s=settings.fetch_deadline,
    )


def raw_store(settings: Settings):
    from sources.rawstore import RawStore

    return RawStore(settings.raw_dir)


_BODY_STORES: dict[Path, Any] = {}
_BODY_STORES_LOCK = threading.Lock()  # one RawStore per folder, also while open_ahead's thread opens it


def body_store(settings: Settings):
    """A raw store to read bodies from, opened once per process and folder.

    Opening a RawStore reads its whole manifest; doing that for each of the 50 parse chunks
    of 10,000 reports was 5 % of a run. Bodies are addressed by hash, so an older manifest
    index cannot give a wrong body. A fetch in this process records through it (its index stays
    current); one whose rows another process wrote may send older validators, and a site then
    answers with the body, which is stored as any other.
    """
    root = Path(settings.raw_dir).resolve()
    with _BODY_STORES_LOCK:
        store = _BODY_STORES.get(root)
        if store is None:
            store = _BODY_STORES[root] = raw_store(settings)
    return store


def open_ahead(settings: Settings, year: int | None = None) -> threading.Thread:
    """The fetch step's first CPU work, started in a thread: the raw store opened (``body_store``: its whole
    manifest read) and the fetcher's module imported (requests); or, when the fetch of ``year`` is under way
    in its own process (``start_revalidation``: a likely unchanged re-run), the registry rows loaded and the
    check after the fetch prepared (flows/steps/record.py ``record_ahead``). A Prefect flow calls it as it
    starts: the engine then waits on its server while it starts the fetch task (~0.06-0.1 s), and this fills
    the wait. The fetch step takes the same store and rows (``body_store``, ``load_sources``: they wait for
    the ones being made). Only a head start: an error here is met again, and reported, where the step does
    the same."""

    from flows.steps.fetch_ahead import revalidating

    def work() -> None:
        try:
            if year is not None and revalidating():
                from flows.steps.record import record_ahead

                base = samples_base(settings)
                key = _sources_key(settings, year, base)
                if key is not None:  # else the step meets the unreadable registry itself
                    with _SOURCES_LOCK:
                        rows = _SOURCES_AHEAD[key] = _load_sources(settings, year, base)
                    record_ahead(settings, year, rows)()
                return
            body_store(settings)
            if not settings.offline:
                import sources.fetch  # noqa: F401
        except Exception:  # noqa: BLE001, S110 - the fetch step opens and imports them itself, and reports
            pass

    thread = threading.Thread(target=work, name="xxgk-open-ahead", daemon=True)
    thread.start()
    return thread


PROGRESS_GAP_S = 1.0  # seconds between two progress lines of a fetch in this process, at least
FETCH_SPLIT_MIN = 2000  # sources below which one process fetches (starting others costs more)


def fetch_batch(sources: list, settings: Settings, loopback: bool = False,
                progress: Progress = quiet, on_fetched: Callable | None = None,
                meanwhile: Callable[[], None] | None = None) -> list[ReportOutcome]:
    """Fetch every source politely into the raw store; one outcome per source.

    ``on_fetched(source, sha256, content_type)`` is called as each new body is stored (the run
    parses it meanwhile: flows/steps/parsing.py ``EarlyParse``). ``meanwhile()`` is called while the
    conditional requests of the stored versions are out (``Fetcher.fetch_many``), if any are asked.

    A batch of many new bodies is spread over ``fetch_processes`` processes (flows/fetchsplit.py):
    a fetcher spends about half a ms of CPU per download under one GIL. The conditional requests of a
    re-run cost a few dozen µs each (sources/revalidate.py ``revalidate_many``): they stay in one
    process, which spares starting others.
    """
    from flows.fetchsplit import split_for_processes
    from flows.steps.fetch_ahead import take_revalidation

    results = []
    ahead = take_revalidation(sources, settings, loopback, progress, meanwhile) if sources else None
    if ahead is not None:
        results = ahead
    elif sources:
        n = settings.fetch_processes or default_fetch_processes()
        store = body_store(settings)  # the one the run then reads bodies from (one manifest read, not two)
        downloads = len(sources) if settings.full_run else sum(1 for s in sources if not store.known(s.url))
        parts = split_for_processes([s.host for s in sources], n, max(1, settings.max_per_host),
                                    0.0 if loopback else settings.min_delay) if downloads >= FETCH_SPLIT_MIN else []
        if len(parts) > 1:
            results = _fetch_in_processes(sources, parts, settings, loopback, progress, on_fetched, meanwhile)
        else:
            with make_fetcher(settings, loopback=loopback) as fetcher:
                results = fetcher.fetch_many(sources, store, progress=fetch_progress(len(sources), progress),
                                             waiting=progress, on_result=_new_body_hook(sources, on_fetched),
                                             meanwhile=meanwhile)
    if ahead is None:
        results = [fetched_row(res) for res in results]
    return [_outcome(src, *row) for src, row in zip(sources, results, strict=True)]


def fetched_row(res) -> tuple:
    """What a fetch outcome (sources/fetch.py ``FetchOutcome``, or an offline one) tells the run, as
    ``_outcome`` takes it."""
    return (str(getattr(res, "status", "failed")), getattr(res, "sha256", None) or getattr(res, "content_sha256", None),
            getattr(res, "content_type", None), getattr(res, "fetched_at", None), getattr(res, "error", None),
            getattr(res, "repaired", False), getattr(res, "detail", None))


def _outcome(src, status: str, sha: str | None, ctype: str | None, fetched_at: str | None, error: str | None,
             repaired: bool, detail: str | None) -> ReportOutcome:
    o = ReportOutcome(agency=src.agency, year=int(src.year), url=src.url, fetch=status, content_sha256=sha,
                      content_type=ctype, fetched_at=fetched_at, source=src)
    if repaired:
        o.reasons.append(f"raw store: {o.agency} {o.year}: damaged body {sha[:12]} repaired from {redact_url(o.url)}")
    if status == "failed" or not sha:
        o.fetch = "failed"
        o.outcome = FETCH_FAILED
        o.reasons.append(f"fetch: {error or 'no content'}" + (f" ({detail})" if detail else ""))
    return o


def fetch_progress(total: int, progress: Progress) -> Callable[[int, int], None]:
    """``Fetcher.fetch_many``'s ``progress``: a line every 5 %, at most one a second (a line is a log record
    sent to Prefect's API; the 304s of a re-run are settled all at once, and twenty lines in the same
    millisecond told nothing the last one does not)."""
    every = max(25, total // 20)
    last_line = [time.monotonic()]

    def fetched(done: int, total: int) -> None:
        if done == total or (done % every == 0 and time.monotonic() - last_line[0] >= PROGRESS_GAP_S):
            last_line[0] = time.monotonic()
            progress(f"fetched {done}/{total}")

    return fetched


def default_fetch_processes() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def _new_body_hook(sources: list, on_fetched: Callable | None):
    """``Fetcher.fetch_many``'s ``on_result`` for ``on_fetched``: new bodies only."""
    if on_fetched is None:
        return None

    def hook(i: int, res) -> None:
        if res.status == "fetched" and res.sha256:
            on_fetched(sources[i], res.sha256, res.content_type)
    return hook


def _fetch_in_processes(sources: list, parts: list, settings: Settings, loopback: bool, progress: Progress,
                        on_fetched: Callable | None = None, meanwhile: Callable[[], None] | None = None) -> list:
    import queue
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from flows.parsepool import forkserver_context

    results: list = [None] * len(sources)
    done = 0
    # forkserver: the flow process has threads (Prefect's), which fork would copy half-way. The
    # parse pool's: its preload (the parser, the fetcher) is imported once, in the server.
    ctx = forkserver_context()
    bodies = ctx.Queue() if on_fetched is not None else None  # (part, index in part, sha256, content type)

    def take_bodies(block: float) -> None:
        while bodies is not None:
            try:
                k, j, sha, ctype = bodies.get(timeout=block) if block else bodies.get_nowait()
            except queue.Empty:
                return
            block = 0
            on_fetched(sources[parts[k].indices[j]], sha, ctype)

    with ProcessPoolExecutor(max_workers=len(parts), mp_context=ctx, initializer=_set_body_queue,
                             initargs=(bodies,)) as pool:
        futures = {pool.submit(fetch_part, [sources[i] for i in part.indices], settings, loopback,
                               part.max_per_host, k if bodies is not None else None): part
                   for k, part in enumerate(parts)}
        pending = set(futures)
        if meanwhile is not None:
            meanwhile()
        while pending:
            finished, pending = wait(pending, timeout=0.05 if bodies is not None else None,
                                     return_when=FIRST_COMPLETED)
            take_bodies(0)
            for fut in finished:
                part = futures[fut]
                for i, res in zip(part.indices, fut.result(), strict=True):
                    results[i] = res
                done += len(part.indices)
                progress(f"fetched {done}/{len(sources)} ({len(parts)} processes)")
        if bodies is not None:  # what the last parts put just before they returned
            take_bodies(0.05)
    return results


_BODY_QUEUE = None  # in a fetch process: where new bodies are announced (_fetch_in_processes)


def _set_body_queue(q) -> None:
    global _BODY_QUEUE
    _BODY_QUEUE = q


def fetch_part(sources: list, settings: Settings, loopback: bool, max_per_host: int,
               part: int | None = None) -> list:
    """One process's share of a batch (its hosts' concurrency limits already divided)."""
    hook = None
    if part is not None and _BODY_QUEUE is not None:
        def hook(j: int, res) -> None:
            if res.status == "fetched" and res.sha256:
                _BODY_QUEUE.put((part, j, res.sha256, res.content_type))
    with make_fetcher(settings.with_overrides(max_per_host=max_per_host), loopback=loopback) as fetcher:
        return fetcher.fetch_many(sources, raw_store(settings), on_result=hook)


def discover_step(year: int, settings: Settings, progress: Progress = quiet) -> Settings:
    """With listings configured, find the year's reports on them and merge them into the
    registry before fetching; returns the settings to run with (their registry)."""
    if not settings.listings or settings.offline:
        return settings
    from sources.discover import discover_into_registry

    registry = Path(settings.sources) if settings.sources else settings.layout.registry
    with make_fetcher(settings) as fetcher:
        found = discover_into_registry(settings.listings, registry, [year], fetcher)
    progress(f"{year}: discovery: {found.as_dict()}")
    return settings.with_overrides(sources=str(registry))


def stored_years(settings: Settings) -> set[int]:
    """Years of which the raw store holds a body."""
    years = set()
    for row in raw_store(settings).rows():
        if row.get("sha256") and row.get("status") in ("fetched", "not_modified") and row.get("year") is not None:
            years.add(int(row["year"]))
    return years


