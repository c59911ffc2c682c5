"""Pages whose tables are only in a linked attachment: fetch it and parse it instead."""

from __future__ import annotations

import json
from typing import Any

from flows.outcomes import FETCH_FAILED, Progress, ReportOutcome, quiet
from flows.settings import Settings
from flows.steps.fetching import make_fetcher, raw_store
from flows.steps.parsing import (
    TABLES,
    cache_path,
    parse_cache_key,
    parse_cached,
    parse_one,
    parser_version,
    slim,
    tables_present,
)
from sources.files import atomic_write


def _best_attachment(links: list) -> str | None:
    """The attachment most likely to be the report itself: named like one, PDF or Word first."""
    def rank(link):
        href, text = link[0], link[1] if len(link) > 1 else ""
        named = "报告" in (text or "") or "年报" in (text or "")
        ext = href.lower().split("?")[0].rsplit(".", 1)[-1]
        return (not named, ext not in ("pdf", "docx", "doc"))

    return sorted(links, key=rank)[0][0] if links else None


def follow_attachments(outcomes: list[ReportOutcome], parsed: dict[str, dict], settings: Settings,
                       loopback: bool = False, progress: Progress = quiet) -> list[dict[str, Any]]:
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
        if link and res.get("tables", 0) < len(TABLES):
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
            att = slim(parse_cached(store, settings, key, item))
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
                    loopback: bool = False, progress: Progress = quiet) -> list[dict[str, Any]]:
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
        # a page whose entry was read from pictures is checked again: its pictures may have changed
        shown = list(res.get("pictures") or {}) or (res.get("images") if res.get("tables", 0) < len(TABLES) else [])
        if res.get("ok") and shown:
            srcs = [(src, urljoin(o.url, src)) for src in shown[:MAX_PICTURES]]
            todo.append((i, o, key, res, [(s, u) for s, u in srcs if urlsplit(u).scheme in ("http", "https")]))
    if not todo:
        return []
    store = raw_store(settings)
    followed: list[dict[str, Any]] = []
    fetched: dict[str, Any] = {}  # url -> outcome: a picture shown on several pages is fetched once
    jobs, owners = [], []
    with make_fetcher(settings, loopback=loopback) as fetcher:
        for i, o, key, res, srcs in todo:
            pics, shas = [], {}
            for src, url in srcs:
                if url not in fetched:
                    fetched[url] = fetch_attachment(fetcher, store, o, url, picture=True)
                got = fetched[url]
                ok = got is not None and got.ok and got.sha256
                followed.append({"index": i, "url": url, "sha256": got.sha256 if ok else None, "taken": False,
                                 "picture": True})
                shas[src] = got.sha256 if ok else None
                if ok:
                    pics.append((src, str(store.path_of(got.sha256))))
            unsure = [u for (src, u) in srcs if shas[src] is None and not _gone(fetched[u])]
            if res.get("pictures") and unsure and set(shas) == set(res["pictures"]):
                # a picture that could not be checked now (timeout, 5xx, ...) is not a changed one
                o.reasons.append(f"pictures not checked ({len(unsure)} not fetched): the cached reading is kept")
                continue
            if res.get("pictures") and shas == res["pictures"]:
                for f in followed[len(followed) - len(srcs):]:
                    f["taken"] = f["sha256"] is not None
                continue  # the same pictures as the cached reading: nothing to read again
            if res.get("pictures"):  # they changed: the page is parsed again, from its text first
                o.reasons.append("pictures changed since the cached reading")
                text_only = parse_one(store.get(o.content_sha256), o.agency, o.year, o.content_type)
                atomic_write(cache_path(settings, key), json.dumps(text_only, ensure_ascii=False, default=str),
                             fsync=False)
                parsed[key] = slim({**text_only, "ok": True})
            if pics:
                jobs.append((str(store.path_of(o.content_sha256)), o.agency, o.year, o.content_type, pics))
                owners.append((i, o, key, len(followed) - len(srcs), len(followed), shas))
    taken = 0

    def done(j: int, result: dict | None, error: str | None) -> None:
        nonlocal taken
        i, o, key, lo, hi, shas = owners[j]
        if error is not None or result is None:
            o.reasons.append(f"pictures: {error or 'not read'}")
            return
        if tables_present(result["report"]) > parsed[key].get("tables", 0):
            result = {**result, "pictures": shas}  # what the reading rests on: checked on the next run
            atomic_write(cache_path(settings, key), json.dumps(result, ensure_ascii=False, default=str), fsync=False)
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


def _gone(got) -> bool:
    """A picture fetch that says the picture is gone or not a picture (not a passing failure)."""
    error = getattr(got, "error", None) or ""
    return bool(got is not None and (error.startswith("http_4") or error == "not_a_report"))


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


