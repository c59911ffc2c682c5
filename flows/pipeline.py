"""The steps of one year, as plain Python over batches (no Prefect here).

registry → fetch → parse (cached by content hash + parser version) → warehouse load →
staging frames → GX validation → stored checks → gate → publish → Data Docs → RunSummary.

The Prefect flows (flows/etl.py) wrap each step in a task; ``xxgk run`` and the benchmark
call :func:`run_year` directly. A report that cannot be fetched or parsed is recorded with
its reason and the run goes on with the others.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.settings import Settings
from sources.rawstore import redact_url

Progress = Callable[[str], None]

# Per-report outcomes, in the order a report moves through the pipeline.
FETCH_FAILED = "fetch_failed"
PARSE_FAILED = "parse_failed"
QUARANTINED = "quarantined"
PASSED = "passed"  # passed the gate, but the publish did not happen (gate stopped it, or failed)
PUBLISHED = "published"
# Loaded, but not the agency's current report of the year (another URL of the same agency and
# year was taken, or another version is current): not in the marts.
NOT_CURRENT = "not_current"


def _quiet(_msg: str) -> None:
    pass


@dataclass
class ReportOutcome:
    agency: str
    year: int
    url: str
    fetch: str = "pending"  # fetched | not_modified | failed
    content_sha256: str | None = None
    content_type: str | None = None
    fetched_at: Any = None
    parse: str | None = None  # parsed | cached | failed
    report_id: str | None = None
    outcome: str = "pending"
    reasons: list[str] = field(default_factory=list)
    source: Any = field(default=None, repr=False)  # the registry row (sources.registry.Source)
    chosen_over: list[str] = field(default_factory=list)  # other URLs of the same agency and year, not taken

    def row(self) -> dict[str, Any]:
        """One row of the per-report table artifact."""
        return {
            "agency": self.agency,
            "year": self.year,
            "fetch": self.fetch,
            "parse": self.parse or "",
            "outcome": self.outcome,
            "reasons": "; ".join(self.reasons),
            "report_id": self.report_id or "",
            "sha256": (self.content_sha256 or "")[:12],
            "url": redact_url(self.url),
        }


@dataclass
class RunSummary:
    year: int
    reports: list[ReportOutcome] = field(default_factory=list)
    published: bool = False
    gate_reason: str = ""
    marts_path: str | None = None
    data_docs_path: str | None = None
    seconds: float = 0.0
    unchanged_since: str | None = None  # nothing changed since that run: its outcomes were taken
    fingerprint: str | None = field(default=None, repr=False)  # of the run's inputs (flows/runrecord.py)
    notes: list[str] = field(default_factory=list)  # what the run repaired or decided for the user

    @property
    def not_published(self) -> str | None:
        """Why this run published nothing, or None when it published or nothing changed since
        the year's last complete run (a scheduler's success: `xxgk run` exits 0)."""
        if self.published or self.unchanged_since:
            return None
        c = self.counts
        if not c["sources"]:
            return f"the registry has no report for {self.year}"
        if not c["fetched"] + c["not_modified"]:
            return f"nothing fetched: all {c['sources']} fetch(es) failed"
        if not c["parsed"]:
            return "nothing parsed: no fetched document could be parsed"
        return self.gate_reason or "the publish gate stopped the run"

    @property
    def counts(self) -> dict[str, int]:
        c = {"sources": len(self.reports)}
        for key in ("fetched", "not_modified", "failed"):
            c[key] = sum(r.fetch == key for r in self.reports)
        c["parsed"] = sum(r.parse in ("parsed", "cached") for r in self.reports)
        c["parse_cached"] = sum(r.parse == "cached" for r in self.reports)
        c["parse_failed"] = sum(r.outcome == PARSE_FAILED for r in self.reports)
        c["quarantined"] = sum(r.outcome == QUARANTINED for r in self.reports)
        c["passed"] = sum(r.outcome in (PASSED, PUBLISHED) for r in self.reports)
        c["published"] = sum(r.outcome == PUBLISHED for r in self.reports)
        c["not_current"] = sum(r.outcome == NOT_CURRENT for r in self.reports)
        # Failed this time, but the version published before stays in the marts (published + kept
        # = the year's reports in the marts).
        c["kept"] = sum(r.outcome == FETCH_FAILED and r.report_id is not None for r in self.reports)
        return c

    def to_dict(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "counts": self.counts,
            "published": self.published,
            "gate_reason": self.gate_reason,
            "marts_path": self.marts_path,
            "data_docs_path": self.data_docs_path,
            "unchanged_since": self.unchanged_since,
            "not_published": self.not_published,
            "notes": list(self.notes),
            "seconds": round(self.seconds, 2),
            "reports": [r.row() for r in self.reports],
        }

    def markdown(self) -> str:
        c = self.counts
        lines = [
            f"# xxgk {self.year}",
            "",
            "| sources | fetched | not modified | fetch failed | parsed (cached) | parse failed "
            "| quarantined | passed | published |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {c['sources']} | {c['fetched']} | {c['not_modified']} | {c['failed']} "
            f"| {c['parsed']} ({c['parse_cached']}) | {c['parse_failed']} | {c['quarantined']} "
            f"| {c['passed']} | {c['published']} |",
            "",
            f"**Published:** {'yes' if self.published else 'no'}"
            + (f" ({self.gate_reason})" if self.gate_reason else ""),
            *(["", f"**Nothing published:** {self.not_published} (the flow run ends Failed)"]
              if self.not_published else []),
            "",
            f"**Marts:** `{self.marts_path}`" if self.marts_path else "**Marts:** not published",
            "",
            f"**Data Docs:** `{self.data_docs_path}`" if self.data_docs_path else "**Data Docs:** none",
        ]
        if self.unchanged_since:
            lines += ["", f"**Nothing changed** since the run of {self.unchanged_since}: its outcomes stand "
                          "(parse, load, validation and publish were skipped)."]
        if self.notes:
            lines += ["", "## Notes", ""] + [f"- {n}" for n in self.notes]
        problems = [r for r in self.reports if r.reasons and r.outcome != PUBLISHED]
        if problems:
            lines += ["", "## Reports not published", ""]
            lines += [f"- {r.agency} {r.year}: {r.outcome}: {'; '.join(r.reasons)}" for r in problems[:200]]
        return "\n".join(lines)


class NothingPublished(Exception):
    """A run that ended without publishing (nothing fetched, nothing parsed, the gate's breaker):
    the Prefect flow run ends Failed with it, and `xxgk run` exits EXIT_NOT_PUBLISHED."""

    def __init__(self, reason: str, summary: dict[str, Any] | None = None):
        super().__init__(reason, summary)
        self.reason, self.summary = reason, summary or {}

    def __str__(self) -> str:
        return self.reason


# ---------------------------------------------------------------- sources


def registry_path(settings: Settings) -> Path:
    """The user's registry, or the sample registry shipped in the sources package."""
    if settings.sources:
        return Path(settings.sources)
    from sources.registry import BUNDLED_REGISTRY

    return Path(BUNDLED_REGISTRY)


def needs_sample_server(settings: Settings) -> bool:
    """A registry whose URLs use ``{samples}`` (the bundled one) is served on loopback."""
    from sources.registry import SAMPLES_PLACEHOLDER

    path = registry_path(settings)
    try:
        return SAMPLES_PLACEHOLDER in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False  # load_registry reports the unreadable file with its own message


@contextlib.contextmanager
def samples_served(settings: Settings) -> Iterator[str | None]:
    """Serve the bundled samples on loopback when the default registry is used.

    Yields the base URL to substitute for ``{samples}`` (None for a registry of real
    URLs: they are used as they are).
    """
    if not needs_sample_server(settings):
        yield None
        return
    from sources.serve import serve_samples

    with serve_samples() as base:
        yield base


def load_sources(settings: Settings, year: int | None, samples_base: str | None = None) -> list:
    """Registry rows of ``year`` (all rows when None)."""
    from sources.registry import load_registry

    rows = load_registry(registry_path(settings), samples_base=samples_base)
    return [s for s in rows if year is None or int(s.year) == int(year)]


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


def _body_store(settings: Settings):
    """A raw store to read bodies from, opened once per process and folder.

    Opening a RawStore reads its whole manifest; doing that for each of the 50 parse chunks
    of 10,000 reports was 5 % of a run. Bodies are addressed by hash, so an older manifest
    index cannot give a wrong body.
    """
    root = Path(settings.raw_dir).resolve()
    store = _BODY_STORES.get(root)
    if store is None:
        store = _BODY_STORES[root] = raw_store(settings)
    return store


FETCH_SPLIT_MIN = 2000  # sources below which one process fetches (starting others costs more)


def fetch_batch(sources: list, settings: Settings, loopback: bool = False,
                progress: Progress = _quiet) -> list[ReportOutcome]:
    """Fetch every source politely into the raw store; one outcome per source.

    A large batch is spread over ``fetch_processes`` processes (flows/fetchsplit.py): a
    fetcher spends about 1 ms of CPU per request under one GIL, which made the 10,000
    conditional requests of an unchanged re-run most of its time.
    """
    from flows.fetchsplit import split_for_processes

    results = []
    if sources:
        n = settings.fetch_processes or default_fetch_processes()
        parts = split_for_processes([s.host for s in sources], n if len(sources) >= FETCH_SPLIT_MIN else 1,
                                    max(1, settings.max_per_host), 0.0 if loopback else settings.min_delay)
        if len(parts) > 1:
            results = _fetch_in_processes(sources, parts, settings, loopback, progress)
        else:
            def fetched(done: int, total: int) -> None:
                if done % 25 == 0 or done == total:
                    progress(f"fetched {done}/{total}")

            with make_fetcher(settings, loopback=loopback) as fetcher:
                results = fetcher.fetch_many(sources, raw_store(settings), progress=fetched, waiting=progress)
    outcomes = []
    for src, res in zip(sources, results, strict=True):
        status = str(getattr(res, "status", "failed"))
        o = ReportOutcome(agency=src.agency, year=int(src.year), url=src.url, fetch=status, source=src)
        o.content_sha256 = getattr(res, "sha256", None) or getattr(res, "content_sha256", None)
        o.content_type = getattr(res, "content_type", None)
        o.fetched_at = getattr(res, "fetched_at", None)
        if getattr(res, "repaired", False):
            o.reasons.append(f"raw store: {o.agency} {o.year}: damaged body {o.content_sha256[:12]} repaired "
                             f"from {redact_url(o.url)}")
        if status == "failed" or not o.content_sha256:
            o.fetch = "failed"
            o.outcome = FETCH_FAILED
            reason = getattr(res, "error", None) or "no content"
            detail = getattr(res, "detail", None)
            o.reasons.append(f"fetch: {reason}" + (f" ({detail})" if detail else ""))
        outcomes.append(o)
    return outcomes


def default_fetch_processes() -> int:
    return max(1, min(os.cpu_count() or 1, 4))


def _fetch_in_processes(sources: list, parts: list, settings: Settings, loopback: bool, progress: Progress) -> list:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    results: list = [None] * len(sources)
    done = 0
    # forkserver: the flow process has threads (Prefect's), which fork would copy half-way.
    ctx = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=len(parts), mp_context=ctx) as pool:
        futures = {pool.submit(fetch_part, [sources[i] for i in part.indices], settings, loopback,
                               part.max_per_host): part for part in parts}
        for fut in as_completed(futures):
            part = futures[fut]
            for i, res in zip(part.indices, fut.result(), strict=True):
                results[i] = res
            done += len(part.indices)
            progress(f"fetched {done}/{len(sources)} ({len(parts)} processes)")
    return results


def fetch_part(sources: list, settings: Settings, loopback: bool, max_per_host: int) -> list:
    """One process's share of a batch (its hosts' concurrency limits already divided)."""
    with make_fetcher(settings.with_overrides(max_per_host=max_per_host), loopback=loopback) as fetcher:
        return fetcher.fetch_many(sources, raw_store(settings))


# ---------------------------------------------------------------- parse


def parser_version() -> str:
    from transforms.parse import PARSER_VERSION

    return str(PARSER_VERSION)


def parse_cache_key(sha256: str, agency: str | None, year: int | None, version: str) -> str:
    """Content hash + registry metadata (it takes precedence in the parser) + parser version."""
    return hashlib.sha256(f"{sha256}|{agency or ''}|{year or ''}|{version}".encode()).hexdigest()


def _cache_path(settings: Settings, key: str) -> Path:
    return settings.parsed_dir / key[:2] / f"{key}.json"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def parse_one(data: bytes, agency: str | None, year: int | None, content_type: str | None,
              pictures: dict[str, bytes] | None = None) -> dict[str, Any]:
    """Parse one document: {"report", "narrative", "attachments", "images"} (raises on an
    unparseable document). ``images``: the ``<img>`` sources of a page lacking tables, for
    ``follow_pictures``; ``pictures``: those fetched, by source, for OCR."""
    from transforms.parse import parse_document

    res = parse_document(data, agency=agency, year=year, content_type=content_type, pictures=pictures)
    narrative: dict[str, int] = {}
    try:
        from transforms.narrative import extract
    except ImportError:  # the narrative module is optional: S1 is then skipped
        extract = None
    if extract is not None and getattr(res, "text", None):
        narrative = dict(extract(res.text))
    images: list[str] = []
    if res.kind == "html" and not pictures and _tables_present(res.report) < len(_TABLES):
        from transforms.decode import decode
        from transforms.pdfimages import html_image_srcs

        images = html_image_srcs(decode(data, content_type).text)
    return {"report": res.report, "narrative": narrative,
            "attachments": [[href, text] for href, text in (getattr(res, "attachments", None) or [])],
            "images": images}


# ---------------------------------------------------------------- attachments

_TABLES = ("active_disclosure", "applications", "review_litigation")


def _tables_present(report: dict) -> int:
    return sum(report.get(t) is not None for t in _TABLES)


def slim(result: dict[str, Any]) -> dict[str, Any]:
    """What the pipeline keeps in memory of a parse result; the report stays in the parsed cache."""
    if not result.get("ok"):
        return {"ok": False, "error": result.get("error"), "cached": bool(result.get("cached"))}
    return {"ok": True, "cached": bool(result.get("cached")), "tables": _tables_present(result["report"]),
            "attachments": result.get("attachments") or [], "images": result.get("images") or []}


def _best_attachment(links: list) -> str | None:
    """The attachment most likely to be the report itself: named like one, PDF or Word first."""
    def rank(link):
        href, text = link[0], link[1] if len(link) > 1 else ""
        named = "报告" in (text or "") or "年报" in (text or "")
        ext = href.lower().split("?")[0].rsplit(".", 1)[-1]
        return (not named, ext not in ("pdf", "docx", "doc"))

    return sorted(links, key=rank)[0][0] if links else None


def follow_attachments(outcomes: list[ReportOutcome], parsed: dict[str, dict], settings: Settings,
                       loopback: bool = False, progress: Progress = _quiet) -> list[dict[str, Any]]:
    """A page whose tables are missing but which links an attachment (.pdf, .docx, ...):
    fetch the attachment once, politely, into the raw store, and parse it instead when it
    holds more of the tables. Returns the attachments followed ({index, url, sha256, taken}),
    which the run record keeps so that a re-run checks them for changes too."""
    from urllib.parse import urljoin

    version = parser_version()
    todo = []
    for i, o in enumerate(outcomes):
        if o.outcome == FETCH_FAILED or not o.content_sha256:
            continue
        res = parsed.get(parse_cache_key(o.content_sha256, o.agency, o.year, version)) or {}
        link = _best_attachment(res.get("attachments") or []) if res.get("ok") else None
        if link and res.get("tables", 0) < len(_TABLES):
            todo.append((i, o, res, urljoin(o.url, link)))
    if not todo:
        return follow_pictures(outcomes, parsed, settings, loopback, progress)
    store = raw_store(settings)
    followed = []
    with make_fetcher(settings, loopback=loopback) as fetcher:
        for i, o, page, url in todo:
            got = fetch_attachment(fetcher, store, o, url)
            followed.append({"index": i, "url": url, "sha256": got.sha256 if got is not None and got.ok else None,
                             "taken": False})
            if got is None or not got.ok or not got.sha256:
                o.reasons.append(f"attachment {url}: {getattr(got, 'error', None) or 'not fetched'}")
                continue
            item = {"sha256": got.sha256, "agency": o.agency, "year": o.year, "content_type": got.content_type}
            key = parse_cache_key(got.sha256, o.agency, o.year, version)
            att = slim(_parse_cached(store, settings, key, item))
            if att.get("ok") and att["tables"] > page["tables"]:
                parsed[key] = att
                o.content_sha256, o.content_type = got.sha256, got.content_type
                o.reasons.append(f"parsed from the attachment {url}")
                followed[-1]["taken"] = True
            else:
                o.reasons.append(f"attachment {url} holds no more of the tables than the page")
    taken = sum(f["taken"] for f in followed)
    progress(f"attachments: {taken} of {len(todo)} report(s) taken from an attachment")
    return followed + follow_pictures(outcomes, parsed, settings, loopback, progress)


def follow_pictures(outcomes: list[ReportOutcome], parsed: dict[str, dict], settings: Settings,
                    loopback: bool = False, progress: Progress = _quiet) -> list[dict[str, Any]]:
    """A page whose tables are missing but which shows pictures (``<img>``): fetch each picture
    once (http(s) only, at most MAX_PICTURES a page, the fetcher's size limit), politely, into
    the raw store, and parse the page again with them in the parse workers (OCR, within their
    time limit). The page's parsed-cache entry then holds the tables read from the pictures.
    Returns the pictures followed ({index, url, sha256, taken}) for the run record."""
    from urllib.parse import urljoin, urlsplit

    from transforms.pdfimages import MAX_PICTURES

    version = parser_version()
    todo = []
    for i, o in enumerate(outcomes):
        if o.outcome == FETCH_FAILED or not o.content_sha256:
            continue
        key = parse_cache_key(o.content_sha256, o.agency, o.year, version)
        res = parsed.get(key) or {}
        if res.get("ok") and res.get("images") and res.get("tables", 0) < len(_TABLES):
            srcs = [(src, urljoin(o.url, src)) for src in res["images"][:MAX_PICTURES]]
            todo.append((i, o, key, res, [(s, u) for s, u in srcs if urlsplit(u).scheme in ("http", "https")]))
    if not todo:
        return []
    store = raw_store(settings)
    followed: list[dict[str, Any]] = []
    fetched: dict[str, Any] = {}  # url -> outcome: a picture shown on several pages is fetched once
    jobs, owners = [], []
    with make_fetcher(settings, loopback=loopback) as fetcher:
        for i, o, key, _res, srcs in todo:
            pics = []
            for src, url in srcs:
                if url not in fetched:
                    fetched[url] = fetch_attachment(fetcher, store, o, url, picture=True)
                got = fetched[url]
                ok = got is not None and got.ok and got.sha256
                followed.append({"index": i, "url": url, "sha256": got.sha256 if ok else None, "taken": False,
                                 "picture": True})
                if ok:
                    pics.append((src, str(store.path_of(got.sha256))))
            if pics:
                jobs.append((str(store.path_of(o.content_sha256)), o.agency, o.year, o.content_type, pics))
                owners.append((i, o, key, len(followed) - len(srcs), len(followed)))
    taken = 0

    def done(j: int, result: dict | None, error: str | None) -> None:
        nonlocal taken
        i, o, key, lo, hi = owners[j]
        if error is not None or result is None:
            o.reasons.append(f"pictures: {error or 'not read'}")
            return
        if _tables_present(result["report"]) > parsed[key].get("tables", 0):
            _write_atomic(_cache_path(settings, key), json.dumps(result, ensure_ascii=False, default=str))
            parsed[key] = slim({**result, "ok": True, "cached": False})
            o.reasons.append(f"tables read from {sum(1 for f in followed[lo:hi] if f['sha256'])} picture(s) by OCR")
            for f in followed[lo:hi]:
                f["taken"] = f["sha256"] is not None
            taken += 1

    if settings.parse_timeout == 0:
        for j, job in enumerate(jobs):
            try:
                done(j, parse_file_pictures(*job), None)
            except Exception as e:  # noqa: BLE001 - any failure leaves the page as the text gave it
                done(j, None, f"{type(e).__name__}: {e}".strip())
    elif jobs:
        from flows.parsepool import default_workers, shared_pool

        shared_pool(settings.parse_workers or default_workers(), settings.parse_timeout).run(
            parse_file_pictures, jobs, done)
    progress(f"pictures: {taken} of {len(todo)} report(s) read from their pictures by OCR")
    return followed


def parse_file_pictures(path: str, agency: str | None, year: int | None, content_type: str | None,
                        pictures: list[tuple[str, str]]) -> dict[str, Any]:
    """``parse_one`` of a raw-store page with its pictures (raw-store files), in a parse worker."""
    pics = {}
    for src, pic_path in pictures:
        with open(pic_path, "rb") as f:
            pics[src] = f.read()
    with open(path, "rb") as f:
        return parse_one(f.read(), agency, year, content_type, pictures=pics)


def fetch_attachment(fetcher, store, o: ReportOutcome, url: str, picture: bool = False):
    """Fetch an attachment (or with ``picture``, a picture) of a report's page as that report's
    registry row would be."""
    from dataclasses import replace as dc_replace

    if o.source is None:
        return None
    src = dc_replace(o.source, url=url)
    return fetcher.fetch_one(src, store, picture=True) if picture else fetcher.fetch_one(src, store)


def parse_batch(items: list[dict[str, Any]], settings: Settings, progress: Progress = _quiet) -> dict[str, dict]:
    """Parse a batch; ``items`` are {sha256, agency, year, content_type} dicts.

    Returns {cache key: {"ok", "error", "cached", "tables", "attachments"}}: what the next
    steps decide on, not the reports themselves, which stay in the parsed cache under
    ``$XXGK_HOME/parsed/`` until the load reads them a chunk at a time (holding 10,000
    parsed reports at once took a gigabyte). An unchanged document (same content hash,
    registry metadata and parser version) is read from that cache instead of being parsed
    again. The others are parsed in worker processes with a time limit each
    (``parse_timeout``; 0 parses here).
    """
    version = parser_version()
    store = _body_store(settings)
    out: dict[str, dict] = {}
    todo: list[tuple[str, dict[str, Any]]] = []
    for it in items:
        key = parse_cache_key(it["sha256"], it.get("agency"), it.get("year"), version)
        hit = _read_cache(settings, key)
        if hit is not None:
            out[key] = slim(hit)
        else:
            todo.append((key, it))
    finished = len(out)

    def done(i: int, result: dict | None, error: str | None) -> None:
        nonlocal finished
        key, _it = todo[i]
        if error is not None:
            out[key] = {"ok": False, "error": error[:500], "cached": False}
        else:
            _write_atomic(_cache_path(settings, key), json.dumps(result, ensure_ascii=False, default=str))
            out[key] = slim({**result, "ok": True, "cached": False})
        finished += 1
        if finished % 50 == 0 or finished == len(items):
            progress(f"parsed {finished}/{len(items)}")

    if settings.parse_timeout == 0 or len(todo) == 0:
        for i, (_key, it) in enumerate(todo):
            try:
                done(i, parse_one(store.get(it["sha256"]), it.get("agency"), it.get("year"), it.get("content_type")),
                     None)
            except Exception as e:  # noqa: BLE001 - any parser failure quarantines this report only
                done(i, None, f"{type(e).__name__}: {e}".strip())
    else:
        from flows.parsepool import default_workers, shared_pool

        pool = shared_pool(settings.parse_workers or default_workers(), settings.parse_timeout)
        jobs = [(str(store.path_of(it["sha256"])), it.get("agency"), it.get("year"), it.get("content_type"))
                for _key, it in todo]
        pool.run(parse_file, jobs, done)
    if items and finished == len(out) and not todo:
        progress(f"parsed {len(items)}/{len(items)} (all from the cache)")
    return out


def parse_file(path: str, agency: str | None, year: int | None, content_type: str | None) -> dict[str, Any]:
    """``parse_one`` of a raw-store file, in a parse worker (reads the file there, not over a pipe)."""
    from sources.rawstore import DamagedObject, sha256_hex

    with open(path, "rb") as f:
        data = f.read()
    if sha256_hex(data) != Path(path).name:  # a damaged body is never parsed (and so never published)
        raise DamagedObject(f"raw object {Path(path).name} is damaged")
    return parse_one(data, agency, year, content_type)


def verify_bodies(outcomes: list[ReportOutcome], settings: Settings, loopback: bool = False,
                  progress: Progress = _quiet) -> list[str]:
    """Check the stored bodies about to be parsed against their SHA-256; fetch a damaged one
    again, unconditionally. Returns one line per damaged body saying what became of it.

    Repaired when the site gives the same bytes; when it gives others, those are the report
    now; when it gives nothing, the report fails with the reason (never parsed from bad bytes).
    """
    notes = [r for o in outcomes for r in o.reasons if r.startswith("raw store:")]  # repaired by the fetch
    version = parser_version()
    store = _body_store(settings)
    damaged = [o for o in outcomes if o.outcome != FETCH_FAILED and o.content_sha256
               and not _cache_path(settings, parse_cache_key(o.content_sha256, o.agency, o.year, version)).is_file()
               and not store.verify(o.content_sha256)]
    if not damaged:
        return notes
    fresh = raw_store(settings)
    with make_fetcher(settings, loopback=loopback) as fetcher:
        for o in damaged:
            old = o.content_sha256 or ""
            got = fetcher.fetch_one(o.source, fresh, unconditional=True) if o.source is not None else None
            if got is not None and got.ok and got.sha256 == old:
                note = f"raw store: {o.agency} {o.year}: damaged body {old[:12]} repaired from {redact_url(o.url)}"
            elif got is not None and got.ok and got.sha256:
                o.content_sha256, o.content_type, o.fetched_at = got.sha256, got.content_type, got.fetched_at
                note = (f"raw store: {o.agency} {o.year}: damaged body {old[:12]} set aside; the site now serves "
                        f"{got.sha256[:12]}, taken")
            else:
                o.fetch, o.outcome = "failed", FETCH_FAILED
                why = getattr(got, "error", None) or "no registry row"
                o.reasons.append(f"raw: the stored body {old[:12]} is damaged and could not be fetched again ({why})")
                note = f"raw store: {o.agency} {o.year}: damaged body {old[:12]} set aside, not repaired ({why})"
            o.reasons.append(note)
            notes.append(note)
            progress(note)
    return notes


def _read_cache(settings: Settings, key: str) -> dict[str, Any] | None:
    path = _cache_path(settings, key)
    if not path.is_file():
        return None
    try:
        return {**json.loads(path.read_text(encoding="utf-8")), "ok": True, "cached": True}
    except (OSError, ValueError):
        return None  # a damaged cache entry is parsed again


def _parse_cached(store, settings: Settings, key: str, it: dict[str, Any]) -> dict[str, Any]:
    hit = _read_cache(settings, key)
    if hit is not None:
        return hit
    try:
        data = store.get(it["sha256"])
        parsed = parse_one(data, it.get("agency"), it.get("year"), it.get("content_type"))
    except Exception as e:  # noqa: BLE001 - any parser failure quarantines this report only
        return {"ok": False, "error": f"{type(e).__name__}: {e}".strip()[:500], "cached": False}
    _write_atomic(_cache_path(settings, key), json.dumps(parsed, ensure_ascii=False, default=str))
    return {**parsed, "ok": True, "cached": False}


def parse_items(outcomes: list[ReportOutcome]) -> list[dict[str, Any]]:
    return [
        {"sha256": o.content_sha256, "agency": o.agency, "year": o.year, "content_type": o.content_type}
        for o in outcomes
        if o.outcome != FETCH_FAILED
    ]


def apply_parsed(outcomes: list[ReportOutcome], parsed: dict[str, dict]) -> None:
    version = parser_version()
    for o in outcomes:
        if o.outcome == FETCH_FAILED:
            continue
        res = parsed.get(parse_cache_key(o.content_sha256, o.agency, o.year, version))
        if res is None or not res.get("ok"):
            o.parse = "failed"
            o.outcome = PARSE_FAILED
            o.reasons.append("parse: " + (res or {}).get("error", "not parsed"))
        else:
            o.parse = "cached" if res.get("cached") else "parsed"


def choose_one_url(outcomes: list[ReportOutcome], parsed: dict[str, dict]) -> list[str]:
    """Two registry rows (URLs) for one agency and year, e.g. a page and its attachment or a
    mirror: one is taken, the same one whatever the fetch timing, and the other is not loaded.

    Taken: the one that parsed, then the one with more of the tables, then the earlier registry
    line, then the smaller URL. Returns one line per decision (the run summary's notes); the
    taken report carries a ``duplicate_source`` finding, the other the reason.
    """
    version = parser_version()
    groups: dict[tuple[str, int], list[ReportOutcome]] = {}
    for o in outcomes:
        if o.outcome not in (FETCH_FAILED, NOT_CURRENT) and o.content_sha256:
            groups.setdefault((o.agency, int(o.year)), []).append(o)
    notes = []

    def rank(o: ReportOutcome) -> tuple:
        res = parsed.get(parse_cache_key(o.content_sha256 or "", o.agency, o.year, version)) or {}
        line = getattr(o.source, "line", None)
        return (not res.get("ok"), -int(res.get("tables") or 0), line if line is not None else 1 << 30, o.url)

    for (agency, year), group in groups.items():
        if len(group) < 2:
            continue
        ranked = sorted(group, key=rank)
        taken, why = ranked[0], _why_taken(rank(ranked[0]), rank(ranked[1]))
        for other in ranked[1:]:
            row_ref = f"line {getattr(other.source, 'line', '?')} {redact_url(other.url)}"
            taken.chosen_over.append(f"{row_ref}: {why}")
            other.outcome = NOT_CURRENT
            other.reasons.append(f"registry: another URL of {agency} {year} was taken (line "
                                 f"{getattr(taken.source, 'line', '?')} {redact_url(taken.url)}: {why})")
            notes.append(f"{agency} {year}: two URLs; took line {getattr(taken.source, 'line', '?')} "
                         f"{redact_url(taken.url)} over {row_ref} ({why})")
    return notes


def _why_taken(a: tuple, b: tuple) -> str:
    if a[0] != b[0]:
        return "the other could not be parsed"
    if a[1] != b[1]:
        return f"it holds {-a[1]} of the tables, the other {-b[1]}"
    if a[2] != b[2]:
        return "equal tables; the earlier registry line"
    return "equal tables and line; the smaller URL"


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def failed_report(agency: str | None, year: int | None, error: str) -> dict:
    """The contract object of a document the parser could not read: no tables, one finding."""
    return {
        "contract": "xxgk.report/1", "agency": agency, "year": year,
        "templates": {"active_disclosure": None, "applications": None, "review_litigation": None},
        "active_disclosure": None, "applications": None, "review_litigation": None,
        "findings": [{"code": "parse_failed", "severity": "error", "message": error[:500], "where": "document"}],
    }


def documents(outcomes: list[ReportOutcome], parsed: dict[str, dict],
              settings: Settings) -> list[tuple[ReportOutcome, Any]]:
    """(outcome, warehouse.load.Document) for every parsed report among ``outcomes``.

    The reports are read back from the parsed cache (parsed again if an entry went missing),
    so call this on a chunk of outcomes at a time.
    """
    from warehouse.load import Document

    version = parser_version()
    store = _body_store(settings)
    docs = []
    for o in outcomes:
        if o.outcome == NOT_CURRENT:
            continue  # another URL of the same agency and year was taken (choose_one_url)
        key = parse_cache_key(o.content_sha256, o.agency, o.year, version) if o.content_sha256 else None
        if o.parse == "failed" and o.content_sha256:
            # Kept, not lost: a stub with the parser's error is loaded, fails H7 and is
            # quarantined, so mart_quality lists it with its reason.
            error = (parsed.get(key) or {}).get("error")
            res = {"report": failed_report(o.agency, o.year, error or "not parsed"), "narrative": {}}
        elif o.parse in ("parsed", "cached"):
            item = {"sha256": o.content_sha256, "agency": o.agency, "year": o.year, "content_type": o.content_type}
            res = _parse_cached(store, settings, key, item)
            if not res.get("ok"):
                res = {"report": failed_report(o.agency, o.year, res.get("error") or "not parsed"), "narrative": {}}
        else:
            continue
        if o.chosen_over:
            report = dict(res["report"])
            report["findings"] = [*(report.get("findings") or []), *(
                {"code": "duplicate_source", "severity": "info", "where": "document",
                 "message": f"another registry row gives this agency and year: {c}"} for c in o.chosen_over)]
            res = {**res, "report": report}
        s = o.source
        doc = Document(
            agency=o.agency,
            year=o.year,
            source_url=redact_url(o.url),  # credentials in a registry URL are used, never published
            content_sha256=o.content_sha256,
            fetched_at=_as_datetime(o.fetched_at),
            province=getattr(s, "province", None),
            city=getattr(s, "city", None),
            county=getattr(s, "county", None),
            level=getattr(s, "level", None),
            parent=getattr(s, "parent", None),
            report=res["report"],
            parser_version=version,
            narrative=res.get("narrative") or {},
        )
        docs.append((o, doc))
    return docs


# ---------------------------------------------------------------- warehouse


@contextlib.contextmanager
def writer_lock(settings: Settings, timeout: float = 3600.0) -> Iterator[None]:
    """One writer of ``$XXGK_HOME`` at a time on this machine (the Prefect flows also
    hold the global concurrency limit ``xxgk-warehouse-writer``)."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with open(settings.home / ".writer.lock", "w") as f:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another xxgk run holds {settings.home / '.writer.lock'}") from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def warehouse(settings: Settings):
    import duckdb

    from warehouse.db import connect, init_schema

    settings.home.mkdir(parents=True, exist_ok=True)
    try:
        con = connect(settings.warehouse_path, memory_limit=settings.warehouse_memory)
    except duckdb.Error as e:
        if "lock" in str(e).lower():
            raise
        raise RuntimeError(f"cannot open {settings.warehouse_path} ({e}); if it is damaged, move it aside and run "
                           "`xxgk rebuild`: every year is loaded again from the raw store") from e
    try:
        init_schema(con)
        yield con
    finally:
        con.close()


LOAD_CHUNK = 500  # documents per load transaction: bounded memory, few transactions


def load_batch(con, outcomes: list[ReportOutcome], parsed: dict[str, dict], settings: Settings,
               progress: Progress = _quiet) -> list[str]:
    """Load the parsed documents, a chunk at a time; returns their report ids (also set on the outcomes).

    Each chunk is one transaction. A run stopped half-way leaves whole chunks loaded; the
    next run finds them unchanged and loads the rest (and no run record is left, so it
    validates and publishes everything).
    """
    from warehouse.load import load_documents

    ids: list[str] = []
    for start in range(0, len(outcomes), LOAD_CHUNK):
        docs = documents(outcomes[start : start + LOAD_CHUNK], parsed, settings)
        if docs:
            load_documents(con, [d for _o, d in docs])
        for o, d in docs:
            o.report_id = d.report_id
            ids.append(d.report_id)
        if len(outcomes) > LOAD_CHUNK:
            progress(f"loaded {min(start + LOAD_CHUNK, len(outcomes))}/{len(outcomes)}")
    return ids


VALIDATE_CHUNK = 2500  # reports validated at once: the frames of 10,000 took a gigabyte


def validation_chunks(con, report_ids: list[str], size: int = VALIDATE_CHUNK) -> list[list[str]]:
    """The run's reports in groups of about ``size``, a parent body always with the bodies
    that name it as their parent (the hierarchy checks add the children up)."""
    import pyarrow as pa

    ids = list(dict.fromkeys(report_ids))
    con.register("arg_chunk_ids", pa.table({"report_id": pa.array(ids, pa.string())}))
    try:
        rows = con.execute("SELECT d.report_id, d.agency, d.parent FROM stg_document d "
                           "JOIN arg_chunk_ids a USING (report_id)").fetchall()
    finally:
        con.unregister("arg_chunk_ids")
    root: dict[str, str] = {}  # union-find over agency names

    def find(a: str) -> str:
        while root.setdefault(a, a) != a:
            root[a] = root[root[a]]
            a = root[a]
        return a

    agencies = {agency for _rid, agency, _parent in rows}
    for _rid, agency, parent in rows:
        if parent and parent in agencies:
            root[find(agency)] = find(parent)
    groups: dict[str, list[str]] = {}
    for rid, agency, _parent in rows:
        groups.setdefault(find(agency), []).append(rid)
    chunks: list[list[str]] = [[]]
    for members in groups.values():
        if chunks[-1] and len(chunks[-1]) + len(members) > size:
            chunks.append([])
        chunks[-1].extend(members)
    return [c for c in chunks if c]


def validate_batch(con, report_ids: list[str], settings: Settings, year: int | None = None,
                   progress: Progress = _quiet):
    """GX validation of the staged reports, stored as checks; returns (checks_df, decision, reports_df).

    Validated ``VALIDATE_CHUNK`` reports at a time (the checks of a report depend only on
    it, its children and its previous year, which go into the same chunk). The current
    reports of the previous year are passed along as context for the cross-year checks
    (X1, X2); they are not validated again.
    """
    import pandas as pd

    from expectations.gate import decide
    from expectations.validate import validate
    from warehouse.checks import store_checks
    from warehouse.load import staging_frames

    checks_parts, report_parts, failures = [], [], {}
    chunks = validation_chunks(con, report_ids)
    done = 0
    for ids in chunks:
        frames = staging_frames(con, report_ids=ids)
        prev = None
        if year is not None:
            prev_ids = previous_year_ids(con, ids, int(year))
            if prev_ids:
                prev = staging_frames(con, report_ids=prev_ids)
        part = validate(frames, prev_frames=prev)
        store_checks(con, part)
        checks_parts.append(_compact(part))
        report_parts.append(frames.reports)
        failures.update(parse_failures(frames))
        del frames, prev, part
        done += len(ids)
        if len(chunks) > 1:
            progress(f"validated {done}/{len(report_ids)}")
    checks_df = pd.concat(checks_parts, ignore_index=True) if checks_parts else None
    reports_df = pd.concat(report_parts, ignore_index=True) if report_parts else None
    if checks_df is None:
        checks_df = validate(staging_frames(con, report_ids=[]))
    decision = decide(checks_df, report_ids, max_fail_share=settings.max_fail_share)
    record_gate(con, report_ids, decision, failures)
    return checks_df, decision, reports_df


def previous_year_ids(con, report_ids: list[str], year: int) -> list[str]:
    """The current reports of ``year - 1`` by the agencies of ``report_ids``."""
    import pyarrow as pa

    con.register("arg_prev_ids", pa.table({"report_id": pa.array(report_ids, pa.string())}))
    try:
        return [r for (r,) in con.execute(
            "SELECT p.report_id FROM stg_document p WHERE p.is_current AND p.year = $y AND p.agency_id IN "
            "(SELECT d.agency_id FROM stg_document d JOIN arg_prev_ids a USING (report_id))",
            {"y": year - 1}).fetchall()]
    finally:
        con.unregister("arg_prev_ids")


def _compact(checks):
    """The check rows kept in memory for the gate and the Data Docs: a passing check's detail
    (300 characters, 190 MB over 10,000 reports) is dropped here; the warehouse keeps it."""
    return checks.assign(detail=checks["detail"].where(checks["status"] != "pass"))


def parse_failures(frames) -> dict[str, list[str]]:
    """report_id → the parser's error, for the stubs of documents that could not be parsed."""
    f = frames.findings
    if f is None or len(f) == 0:
        return {}
    # The parser's own reason when a document could not be read at all (a crash, a zip bomb,
    # an encrypted PDF): more precise than the H7 "table missing" that follows from it.
    failed = f[(f["code"] == "parse_failed") | ((f["where"] == "document") & (f["severity"] == "error"))]
    out: dict[str, list[str]] = {}
    for rid, code, msg in zip(failed["report_id"], failed["code"], failed["message"], strict=True):
        out.setdefault(rid, []).append(f"parse failed: {msg}" if code == "parse_failed" else f"unreadable: {msg}")
    return out


def record_gate(con, report_ids: list[str], decision: Any, extra: dict[str, list[str]] | None = None) -> None:
    """The gate's verdict per report, with reasons, in the warehouse (mart_quality shows it)."""
    from warehouse.checks import set_status

    reasons = quarantine_reasons(decision)
    for rid, why in (extra or {}).items():
        reasons[rid] = why + reasons.get(rid, [])
    statuses = {rid: ("quarantined" if rid in reasons else "passed") for rid in report_ids}
    set_status(con, statuses, reasons)


def quarantine_reasons(decision: Any) -> dict[str, list[str]]:
    """report_id → reasons, from a GateDecision (dict or list of (id, reason) forms)."""
    q = getattr(decision, "quarantined", None) or {}
    out: dict[str, list[str]] = {}
    items = q.items() if isinstance(q, dict) else ((getattr(x, "report_id", x), getattr(x, "reasons", [])) for x in q)
    for rid, reasons in items:
        if isinstance(reasons, str):
            reasons = [reasons]
        out[str(rid)] = [str(r) for r in (reasons or ["quarantined by the gate"])]
    return out


def apply_gate(outcomes: list[ReportOutcome], decision: Any) -> dict[str, list[str]]:
    reasons = quarantine_reasons(decision)
    for o in outcomes:
        if o.report_id is None or o.outcome in (FETCH_FAILED, PARSE_FAILED):
            continue
        if o.report_id in reasons:
            o.outcome = QUARANTINED
            o.reasons.extend("gate: " + r for r in reasons[o.report_id])
        else:
            o.outcome = PASSED
    return reasons


def gate_allows_publish(decision: Any) -> tuple[bool, str]:
    allowed = getattr(decision, "publish", None)
    if allowed is None:
        allowed = getattr(decision, "should_publish", True)
    return bool(allowed), str(getattr(decision, "reason", "") or "")


def publish_batch(con, settings: Settings, quarantined: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """Publish the marts; returns report_id → (status, reasons) as published.

    The warehouse may hold back more than the gate named (a failed error-severity check),
    so the outcomes are read back from what was actually published.
    """
    from warehouse.publish import publish

    summary = publish(con, settings.home, set(quarantined))
    build_report_site(settings)
    return {rid: (status, why or "") for rid, (status, why) in summary.statuses.items()}


def build_report_site(settings: Settings) -> None:
    """The report site ($XXGK_HOME/site/) from the new marts. The publish stands when it fails:
    the site is a view of the marts, and `xxgk site` rebuilds it."""
    import logging

    from reportsite.build import build_site

    try:
        build_site(settings.home, settings.raw_dir)
    except Exception as e:  # noqa: BLE001 - never fail a publish that is already done
        logging.getLogger("xxgk").warning("the report site was not rebuilt: %s: %s", type(e).__name__, e)


def build_data_docs(settings: Settings, checks_df: Any, year: int, decision: Any = None,
                    reports: Any = None) -> str | None:
    """Data Docs of this run's validation under ``$XXGK_HOME/data_docs/<year>/``; the index path."""
    from expectations.datadocs import build_docs

    if checks_df is None or len(checks_df) == 0:
        return None
    index = build_docs(checks_df, settings.home / "data_docs" / str(year), reports=reports, gate=decision,
                       run_label=str(year))
    return str(Path(index).resolve())


def note_kept_versions(con, outcomes: list[ReportOutcome], published: dict[str, tuple[str, str]]) -> None:
    """A report that failed to fetch this time (a captcha page, a dead host) whose earlier version
    is current and published: say so, and count it as kept (``report_id`` is that version's)."""
    from warehouse.load import agency_id

    failed = {(agency_id(o.agency), int(o.year)): o for o in outcomes if o.outcome == FETCH_FAILED}
    if not failed:
        return
    years = sorted({y for _a, y in failed})
    rows = con.execute("SELECT agency_id, year, report_id, fetched_at FROM stg_document "
                       "WHERE is_current AND list_contains($years, year)", {"years": years}).fetchall()
    for aid, year, rid, fetched_at in rows:
        o = failed.get((aid, int(year)))
        if o is not None and (published.get(rid) or ("",))[0] == "published":
            o.report_id = rid
            o.reasons.append(f"kept: the version published before (report {rid}, first fetched {fetched_at}) "
                             "stays in the marts")


def mark_published(outcomes: list[ReportOutcome], published: dict[str, tuple[str, str]] | None = None) -> None:
    for o in outcomes:
        if o.outcome not in (PASSED, QUARANTINED) or o.report_id is None:
            continue
        # Only what the publish says it holds counts as published: a report it does not list is
        # not in the marts (another version or URL of the agency's report is current).
        status, why = (published or {}).get(o.report_id, (NOT_CURRENT, ""))
        if status == NOT_CURRENT:
            o.outcome = NOT_CURRENT
            o.reasons.append("warehouse: another version of this agency's report for the year is current")
        elif status == "published":
            o.outcome = PUBLISHED
        elif o.outcome == PASSED:
            o.outcome = QUARANTINED
            o.reasons.append("warehouse: " + (why or "held back at publish"))


# ---------------------------------------------------------------- one year


def discover_step(year: int, settings: Settings, progress: Progress = _quiet) -> Settings:
    """With listings configured, find the year's reports on them and merge them into the
    registry before fetching; returns the settings to run with (their registry)."""
    if not settings.listings or settings.offline:
        return settings
    from sources.discover import discover_into_registry

    registry = Path(settings.sources) if settings.sources else settings.home / "registry.csv"
    with make_fetcher(settings) as fetcher:
        found = discover_into_registry(settings.listings, registry, [year], fetcher)
    progress(f"{year}: discovery: {found.as_dict()}")
    return settings.with_overrides(sources=str(registry))


def run_fingerprint(year: int, settings: Settings, outcomes: list[ReportOutcome]) -> str:
    from flows import runrecord

    return runrecord.fingerprint(year, outcomes, parser_version(), settings.max_fail_share)


def try_unchanged(year: int, settings: Settings, outcomes: list[ReportOutcome], fingerprint: str,
                  loopback: bool = False, progress: Progress = _quiet) -> dict | None:
    """When nothing changed since the year's last complete run (flows/runrecord.py), take the
    outcomes from its record and return it; else None, and every step runs."""
    from flows import runrecord

    if settings.full_run or not outcomes:
        return None
    rec = runrecord.read_matching(settings.home, year, fingerprint, len(outcomes), settings.warehouse_path)
    if rec is None:
        return None
    if rec["attachments"]:
        store = raw_store(settings)
        with make_fetcher(settings, loopback=loopback) as fetcher:
            for a in rec["attachments"]:
                got = fetch_attachment(fetcher, store, outcomes[a["index"]], a["url"], picture=bool(a.get("picture")))
                if (got.sha256 if got is not None and got.ok else None) != a["sha256"]:
                    progress(f"attachment {a['url']} changed")
                    return None
    reports = rec["reports"]
    failed = [i for i, r in enumerate(reports) if r["parse"] == "failed" and outcomes[i].outcome != FETCH_FAILED]
    if failed:  # retried: the failure may have been a time or memory limit
        items = [{"sha256": reports[i]["sha256"], "agency": outcomes[i].agency, "year": outcomes[i].year,
                  "content_type": reports[i]["content_type"]} for i in failed]
        if any(r.get("ok") for r in parse_batch(items, settings).values()):
            progress(f"{year}: a document that failed to parse now parses")
            return None
    for o, r in zip(outcomes, reports, strict=True):
        if o.outcome == FETCH_FAILED:
            # The same failure as recorded (the fingerprint says so), with today's details; the
            # version kept from before (note_kept_versions) is still the one published.
            if r.get("report_id"):
                o.report_id = r["report_id"]
                o.reasons += [x for x in r["reasons"] if x.startswith("kept: ")]
            continue
        o.parse = "cached" if r["parse"] in ("parsed", "cached") else r["parse"]
        o.report_id, o.outcome, o.reasons = r["report_id"], r["outcome"], list(r["reasons"])
        o.content_sha256, o.content_type = r["sha256"], r["content_type"]
    return rec


def apply_record(summary: RunSummary, rec: dict) -> None:
    summary.published, summary.gate_reason = rec["published"], rec["gate_reason"]
    summary.marts_path, summary.data_docs_path = rec["marts_path"], rec["data_docs_path"]
    summary.unchanged_since = rec["written_at"]


def record_run(settings: Settings, summary: RunSummary, attachments: list[dict]) -> None:
    """After the last write of a complete run (inside the writer lock, warehouse closed)."""
    from flows import runrecord

    if summary.fingerprint:
        runrecord.write(settings.home, summary.year, summary.fingerprint, summary, attachments,
                        settings.warehouse_path)


def forget_run(settings: Settings, year: int) -> None:
    from flows import runrecord

    runrecord.forget(settings.home, year)


def stored_years(settings: Settings) -> set[int]:
    """Years of which the raw store holds a body."""
    years = set()
    for row in raw_store(settings).rows():
        if row.get("sha256") and row.get("status") in ("fetched", "not_modified") and row.get("year") is not None:
            years.add(int(row["year"]))
    return years


def rebuild_years(settings: Settings, years: list[int] | None = None, progress: Progress = _quiet) -> list[RunSummary]:
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


def rebuild_if_missing(year: int, settings: Settings, progress: Progress = _quiet) -> list[RunSummary]:
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


def run_year(year: int, settings: Settings, progress: Progress = _quiet) -> RunSummary:
    """The whole pipeline for one year, without Prefect."""
    rebuild_if_missing(year, settings, progress)
    t0 = time.monotonic()
    summary = RunSummary(year=year)
    settings = discover_step(year, settings, progress)
    say = lambda m: progress(f"{year}: {m}")  # noqa: E731
    with samples_served(settings) as base:
        sources = load_sources(settings, year, samples_base=base)
        progress(f"{year}: fetching {len(sources)} report(s)")
        outcomes = fetch_batch(sources, settings, loopback=base is not None, progress=say)
        summary.notes += verify_bodies(outcomes, settings, loopback=base is not None, progress=say)
        summary.reports = outcomes
        summary.fingerprint = run_fingerprint(year, settings, outcomes)
        rec = try_unchanged(year, settings, outcomes, summary.fingerprint, loopback=base is not None, progress=say)
    if rec is not None:
        apply_record(summary, rec)
        say(f"nothing changed since the run of {rec['written_at']}: its outcomes stand "
            "(parse, load, validation and publish skipped; --full runs them)")
        summary.seconds = time.monotonic() - t0
        return summary
    items = parse_items(outcomes)
    progress(f"{year}: parsing {len(items)} document(s)")
    parsed = parse_batch(items, settings, progress=say)
    with samples_served(settings) as base:
        followed = follow_attachments(outcomes, parsed, settings, loopback=base is not None, progress=say)
    apply_parsed(outcomes, parsed)
    for note in choose_one_url(outcomes, parsed):
        summary.notes.append(note)
        say(note)
    with writer_lock(settings):
        forget_run(settings, year)
        with warehouse(settings) as con:
            progress(f"{year}: loading")
            report_ids = load_batch(con, outcomes, parsed, settings, progress=say)
            del parsed
            if report_ids:
                progress(f"{year}: validating")
                checks_df, decision, reports_df = validate_batch(con, report_ids, settings, year, progress=say)
                quarantined = apply_gate(outcomes, decision)
                allowed, summary.gate_reason = gate_allows_publish(decision)
                if allowed:
                    progress(f"{year}: publishing")
                    statuses = publish_batch(con, settings, quarantined)
                    mark_published(outcomes, statuses)
                    note_kept_versions(con, outcomes, statuses)
                    summary.published = True
                    summary.marts_path = str(settings.marts_path)
                progress(f"{year}: writing the Data Docs")
                summary.data_docs_path = build_data_docs(settings, checks_df, year, decision, reports_df)
            else:
                summary.gate_reason = "no report was parsed: nothing to publish"
        record_run(settings, summary, followed)
    summary.seconds = time.monotonic() - t0
    return summary
