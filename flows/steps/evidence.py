"""Runs of digits the invariants leave open, decided by the same agency's previous report (X1, X2).

A parsed report whose cells stay null because digits ran together (``cell_ambiguous``) is
parsed again with the agency's report of the year before, as the warehouse holds it now (its
current version). That parse is cached under a key that includes the previous report's content
hash, so a cached parse never depends on what the warehouse held on the day; the plain parse
stays under its own key. Reports without such cells are not parsed again.
"""

from __future__ import annotations

import json

from flows.outcomes import FETCH_FAILED, Progress, ReportOutcome, quiet
from flows.settings import Settings
from flows.steps.fetching import body_store
from flows.steps.parsing import _read_cache, cache_path, has_open_runs, parse_cache_key, parser_version, slim
from sources.files import atomic_write


def evidence_key(sha256: str, agency: str | None, year: int | None, version: str, previous_sha256: str) -> str:
    return parse_cache_key(sha256, agency, year, f"{version}|previous:{previous_sha256}")


def previous_reports(settings: Settings, wanted: set[tuple[str, int]]) -> dict[tuple[str, int], tuple[str, dict]]:
    """{(agency, year): (content sha, report)} of the current versions the warehouse holds that passed the
    gate (a quarantined report is no evidence)."""
    if not wanted or not settings.warehouse_path.exists():
        return {}
    import duckdb

    from warehouse.db import query
    from warehouse.statuses import PASSED

    out = {}
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        for agency, year in sorted(wanted):
            rows = query(con, "staging", "previous_report.sql", {"agency": agency, "year": year,
                                                                         "passed": PASSED})
            if rows and rows[0][1]:
                out[(agency, year)] = (rows[0][0], json.loads(rows[0][1]))
    finally:
        con.close()
    return out


def apply_evidence(outcomes: list[ReportOutcome], parsed: dict[str, dict], settings: Settings,
                   progress: Progress = quiet) -> int:
    """Parse again, with last year's report, the reports whose runs of digits stay open.
    The result replaces the slim entry in ``parsed`` and names its cache entry (``report_key``),
    which the load reads. Returns how many reports were parsed again."""
    version = parser_version()
    open_runs: list[tuple[ReportOutcome, str]] = []
    for o in outcomes:
        if o.outcome == FETCH_FAILED or not o.content_sha256:
            continue
        key = parse_cache_key(o.content_sha256, o.agency, o.year, version)
        res = parsed.get(key) or {}
        if not res.get("ok") or res.get("open_runs") is False:  # known from the parse: no cache read
            continue
        hit = _read_cache(settings, key)
        if hit is not None and has_open_runs(hit["report"]):
            open_runs.append((o, key))
    if not open_runs:
        return 0
    from transforms.parse import parse_document  # here: ~0.15 CPU-s of imports a run without open runs skips

    try:
        previous = previous_reports(settings, {(o.agency, int(o.year) - 1) for o, _ in open_runs})
    except Exception as e:  # noqa: BLE001 - no evidence (e.g. the warehouse is busy): the cells stay null
        progress(f"evidence: the previous reports could not be read ({type(e).__name__}: {e}); cells stay null")
        return 0
    store = body_store(settings)
    done = 0
    for o, key in open_runs:
        prev = previous.get((o.agency, int(o.year) - 1))
        if prev is None:
            continue
        prev_sha, prev_report = prev
        ekey = evidence_key(o.content_sha256, o.agency, o.year, version, prev_sha)
        hit = _read_cache(settings, ekey)
        if hit is None:
            try:
                res = parse_document(store.get(o.content_sha256), agency=o.agency, year=o.year,
                                     content_type=o.content_type, previous=prev_report)
            except Exception as e:  # noqa: BLE001 - the plain parse stands
                o.reasons.append(f"evidence: parse with the previous report failed: {type(e).__name__}: {e}")
                continue
            plain = _read_cache(settings, key) or {}
            hit = {"report": res.report, "narrative": plain.get("narrative") or {},
                   "attachments": plain.get("attachments") or []}
            atomic_write(cache_path(settings, ekey), json.dumps(hit, ensure_ascii=False, default=str), fsync=False)
            hit = {**hit, "ok": True, "cached": False}
        parsed[key] = {**slim(hit), "cached": parsed[key].get("cached", False), "report_key": ekey}
        o.reasons.append(f"evidence: parsed with the {int(o.year) - 1} report ({prev_sha[:12]})")
        done += 1
    progress(f"evidence: {done} of {len(open_runs)} report(s) with runs of digits parsed with last year's report")
    return done

