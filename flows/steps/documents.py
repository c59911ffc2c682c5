"""One URL per agency and year; parsed reports as warehouse documents."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flows.outcomes import FETCH_FAILED, NOT_CURRENT, ReportOutcome
from flows.settings import Settings
from flows.steps.fetching import body_store
from flows.steps.parsing import (
    cache_path,
    parse_cache_key,
    parse_cached,
    parser_version,
    picture_suffix,
    stored_rows,
)
from sources.rawstore import redact_url


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
    store = body_store(settings)
    docs = []
    for o in outcomes:
        if o.outcome == NOT_CURRENT:
            continue  # another URL of the same agency and year was taken (choose_one_url)
        key = parse_cache_key(o.content_sha256, o.agency, o.year, version) if o.content_sha256 else None
        evidence, rows = "", None
        if o.parse == "failed" and o.content_sha256:
            # Kept, not lost: a stub with the parser's error is loaded, fails H7 and is
            # quarantined, so mart_quality lists it with its reason.
            error = (parsed.get(key) or {}).get("error")
            res = {"report": failed_report(o.agency, o.year, error or "not parsed"), "narrative": {}}
        elif o.parse in ("parsed", "cached"):
            ekey = (parsed.get(key) or {}).get("report_key")  # parsed with last year's report (steps/evidence.py)
            if ekey and cache_path(settings, ekey).is_file():
                # the reading rests on that report too: the warehouse must see a new reading, not
                # an unchanged document (same bytes, same parser) whose stored cells stay null
                key, evidence = ekey, f"+evidence:{ekey[:12]}"
            # the staging rows the parse worker wrote beside this reading (warehouse/rows.py): the
            # report itself is then not read (the load takes its rows and head from them)
            rows = None if o.chosen_over else stored_rows(settings, key)
            item = {"sha256": o.content_sha256, "agency": o.agency, "year": o.year, "content_type": o.content_type}
            res = {"report": rows.head, "ok": True} if rows else parse_cached(store, settings, key, item)
            if not res.get("ok"):
                res = {"report": failed_report(o.agency, o.year, res.get("error") or "not parsed"), "narrative": {}}
        else:
            continue
        if o.chosen_over:  # the report gains findings here: the load builds its rows
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
            # a page read from its pictures rests on them too: new pictures, a new reading
            parser_version=version + picture_suffix(res.get("pictures")) + evidence,
            narrative=res.get("narrative") or {},
            rows=rows,
        )
        docs.append((o, doc))
    return docs


