"""Data Docs: a static HTML site of a validation run (no server needed).

``build_docs`` writes ``index.html`` (one line per check id: statement, severity, counts
by status; the gate's decision), ``checks/<id>.html`` (the failing and skipped reports
with the cells and values, which GX's pages do not show) and ``quarantine.html``. When
the GX results of the run are passed (``validate(..., gx_results=[])``), GX's own Data
Docs (suites and validation results, with a sample of the unexpected report ids) are
built under ``gx/`` and linked from the index.
"""

from __future__ import annotations

import datetime as dt
import html
import os
from pathlib import Path

import pandas as pd

from sources.files import atomic_write
from transforms import formatspec as fs
from warehouse.statuses import CHECK_STATUSES, FAIL, PASS, SKIPPED

STATUSES = CHECK_STATUSES
MAX_ROWS = 5000  # per check page; the full list is in fact_check

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;
vertical-align:top}th{background:#f3f3f3}.fail{color:#b00020;font-weight:bold}.warn{color:#a15c00}
.ok{color:#1b5e20}code{font-size:90%}
"""


def _statement(check_id: str) -> str:
    if check_id in fs.INVARIANTS_BY_ID:
        return fs.INVARIANTS_BY_ID[check_id].statement
    return fs.OTHER_CHECKS.get(check_id, ("", ""))[1]


def _severity(check_id: str, rows: pd.DataFrame) -> str:
    if check_id in fs.INVARIANTS_BY_ID:
        return fs.INVARIANTS_BY_ID[check_id].severity
    if check_id in fs.OTHER_CHECKS:
        return fs.OTHER_CHECKS[check_id][0]
    return str(rows["severity"].iloc[0]) if len(rows) else ""


def _page(title: str, body: str) -> str:
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")


def _write(path: Path, text: str) -> None:
    atomic_write(path, text, fsync=False)  # a page is rebuilt by the next run: no need to wait for the disk


def _num(v) -> str:
    if v is None or v != v:
        return ""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _label(reports: pd.DataFrame | None) -> dict[str, str]:
    if reports is None or reports.empty:
        return {}
    return {rid: f"{agency} {year}" for rid, agency, year in
            zip(reports["report_id"], reports["agency"], reports["year"], strict=True)}


def build_gx_docs(gx_results: list, directory: str | os.PathLike, run_name: str = "run") -> Path:
    """GX Data Docs for ``(suite name, ExpectationSuiteValidationResult)`` pairs; returns index.html."""
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from expectations import validate as vx

    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    site = "xxgk"
    with vx._LOCK:
        ctx = vx._runtime().context
        store = ctx.validation_results_store
        run_id = RunIdentifier(run_name=run_name)
        keys = []
        for family, result in gx_results:
            key = ValidationResultIdentifier(ExpectationSuiteIdentifier(name=family), run_id, family)
            store.set(key, result)
            keys.append(key)
        if site in (ctx.get_config().data_docs_sites or {}):
            ctx.delete_data_docs_site(site)
        ctx.add_data_docs_site(site, {
            "class_name": "SiteBuilder",
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(root)},
        })
        try:
            ctx.build_data_docs(site_names=[site])
        finally:
            for key in keys:  # the in-memory store must not grow run after run
                store.remove_key(key)
    return root / "index.html"


def build_docs(checks: pd.DataFrame, directory: str | os.PathLike, *, reports: pd.DataFrame | None = None,
               gate=None, run_label: str | None = None, gx_results: list | None = None,
               passed: dict[str, int] | None = None, n_reports: int | None = None) -> Path:
    """Write the site under ``directory`` (created if needed); return the path of index.html.

    ``passed`` (optional): check id -> passes that ``checks`` leaves out (counted, not listed: a run
    of 100,000 reports would otherwise hold millions of passing rows), with ``n_reports``, the
    number of reports validated.

    ``checks`` has the columns of ``expectations.validate.COLUMNS``; ``reports`` (optional)
    names the reports by agency and year; ``gate`` (optional) is a ``GateDecision``;
    ``gx_results`` (optional, from ``validate(..., gx_results=[])``) adds GX's Data Docs
    under ``gx/``.
    """
    root = Path(directory)
    (root / "checks").mkdir(parents=True, exist_ok=True)
    gx_link = ""
    if gx_results:
        build_gx_docs(gx_results, root / "gx", run_label or "run")
        gx_link = " <a href=\"gx/index.html\">GX Data Docs (suites and validation results)</a>."
    labels = _label(reports)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    passed = passed or {}
    if n_reports is None:
        n_reports = checks["report_id"].nunique()
    head = [f"<h1>xxgk validation{': ' + html.escape(run_label) if run_label else ''}</h1>",
            f"<p>{n_reports} reports, {len(checks) + sum(passed.values())} check results, built {when}. "
            "Statuses: pass, fail, skipped_blank (a cell was blank or unreadable), skipped_missing "
            f"(a table or cell is not in the report). See docs/CHECKS.md for the rules.{gx_link}</p>"]
    if gate is not None:
        cls = "ok" if gate.publish else "fail"
        head.append(f"<p class=\"{cls}\">Gate: {'publish' if gate.publish else 'NOT published'}: "
                    f"{html.escape(gate.reason)}. <a href=\"quarantine.html\">{len(gate.quarantined)} "
                    "quarantined reports</a></p>")
    rows = ["<table><tr><th>check</th><th>severity</th><th>statement</th>"
            + "".join(f"<th>{s}</th>" for s in STATUSES) + "</tr>"]
    order = {cid: i for i, cid in enumerate([*fs.INVARIANTS_BY_ID, *fs.OTHER_CHECKS])}
    for cid in sorted({*checks["check_id"].unique(), *passed}, key=lambda c: (order.get(c, 99), c)):
        sub = checks[checks["check_id"] == cid]
        counts = sub["status"].value_counts()
        if cid in passed:
            counts = counts.add(pd.Series({PASS: passed[cid]}), fill_value=0)
        sev = _severity(cid, sub)
        cells = "".join(
            f"<td class=\"{('fail' if sev == fs.ERROR else 'warn') if s == FAIL and counts.get(s) else ''}\">"
            f"{int(counts.get(s, 0))}</td>" for s in STATUSES)
        rows.append(f"<tr><td><a href=\"checks/{html.escape(cid)}.html\">{html.escape(cid)}</a></td>"
                    f"<td>{sev}</td><td>{html.escape(_statement(cid))}</td>{cells}</tr>")
        _write(root / "checks" / f"{cid}.html", _check_page(cid, sev, sub, labels))
    rows.append("</table>")
    _write(root / "index.html", _page("xxgk validation", "\n".join(head + rows)))
    if gate is not None:
        items = "".join(
            f"<tr><td>{html.escape(rid)}</td><td>{html.escape(labels.get(rid, ''))}</td>"
            f"<td>{'<br>'.join(html.escape(r) for r in reasons)}</td></tr>"
            for rid, reasons in sorted(gate.quarantined.items()))
        _write(root / "quarantine.html", _page("quarantined reports", (
            "<p><a href=\"index.html\">back</a></p><h1>Quarantined reports</h1>"
            f"<p>{html.escape(gate.reason)}</p><table><tr><th>report</th><th>agency, year</th><th>reasons</th></tr>"
            f"{items}</table>")))
    return root / "index.html"


def _check_page(cid: str, sev: str, sub: pd.DataFrame, labels: dict[str, str]) -> str:
    parts = ["<p><a href=\"../index.html\">back</a></p>",
             f"<h1>{html.escape(cid)} ({sev})</h1><p>{html.escape(_statement(cid))}</p>"]
    for status in (FAIL, *SKIPPED):
        rows = sub[sub["status"] == status]
        parts.append(f"<h2>{status}: {len(rows)}</h2>")
        if rows.empty:
            continue
        shown = rows.head(MAX_ROWS)
        body = "".join(
            f"<tr><td>{html.escape(str(r.report_id))}</td><td>{html.escape(labels.get(r.report_id, ''))}</td>"
            f"<td>{html.escape(str(r.scope))}</td><td>{_num(r.expected)}</td><td>{_num(r.actual)}</td>"
            f"<td><code>{html.escape(str(r.detail))}</code></td></tr>"
            for r in shown.itertuples(index=False))
        more = f"<p>... and {len(rows) - MAX_ROWS} more (see fact_check)</p>" if len(rows) > MAX_ROWS else ""
        parts.append("<table><tr><th>report</th><th>agency, year</th><th>scope</th><th>expected</th>"
                     f"<th>actual</th><th>detail</th></tr>{body}</table>{more}")
    return _page(f"{cid} checks", "\n".join(parts))
