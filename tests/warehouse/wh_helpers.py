"""Contract dicts built by hand for the warehouse tests (every cell filled via formatspec.cell_paths)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime

import pandas as pd

from transforms import checks as tchecks
from transforms import formatspec as fs
from warehouse import load


def make_report(agency: str, year: int, values: dict[str, float | None] | None = None, *,
                tpl_ad: str = fs.F2021, tpl_app: str = fs.F2021, findings: list[dict] | None = None) -> dict:
    """A contract object with every cell of the templates present (0 unless given in ``values``)."""
    rep: dict = {
        "contract": "xxgk.report/1", "agency": agency, "year": year,
        "templates": {fs.ACTIVE_DISCLOSURE: tpl_ad, fs.APPLICATIONS: tpl_app, fs.REVIEW_LITIGATION: fs.STANDARD},
        fs.ACTIVE_DISCLOSURE: {}, fs.APPLICATIONS: {}, fs.REVIEW_LITIGATION: {},
        "findings": list(findings or []),
    }
    for path in fs.cell_paths(tpl_ad, tpl_app):
        table, item, measure = path.split(".")
        rep[table].setdefault(item, {})[measure] = 0
    for path, value in (values or {}).items():
        table, item, measure = path.split(".")
        assert measure in rep[table][item], f"test bug: {path} is not a cell of the template"
        rep[table][item][measure] = value
    return rep


def app(row: str, **cols: float) -> dict[str, float]:
    """Cells of one applications row: the applicant columns given and their total (H2 holds)."""
    out = {f"{fs.APPLICATIONS}.{row}.{c}": v for c, v in cols.items()}
    out[f"{fs.APPLICATIONS}.{row}.total"] = sum(cols.values())
    return out


def rl(group: str, upheld=0, corrected=0, other=0, pending=0) -> dict[str, float]:
    base = f"{fs.REVIEW_LITIGATION}.{group}"
    return {f"{base}.upheld": upheld, f"{base}.corrected": corrected, f"{base}.other": other,
            f"{base}.pending": pending, f"{base}.total": upheld + corrected + other + pending}


def make_doc(report: dict, *, agency: str | None = None, year: int | None = None, fetched_day: int = 1,
             province="贵州省", city="六盘水市", county=None, level="city", parent=None,
             parser_version="test-1", narrative=None) -> load.Document:
    agency = agency or report["agency"]
    year = year or report["year"]
    body = json.dumps(report, sort_keys=True, ensure_ascii=False).encode()
    return load.Document(
        agency=agency, year=year, source_url=f"http://127.0.0.1/{hashlib.md5(body).hexdigest()}.html",
        content_sha256=hashlib.sha256(body).hexdigest(),
        fetched_at=datetime(2025, 3, fetched_day, 8, 0, tzinfo=UTC),
        province=province, city=city, county=county, level=level, parent=parent,
        report=report, parser_version=parser_version, narrative=dict(narrative or {}),
    )


def checks_frame(docs: list[load.Document]) -> pd.DataFrame:
    """Check rows for store_checks, computed by the real sum rules of transforms.checks."""
    rows = []
    for d in docs:
        for r in tchecks.evaluate(d.report):
            rows.append({"report_id": d.report_id, "check_id": r.check_id, "scope": r.scope,
                         "severity": r.severity, "status": r.status, "expected": r.expected,
                         "actual": r.actual, "detail": r.detail})
    return pd.DataFrame(rows, columns=["report_id", "check_id", "scope", "severity", "status", "expected",
                                       "actual", "detail"])


def _na(path: str) -> dict:
    return {"code": "cell_not_applicable", "severity": "warning", "message": "printed '/'", "where": path}


def _blank(path: str) -> dict:
    return {"code": "cell_blank", "severity": "warning", "message": "cell is blank", "where": path}


def corpus() -> dict[str, load.Document]:
    """Four reports of one city with figures worked out by hand in test_marts.py.

    A23/A24: the city (甲市) in 2023 and 2024; B24, C24: two counties of it in 2024;
    D24: a town whose report breaks H1 (quarantined by its failed error check).
    """
    a23 = make_report("甲市", 2023, {
        **app("new_received", natural_person=10), **app("carried_over", natural_person=0),
        **app("granted", natural_person=4), **app("partially_granted", natural_person=2),
        **app("denied_state_secret", natural_person=1), **app("denied_third_party", natural_person=1),
        **app("unavailable_not_held", natural_person=2), **app("total_processed", natural_person=10),
        **rl("admin_review", 2, 1, 1, 0), **rl("litigation_direct", 1, 0, 0, 1),
        "active_disclosure.fees.amount_10k_yuan": 1.5,
    })
    a24 = make_report("甲市", 2024, {
        **app("new_received", natural_person=15, commercial=5),
        **app("granted", natural_person=8, commercial=2), **app("partially_granted", natural_person=5),
        **app("denied_process_info", natural_person=2, commercial=3),
        **app("total_processed", natural_person=15, commercial=5),
    })
    b24 = make_report("乙县", 2024, rl("admin_review", 0, 1, 0, 0), tpl_ad=fs.F2019, tpl_app=fs.F2019)
    c24 = make_report("丙县", 2024, {
        **app("new_received", natural_person=4), **app("granted", natural_person=1),
        **app("unavailable_not_held", natural_person=3), **app("total_processed", natural_person=4),
        "applications.partially_granted.total": None, "applications.denied_query.total": None,
        "active_disclosure.fees.amount_10k_yuan": 2.25,
    }, findings=[_blank("applications.partially_granted.total"), _na("applications.denied_query.total")])
    d24 = make_report("丁镇", 2024, {
        **app("new_received", natural_person=5), **app("granted", natural_person=3),
        **app("total_processed", natural_person=3),
    })
    return {
        "A23": make_doc(a23, narrative={"new_received": 10}),
        "A24": make_doc(a24, fetched_day=2),
        "B24": make_doc(b24, level="county", county="水城区", parent="甲市"),
        "C24": make_doc(c24, level="county", county="钟山区", parent="甲市"),
        "D24": make_doc(d24, level="town", county="钟山区", parent="丙县"),
    }
