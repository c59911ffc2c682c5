"""The run record (flows/runrecord.py): unchanged re-runs; rebuilding years from raw/."""

from __future__ import annotations

from collections.abc import Callable

from flows.outcomes import FETCH_FAILED, Progress, ReportOutcome, RunSummary, quiet
from flows.settings import Settings
from flows.steps.attachments import fetch_attachment
from flows.steps.fetching import make_fetcher, raw_store
from flows.steps.parsing import parse_batch, parser_version


def run_fingerprint(year: int, settings: Settings, outcomes: list[ReportOutcome]) -> str:
    from flows import runrecord

    return runrecord.fingerprint(year, outcomes, parser_version(), settings.max_fail_share)


def try_unchanged(year: int, settings: Settings, outcomes: list[ReportOutcome], fingerprint: str,
                  loopback: bool = False, progress: Progress = quiet) -> dict | None:
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


def record_exists(settings: Settings, year: int) -> bool:
    """The year has a last complete run's record (an unchanged re-run may stop after the fetch)."""
    from flows import runrecord

    return runrecord.record_path(settings.home, year).is_file()


def record_ahead(settings: Settings, year: int, sources: list | None = None) -> Callable[[], None]:
    """What the check for an unchanged run needs besides the fetch's outcomes (the run record parsed, the
    code's fingerprint, the parser version, the registry rows' part of the run's fingerprint), as work for
    the fetch to do while its conditional requests are out (``fetch_batch(meanwhile=...)``): the run's thread
    then mostly waits on the sites. The check uses the record only if its bytes are still the same
    (flows/runrecord.py). Never fails: only a head start, the check does it again and reports."""
    from flows import runrecord

    def work() -> None:
        try:
            runrecord.read_ahead(settings.home, year)
            runrecord.code_fingerprint()
            parser_version()
            if sources:
                runrecord.prepare_fingerprint(sources)
        except Exception:  # noqa: BLE001, S110 - only a head start: the check itself does it again and reports
            pass

    return work


def forget_run(settings: Settings, year: int) -> None:
    from flows import runrecord

    runrecord.forget(settings.home, year)


