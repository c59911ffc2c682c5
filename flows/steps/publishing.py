"""Publish the marts and the report site, the outcomes as published, the Data Docs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.outcomes import FETCH_FAILED, NOT_CURRENT, PASSED, PUBLISHED, QUARANTINED, ReportOutcome
from flows.settings import Settings


def publish_batch(con, settings: Settings, quarantined: dict[str, list[str]]) -> dict[str, tuple[str, str]]:
    """Publish the marts and the report site; returns report_id → (status, reasons) as published.

    The warehouse may hold back more than the gate named (a failed error-severity check),
    so the outcomes are read back from what was actually published.
    """
    from flows.steps.validating import release_memory
    from warehouse.publish import publish

    release_memory()  # what validation freed, before the marts are built (the run's peak is one process's)
    summary = publish(con, settings.home, set(quarantined), alongside=lambda marts: report_site(settings, marts))
    release_memory()
    return {rid: (status, why or "") for rid, (status, why) in summary.statuses.items()}


def report_site(settings: Settings, marts: Path):
    """The report site ($XXGK_HOME/site/) rendered from ``marts`` (the dimensions and marts of the
    publish under way, as it publishes them) while the publish copies the facts; returns
    ``done(published)``: the new site replaces the old one only once the publish is in place, and
    is dropped when it failed. The publish stands when the site fails: the site is a view of the
    marts, and `xxgk site` rebuilds it."""
    import logging
    import threading

    from reportsite.build import discard, render_site, swap_in

    log = logging.getLogger("xxgk")
    rendered: dict[str, Any] = {}

    def render() -> None:
        try:
            rendered["site"] = render_site(marts, settings.home, settings.raw_dir, **_site_workers(settings))
        except Exception as e:  # noqa: BLE001 - never fail a publish for its site
            rendered["error"] = e

    renderer = threading.Thread(target=render, name="xxgk-site-render", daemon=True)
    renderer.start()

    def done(published: bool) -> None:
        renderer.join()
        site, error = rendered.get("site"), rendered.get("error")
        if error is None and published:
            try:
                swap_in(settings.home, site)
            except Exception as e:  # noqa: BLE001 - the publish is already done
                error = e
        elif site is not None:
            discard(site)
        if error is not None:
            log.warning("the report site was not rebuilt: %s: %s", type(error).__name__, error)

    return done


SITE_SHARD_MIN = 1000  # agencies below which the site is written by this process alone


def _site_workers(settings: Settings) -> dict:
    """The agency pages of a large site written by the parse workers (idle while the run publishes)."""
    from flows.parsepool import default_workers, shared_pool

    workers = settings.parse_workers or default_workers()
    if settings.parse_timeout == 0 or workers < 2:
        return {}

    def run_shards(jobs: list[tuple]) -> None:
        from reportsite.build import write_agency_pages

        errors: list[str] = []
        shared_pool(workers, settings.parse_timeout).run(write_agency_pages, jobs,
                                                          lambda _i, _r, e: e is not None and errors.append(e))
        if errors:
            raise RuntimeError(f"site: {errors[0]}")

    return {"shards": workers, "run_shards": run_shards, "min_agencies": SITE_SHARD_MIN}


def build_data_docs(settings: Settings, checks: Any, year: int, decision: Any = None,
                    reports: Any = None) -> str | None:
    """Data Docs of this run's validation (a RunChecks) under ``$XXGK_HOME/data_docs/<year>/``; the index path."""
    from expectations.datadocs import build_docs

    if checks is None or len(checks) == 0:
        return None
    index = build_docs(checks.rows, settings.layout.data_docs / str(year), reports=reports, gate=decision,
                       run_label=str(year), passed=checks.passed, n_reports=checks.reports)
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
        if o is not None and (published.get(rid) or ("",))[0] == PUBLISHED:
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
        elif status == PUBLISHED:
            o.outcome = PUBLISHED
        elif o.outcome == PASSED:
            o.outcome = QUARANTINED
            o.reasons.append("warehouse: " + (why or "held back at publish"))


