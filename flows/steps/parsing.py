"""Parse a batch of fetched documents; the parsed cache under $XXGK_HOME/parsed/."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from flows.outcomes import FETCH_FAILED, PARSE_FAILED, Progress, ReportOutcome, quiet
from flows.settings import Settings
from flows.steps.fetching import body_store, make_fetcher, raw_store
from sources.files import atomic_write, write_new
from sources.rawstore import redact_url


def parser_version() -> str:
    # Not from transforms.parse: a run with nothing new never imports the parser.
    from transforms.version import PARSER_VERSION

    return str(PARSER_VERSION)


def parse_cache_key(sha256: str, agency: str | None, year: int | None, version: str) -> str:
    """Content hash + registry metadata (it takes precedence in the parser) + parser version."""
    return hashlib.sha256(f"{sha256}|{agency or ''}|{year or ''}|{version}".encode()).hexdigest()


def picture_suffix(pictures: dict[str, str | None] | None) -> str:
    """The part of a page's key that its pictures make ({src: sha256} of those it was read
    from): a page read again from changed pictures is a new reading, in cache and warehouse."""
    if not pictures:
        return ""
    return "+pictures:" + hashlib.sha256(json.dumps(pictures, sort_keys=True).encode()).hexdigest()[:16]


def cache_path(settings: Settings, key: str) -> Path:
    return Path(cache_file(str(settings.parsed_dir), key))


def cache_file(parsed_dir: str, key: str) -> str:
    """``cache_path`` as a string, from the folder's (no Path built per report)."""
    return f"{parsed_dir}/{key[:2]}/{key}.json"


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
    if res.kind == "html" and not pictures and tables_present(res.report) < len(TABLES):
        from transforms.decode import decode
        from transforms.pdfimages import html_image_srcs

        images = html_image_srcs(decode(data, content_type).text)
    return {"report": res.report, "narrative": narrative,
            "attachments": [[href, text] for href, text in (getattr(res, "attachments", None) or [])],
            "images": images}


TABLES = ("active_disclosure", "applications", "review_litigation")


def tables_present(report: dict) -> int:
    return sum(report.get(t) is not None for t in TABLES)


def has_open_runs(report: dict) -> bool:
    """Cells left null because digits ran together (what evidence can decide, flows/steps/evidence.py)."""
    return any(f.get("code") == "cell_ambiguous" and ("ran together" in (f.get("message") or "")
                                                     or "runs of digits" in (f.get("message") or ""))
               for f in report.get("findings") or [])


def slim(result: dict[str, Any]) -> dict[str, Any]:
    """What the pipeline keeps in memory of a parse result; the report stays in the parsed cache."""
    if not result.get("ok"):
        return {"ok": False, "error": result.get("error"), "cached": bool(result.get("cached"))}
    return {"ok": True, "cached": bool(result.get("cached")), "tables": tables_present(result["report"]),
            "attachments": result.get("attachments") or [], "images": result.get("images") or [],
            "pictures": result.get("pictures") or {}, "open_runs": has_open_runs(result["report"])}


def parse_batch(items: list[dict[str, Any]], settings: Settings, progress: Progress = quiet) -> dict[str, dict]:
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
    store = body_store(settings)
    out: dict[str, dict] = {}
    todo: list[tuple[str, dict[str, Any]]] = []
    early = early_results(settings)
    for it in items:
        key = parse_cache_key(it["sha256"], it.get("agency"), it.get("year"), version)
        if key in early:  # parsed by this run while it fetched (EarlyParse)
            out[key] = early[key]
            continue
        if (hit := _read_cache(settings, key)) is not None:
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
            out[key] = result  # slim: the worker wrote the parsed cache (write_cache)
        finished += 1
        if finished % 50 == 0 or finished == len(items):
            progress(f"parsed {finished}/{len(items)}")

    if settings.parse_timeout == 0 or len(todo) == 0:
        for i, (key, it) in enumerate(todo):
            try:
                result = parse_one(store.get(it["sha256"]), it.get("agency"), it.get("year"), it.get("content_type"))
            except Exception as e:  # noqa: BLE001 - any parser failure quarantines this report only
                done(i, None, f"{type(e).__name__}: {e}".strip())
            else:
                done(i, write_cache(cache_path(settings, key), result), None)
    else:
        from flows.parsepool import default_workers, shared_pool

        pool = shared_pool(settings.parse_workers or default_workers(), settings.parse_timeout)
        jobs = [(str(store.path_of(it["sha256"])), it.get("agency"), it.get("year"), it.get("content_type"),
                 str(cache_path(settings, key))) for key, it in todo]
        pool.run(parse_stored, jobs, done, then=write_cache)
    if items and finished == len(out) and not todo:
        n = sum(key in early for key in out)  # parsed by this run while it fetched; the others: the cache
        progress(f"parsed {len(items)}/{len(items)} ({n} while fetching, {len(items) - n} from the cache)")
    return out


class EarlyParse:
    """Parse the bodies a run fetches while it goes on fetching: each new body goes to the parse
    pool as it arrives (``offer``), and the parse step takes the results (``early_results``)
    instead of starting the pool only when the last body is in. The results are those of
    ``parse_batch``: written to the parsed cache, slim in memory."""

    def __init__(self, settings: Settings) -> None:
        import queue
        import threading

        from flows.parsepool import default_workers, shared_pool

        self.settings = settings
        self.version = parser_version()
        self.store = body_store(settings)
        self.results: dict[str, dict] = {}
        self._parsed_dir = str(settings.parsed_dir)
        self._keys: list[str] = []
        self._offered: set[str] = set()
        self._jobs: queue.Queue = queue.Queue()
        pool = shared_pool(settings.parse_workers or default_workers(), settings.parse_timeout)
        self._thread = threading.Thread(target=pool.run, args=(parse_stored, self._jobs, self._done, write_cache),
                                        name="xxgk-early-parse", daemon=True)
        self._thread.start()

    def offer(self, sha256: str | None, agency: str | None, year: int | None, content_type: str | None) -> None:
        """A body just fetched (new to the raw store): parse it now unless the cache holds it."""
        if not sha256:
            return
        key = parse_cache_key(sha256, agency, year, self.version)
        target = cache_file(self._parsed_dir, key)
        if key in self._offered or os.path.isfile(target):
            return
        self._offered.add(key)
        self._keys.append(key)
        self._jobs.put((self.store.file_of(sha256), agency, year, content_type, target))

    def _done(self, i: int, result: dict | None, error: str | None) -> None:
        key = self._keys[i]
        if error is not None:
            if "DamagedObject" not in error:  # a damaged body is repaired (verify_bodies) and parsed then
                self.results[key] = {"ok": False, "error": error[:500], "cached": False}
            return
        self.results[key] = result  # slim: the worker wrote the parsed cache (write_cache)

    def finish(self) -> dict[str, dict]:
        self._jobs.put(None)
        self._thread.join()
        return self.results


_EARLY: dict[Path, EarlyParse | dict[str, dict]] = {}


def start_early_parse(settings: Settings) -> EarlyParse | None:
    """An EarlyParse for this run's fetch, when documents are parsed in this process's pool (not
    on Dask, not in-process): the parse step of the same process takes its results."""
    if settings.parse_timeout == 0 or settings.task_runner == "dask":
        return None
    early = EarlyParse(settings)
    _EARLY[Path(settings.parsed_dir).resolve()] = early
    return early


def early_results(settings: Settings) -> dict[str, dict]:
    """The results of this run's EarlyParse (waiting for it to end), or {}."""
    root = Path(settings.parsed_dir).resolve()
    early = _EARLY.get(root)
    if isinstance(early, EarlyParse):
        _EARLY[root] = early = early.finish()
    return early or {}


def drop_early_results(settings: Settings) -> None:
    """After the parse step (or a run that stops before it): nothing of the run stays in memory."""
    early = _EARLY.pop(Path(settings.parsed_dir).resolve(), None)
    if isinstance(early, EarlyParse):
        early.finish()


def parse_stored(path: str, agency: str | None, year: int | None, content_type: str | None,
                 cache_file: str) -> tuple[str, dict[str, Any]]:
    """(``cache_file``, ``parse_one`` of a raw-store file), in a parse worker (it reads the file, not a
    pipe); the pool then writes it to the parsed cache there too (``write_cache``, ParsePool.run's ``then``)."""
    from sources.rawstore import DamagedObject, sha256_hex

    with open(path, "rb") as f:
        data = f.read()
    name = os.path.basename(path)
    if sha256_hex(data) != name:  # a damaged body is never parsed (and so never published)
        raise DamagedObject(f"raw object {name} is damaged")
    return cache_file, parse_one(data, agency, year, content_type)


def write_cache(path: str | Path, result: dict[str, Any]) -> dict[str, Any]:
    """Write a parse result to the parsed cache, with the staging rows of its report (warehouse/rows.py)
    in the same file after its JSON (``entry_parts``), so that the load only appends them; returns the
    slim result. One file, written in place (``write_new``: a write cut short is a damaged entry, never
    a whole one, ``entry_parts``): the rows are those of the entry they sit with, and an entry rewritten
    as plain JSON (e.g. by an OCR reading) has none. The rows are built from the entry as its JSON reads,
    which is what the load reads (the result itself when its JSON reads back the same, ``json_plain``).
    A report whose rows cannot be built (a cell that is not a number) gets none: the load builds them
    itself and stops on it with its reason, as before."""
    from warehouse.rows import content_rows, json_plain, payload, rows_bytes

    stored = payload_at = None
    if json_plain(result) and next(iter(result), None) == "report":
        # The entry's JSON holds the report as the warehouse stores it (``payload``: keys sorted), so
        # that it is dumped once and stored once; the rows say where it is.
        stored = payload(result["report"])
        rest = json.dumps({k: v for k, v in result.items() if k != "report"}, ensure_ascii=False)
        head, body = b'{"report": ', stored.encode("utf-8")
        data = b"".join((head, body, b", " + rest[1:].encode("utf-8") if len(rest) > 2 else b"}"))
        payload_at, entry = (len(head), len(head) + len(body)), result
    else:
        data = json.dumps(result, ensure_ascii=False, default=str).encode("utf-8")
        entry = json.loads(data)  # what a reader of the entry gets (json_plain: the result itself)
    try:
        rows = content_rows(entry["report"], entry.get("narrative"), stored=stored)
    except (ValueError, TypeError, AttributeError, KeyError):
        rows = None
    if rows is not None:
        data = b"".join((data, ROWS_MARK, rows_bytes(rows, payload_at)))
    write_new(path, data)
    return slim({**result, "ok": True, "cached": False})


# Between a parsed-cache entry's JSON and its staging rows. JSON text never holds a NUL byte (json.dumps
# writes a control character as an escape), so the first one ends the JSON.
ROWS_MARK = b"\0"


def entry_parts(data: bytes) -> tuple[bytes | memoryview, memoryview | None]:
    """A parsed-cache file's JSON and the staging rows stored after it (None: an entry without). A write cut
    short is no whole entry: a JSON object's proper prefix does not parse; cut rows, ``read_rows`` refuses."""
    cut = data.find(ROWS_MARK)
    if cut < 0:
        return data, None
    view = memoryview(data)
    return view[:cut], view[cut + len(ROWS_MARK):]


def stored_rows(settings: Settings, key: str):
    """The staging rows the parse wrote with the parsed-cache entry of ``key`` (warehouse.rows.Rows), or
    None (an entry without, an older or damaged one: the load builds them from the report)."""
    from warehouse.rows import read_rows

    try:
        with open(cache_file(str(settings.parsed_dir), key), "rb") as f:
            data = f.read()
    except OSError:
        return None
    entry, rows = entry_parts(data)
    return read_rows(rows, entry) if rows is not None else None


def _read_cache(settings: Settings, key: str) -> dict[str, Any] | None:
    try:
        with open(cache_file(str(settings.parsed_dir), key), "rb") as f:
            data = f.read()
    except OSError:
        return None  # none (or unreadable): parsed again
    try:
        return {**json.loads(bytes(entry_parts(data)[0])), "ok": True, "cached": True}
    except ValueError:
        return None  # a damaged cache entry is parsed again


def parse_cached(store, settings: Settings, key: str, it: dict[str, Any]) -> dict[str, Any]:
    hit = _read_cache(settings, key)
    if hit is not None:
        return hit
    try:
        data = store.get(it["sha256"])
        parsed = parse_one(data, it.get("agency"), it.get("year"), it.get("content_type"))
    except Exception as e:  # noqa: BLE001 - any parser failure quarantines this report only
        return {"ok": False, "error": f"{type(e).__name__}: {e}".strip()[:500], "cached": False}
    atomic_write(cache_path(settings, key), json.dumps(parsed, ensure_ascii=False, default=str), fsync=False)
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


def verify_bodies(outcomes: list[ReportOutcome], settings: Settings, loopback: bool = False,
                  progress: Progress = quiet) -> list[str]:
    """Check the stored bodies about to be parsed against their SHA-256 (kept from before, no parsed entry: a body
    this run downloaded was hashed as it was stored, and the parse checks it as it reads it); fetch a damaged one
    again, unconditionally. Returns one line per damaged body saying what became of it: repaired when the site
    gives the same bytes; when it gives others, those are the report now; when it gives nothing, the report
    fails with the reason (never parsed from bad bytes)."""
    notes = [r for o in outcomes for r in o.reasons if r.startswith("raw store:")]  # repaired by the fetch
    version = parser_version()
    parsed = str(settings.parsed_dir)

    def cached(o: ReportOutcome) -> bool:  # cache_path(...).is_file() without pathlib (most of this on a re-run)
        key = parse_cache_key(o.content_sha256, o.agency, o.year, version)
        return os.path.isfile(cache_file(parsed, key))

    unparsed = [o for o in outcomes if o.outcome != FETCH_FAILED and o.content_sha256 and o.fetch != "fetched"
                and not cached(o)]
    store = body_store(settings) if unparsed else None  # an unchanged re-run reads no body: nor the manifest
    damaged = [o for o in unparsed if not store.verify(o.content_sha256)]
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


