"""Pages whose tables are only in a linked attachment: fetch it and parse it instead."""

from __future__ import annotations

from typing import Any

from flows.outcomes import FETCH_FAILED, Progress, ReportOutcome, quiet
from flows.settings import Settings
from flows.steps.fetching import make_fetcher, raw_store
from flows.steps.parsing import TABLES, parse_cache_key, parse_cached, parser_version, slim


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
        return []
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
    return followed


def fetch_attachment(fetcher, store, o: ReportOutcome, url: str):
    """Fetch an attachment of a report's page as that report's registry row would be."""
    from dataclasses import replace as dc_replace

    return fetcher.fetch_one(dc_replace(o.source, url=url), store) if o.source is not None else None


