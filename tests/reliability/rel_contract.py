"""What the parser promises for ANY input: the contract object of CONTRACT.md §1.

``contract_problems(report)`` lists every way ``report`` breaks that promise (an empty list
means it keeps it). The shape is read from transforms/formatspec.py, never listed here.
"""

from __future__ import annotations

import json
import math

from transforms import formatspec as fs

TOP_KEYS = ("contract", "agency", "year", "templates", "active_disclosure", "applications",
            "review_litigation", "findings")
SEVERITIES = (fs.ERROR, fs.WARNING)


def _cells(table: str, template: str | None) -> list[tuple[str, str]]:
    if table == fs.ACTIVE_DISCLOSURE:
        return [(i, m) for i, m, _ in fs.ad_cells(template)]
    if table == fs.APPLICATIONS:
        return [(r.key, c.key) for r in fs.app_rows(template) for c in fs.APPLICANT_COLUMNS]
    return [(g.key, o.key) for g in fs.RL_GROUPS for o in fs.RL_OUTCOMES]


def contract_problems(report) -> list[str]:
    if not isinstance(report, dict):
        return [f"not a dict but {type(report).__name__}"]
    try:
        json.dumps(report, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as e:
        return [f"not JSON-serialisable: {e}"]
    problems = [f"missing key {k}" for k in TOP_KEYS if k not in report]
    if problems:
        return problems
    if report["contract"] != "xxgk.report/1":
        problems.append(f"contract is {report['contract']!r}")
    if report["agency"] is not None and not isinstance(report["agency"], str):
        problems.append(f"agency is {type(report['agency']).__name__}")
    if report["year"] is not None and (not isinstance(report["year"], int) or isinstance(report["year"], bool)):
        problems.append(f"year is {report['year']!r}")
    findings = report["findings"]
    if not isinstance(findings, list):
        return [*problems, "findings is not a list"]
    for f in findings:
        if not (isinstance(f, dict) and all(isinstance(f.get(k), str) for k in ("code", "severity", "message", "where"))):
            problems.append(f"malformed finding {f!r}"[:200])
        elif f["severity"] not in SEVERITIES:
            problems.append(f"finding severity {f['severity']!r}")
    templates = report["templates"]
    if not isinstance(templates, dict):
        return [*problems, "templates is not a dict"]
    wheres = [f.get("where", "") for f in findings if isinstance(f, dict)]
    errors_at = {f.get("where") for f in findings if isinstance(f, dict) and f.get("severity") == fs.ERROR}
    for table in fs.TABLES:
        body, tpl = report[table], templates.get(table)
        if body is None:
            if tpl is not None:
                problems.append(f"{table} is null but its template is {tpl!r}")
            if table not in errors_at:
                problems.append(f"{table} is null without an error finding naming it (no reason)")
            continue
        valid = fs.TEMPLATES if table != fs.REVIEW_LITIGATION else (fs.STANDARD,)
        if tpl not in valid:
            problems.append(f"{table} template {tpl!r}")
            continue
        if not isinstance(body, dict):
            problems.append(f"{table} is {type(body).__name__}")
            continue
        for item, measure in _cells(table, tpl):
            row = body.get(item)
            if not isinstance(row, dict) or measure not in row:
                problems.append(f"cell {table}.{item}.{measure} missing")
                continue
            v = row[measure]
            if v is None:
                path = f"{table}.{item}.{measure}"
                if not any(w == table or path.startswith(w) or w.startswith(path) for w in wheres if w):
                    problems.append(f"{path} is null without a finding saying why")
            elif isinstance(v, bool) or not isinstance(v, int | float) or (isinstance(v, float) and not math.isfinite(v)):
                problems.append(f"{table}.{item}.{measure} = {v!r}")
    return problems


def outcome(report) -> str:
    """parsed (some table read) or quarantined (no table; the findings say why)."""
    return "parsed" if any(report.get(t) is not None for t in fs.TABLES) else "quarantined"
