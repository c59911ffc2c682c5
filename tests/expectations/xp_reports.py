"""Contract-shaped reports for the expectation tests (real figures where noted)."""

from __future__ import annotations

import copy
import random

from transforms import formatspec as fs

COLS = [c.key for c in fs.APPLICANT_COLUMNS]
PARTS = list(fs.APPLICANT_PARTS)

# 六盘水市 2024 (seed 000), table 2 as printed: the six applicant columns and 总计.
LPS_2024_T2 = {
    "new_received": [820, 17, 0, 0, 5, 0, 842],
    "carried_over": [13, 0, 0, 0, 0, 0, 13],
    "granted": [228, 5, 0, 0, 2, 0, 235],
    "partially_granted": [200, 3, 0, 0, 0, 0, 203],
    "denied_state_secret": [0] * 7,
    "denied_prohibited_by_law": [0] * 7,
    "denied_three_safeties": [1, 0, 0, 0, 0, 0, 1],
    "denied_third_party": [25, 0, 0, 0, 0, 0, 25],
    "denied_internal_affairs": [2, 0, 0, 0, 0, 0, 2],
    "denied_process_info": [0] * 7,
    "denied_enforcement_file": [1, 0, 0, 0, 0, 0, 1],
    "denied_query": [1, 0, 0, 0, 0, 0, 1],
    "unavailable_not_held": [292, 8, 0, 0, 3, 0, 303],
    "unavailable_needs_creation": [15, 0, 0, 0, 0, 0, 15],
    "unavailable_unclear": [0] * 7,
    "rejected_petition": [2, 0, 0, 0, 0, 0, 2],
    "rejected_duplicate": [11, 0, 0, 0, 0, 0, 11],
    "rejected_publication": [1, 0, 0, 0, 0, 0, 1],
    "rejected_excessive": [1, 0, 0, 0, 0, 0, 1],
    "rejected_confirmation": [0] * 7,
    "other_no_correction": [6, 0, 0, 0, 0, 0, 6],
    "other_unpaid_fee": [3, 0, 0, 0, 0, 0, 3],
    "other_other": [29, 1, 0, 0, 0, 0, 30],
    "total_processed": [818, 17, 0, 0, 5, 0, 840],
    "carried_forward": [15, 0, 0, 0, 0, 0, 15],
}
LPS_2024_T3 = [11, 9, 5, 2, 27, 15, 0, 19, 0, 34, 1, 0, 1, 2, 4]


def lps_2024() -> dict:
    """六盘水市 2024 as its contract object (all three tables as printed)."""
    ad = {
        "regulations": {"issued": 2, "repealed": 9, "in_force": 6},
        "normative_documents": {"issued": 44, "repealed": 67, "in_force": 287},
        "licensing": {"decisions": 993605},
        "penalty": {"decisions": 1234469},
        "coercion": {"decisions": 24268},
        "fees": {"amount_10k_yuan": 24543.72933},
    }
    apps = {row: dict(zip(COLS, vals, strict=True)) for row, vals in LPS_2024_T2.items()}
    rl = {}
    it = iter(LPS_2024_T3)
    for g in fs.RL_GROUPS:
        rl[g.key] = {o.key: next(it) for o in fs.RL_OUTCOMES}
    return {
        "contract": "xxgk.report/1", "agency": "六盘水市", "year": 2024,
        "templates": {"active_disclosure": "F2021", "applications": "F2021", "review_litigation": "standard"},
        "active_disclosure": ad, "applications": apps, "review_litigation": rl, "findings": [],
    }


def generated(seed: int, tpl_ad: str = fs.F2021, tpl_app: str = fs.F2021, agency: str | None = None,
              year: int = 2024) -> dict:
    """A consistent report (every invariant holds) with random figures."""
    rnd = random.Random(seed)
    ad = {}
    for it in fs.AD_ITEMS[tpl_ad]:
        cells = {}
        for m in it.measures:
            vt = fs.AD_MEASURES[tpl_ad][m].vtype
            cells[m] = (round(rnd.uniform(0, 500), 2) if vt in (fs.DECIMAL, fs.AMOUNT)
                        else rnd.randint(-5, 5) if vt == fs.SIGNED else rnd.randint(0, 50))
        if tpl_ad == fs.F2021 and "in_force" in cells:
            cells["in_force"] = max(cells["in_force"], cells["issued"] - cells["repealed"])
        if tpl_ad == fs.F2019 and "new_published" in cells:
            cells["new_published"] = min(cells["new_published"], cells["new_made"])
        if "prev_items" in cells:
            cells["delta_items"] = max(cells["delta_items"], -cells["prev_items"])
        ad[it.key] = cells
    apps: dict[str, dict] = {}
    leaves = fs.app_leaves(tpl_app)
    for r in leaves:
        apps[r] = {c: rnd.choice([0, 0, 0, rnd.randint(0, 30)]) for c in PARTS}
    apps["total_processed"] = {c: sum(apps[r][c] for r in leaves) for c in PARTS}
    apps["carried_over"] = {c: rnd.randint(0, 3) for c in PARTS}
    apps["carried_forward"] = {c: rnd.randint(0, 3) for c in PARTS}
    apps["new_received"] = {}
    for c in PARTS:
        n = apps["total_processed"][c] + apps["carried_forward"][c] - apps["carried_over"][c]
        if n < 0:  # fewer processed than carried over: carry over exactly what was processed
            apps["carried_over"][c] = apps["total_processed"][c] + apps["carried_forward"][c]
            n = 0
        apps["new_received"][c] = n
    for row in apps.values():
        row["total"] = sum(row[c] for c in PARTS)
    ordered = {r.key: apps[r.key] for r in fs.app_rows(tpl_app)}
    rl = {}
    for g in fs.RL_GROUPS:
        cells = {o: rnd.randint(0, 4) for o in ("upheld", "corrected", "other", "pending")}
        cells["total"] = sum(cells.values())
        rl[g.key] = cells
    return {
        "contract": "xxgk.report/1", "agency": agency or f"机构{seed}", "year": year,
        "templates": {"active_disclosure": tpl_ad, "applications": tpl_app, "review_litigation": "standard"},
        "active_disclosure": ad, "applications": ordered, "review_litigation": rl, "findings": [],
    }


def item(report: dict, rid: str, **meta) -> dict:
    return {"report_id": rid, "report": report, **meta}


def mark(report: dict, path: str, marker_code: str) -> dict:
    """Set a cell to null with a finding (cell_blank, cell_not_applicable, cell_unreadable, ...)."""
    r = copy.deepcopy(report)
    t, i, m = path.split(".")
    r[t][i][m] = None
    r["findings"].append({"code": marker_code, "severity": "warning", "message": marker_code, "where": path})
    return r


def setv(report: dict, path: str, value) -> dict:
    r = copy.deepcopy(report)
    t, i, m = path.split(".")
    r[t][i][m] = value
    return r


def chain(prev: dict, cur: dict) -> dict:
    """A copy of ``prev`` whose closing figures open ``cur`` (X1 and, for F2021 table 1, X2 hold)."""
    p = copy.deepcopy(prev)
    a = p["applications"]
    for c in PARTS:
        a["carried_forward"][c] = cur["applications"]["carried_over"][c]
        n = a["total_processed"][c] + a["carried_forward"][c] - a["carried_over"][c]
        if n < 0:
            a["carried_over"][c] = a["total_processed"][c] + a["carried_forward"][c]
            n = 0
        a["new_received"][c] = n
    for row in a.values():
        row["total"] = sum(row[c] for c in PARTS)
    if p["templates"]["active_disclosure"] == fs.F2021 == cur["templates"]["active_disclosure"]:
        for key in ("regulations", "normative_documents"):
            ci = cur["active_disclosure"][key]
            p["active_disclosure"][key]["in_force"] = ci["in_force"] - ci["issued"] + ci["repealed"]
    return p


def flag(report: dict, path: str, marker_code: str) -> dict:
    """Add a cell finding (e.g. cell_derived) and keep the cell's value."""
    r = copy.deepcopy(report)
    r["findings"].append({"code": marker_code, "severity": "warning", "message": marker_code, "where": path})
    return r
