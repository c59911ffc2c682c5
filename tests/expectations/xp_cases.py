"""The contract-like test reports validated once per session (see conftest.py)."""

from __future__ import annotations

import xp_reports as xr

from transforms import formatspec as fs

LPS = xr.lps_2024()


def _shifted_row(report: dict) -> dict:
    """A parser defect: row 予以公开 read one column to the left (a lost blank cell), pulling in
    the first value of the next row."""
    r = xr.setv(report, "applications.granted.natural_person", 5)
    for path, v in (("commercial", 0), ("research", 0), ("social_welfare", 2), ("legal_services", 0),
                    ("other_org", 235), ("total", 200)):
        r = xr.setv(r, f"applications.granted.{path}", v)
    return r


def _without(report: dict, table: str) -> dict:
    r = xr.setv(report, "applications.granted.total", report["applications"]["granted"]["total"])
    r[table] = None
    r["templates"] = {**r["templates"], table: None}
    r["findings"].append({"code": "tables_missing", "severity": "error", "message": "no table", "where": table})
    return r


def _without_row(report: dict, row: str) -> dict:
    r = xr.setv(report, "applications.granted.total", report["applications"]["granted"]["total"])
    del r["applications"][row]
    return r


def _cases() -> list[dict]:
    lps = LPS
    f19 = xr.generated(19, fs.F2019, fs.F2019)
    x_cur = xr.generated(31, agency="X市", year=2024)
    x_prev = xr.chain(xr.generated(32, agency="X市", year=2023), x_cur)
    y_cur = xr.generated(41, agency="Y县", year=2024)
    y_prev = xr.setv(xr.chain(xr.generated(42, agency="Y县", year=2023), y_cur), "applications.carried_forward.total",
                     y_cur["applications"]["carried_over"]["total"] + 4)  # X1 broken on 总计 (and H1/H2 there)
    y_prev = xr.setv(y_prev, "active_disclosure.regulations.in_force", 1000)  # X2 broken for 规章
    z_cur = xr.generated(51, agency="Z区", year=2024)
    z_prev = xr.generated(52, fs.F2019, fs.F2019, agency="Z区", year=2023)  # X4: other template, no X1/X2
    child_a = xr.generated(61, agency="甲县", year=2024)
    child_b = xr.generated(62, agency="乙县", year=2024)
    big = sum(c["applications"]["new_received"]["total"] for c in (child_a, child_b))
    parent = xr.generated(63, agency="丙市", year=2024)
    parent_small = xr.setv(parent, "applications.new_received.total", 0)  # breaks H2/H1 too; XH is the point

    c = [
        xr.item(lps, "lps", level="市", narrative={"new_received": 842, "total_processed": 840}),
        xr.item(xr.setv(xr.setv(lps, "applications.carried_forward.natural_person", 16),
                        "applications.carried_forward.total", 16), "h1_bad"),
        xr.item(xr.setv(xr.setv(lps, "applications.granted.commercial", 6),
                        "applications.partially_granted.commercial", 2), "h2_bad"),
        xr.item(xr.setv(xr.setv(lps, "applications.granted.natural_person", 229),
                        "applications.granted.total", 236), "h3_bad"),
        xr.item(xr.setv(lps, "review_litigation.admin_review.total", 28), "h4_bad"),
        xr.item(xr.setv(xr.setv(lps, "review_litigation.admin_review.pending", -1),
                        "review_litigation.admin_review.total", 24), "h5_bad"),
        xr.item(xr.setv(xr.setv(lps, "applications.carried_forward.natural_person", 900),
                        "applications.carried_forward.total", 900), "h6_bad"),
        xr.item(_without(lps, "applications"), "h7_missing"),
        xr.item(_without_row(lps, "other_other"), "h7_row"),
        xr.item(xr.setv(lps, "active_disclosure.regulations.in_force", 0), "s3_net_negative"),  # 0 >= 2 - 9
        xr.item(xr.setv(xr.setv(lps, "active_disclosure.regulations.issued", 20),
                        "active_disclosure.regulations.repealed", 2), "s3_bad2"),
        xr.item(f19, "f19"),
        xr.item(xr.setv(f19, "active_disclosure.regulations.new_published",
                        f19["active_disclosure"]["regulations"]["new_made"] + 3), "s4_bad"),
        xr.item(xr.setv(xr.setv(f19, "active_disclosure.penalty.prev_items", 3),
                        "active_disclosure.penalty.delta_items", -5), "s5_bad"),
        xr.item(xr.setv(lps, "active_disclosure.fees.amount_10k_yuan", 2_000_000.5), "s7_bad"),
        xr.item(lps, "s2_bad", agency="某镇", level="乡镇街道"),
        xr.item(xr.setv(xr.setv(xr.setv(lps, "active_disclosure.regulations.issued", 0),
                                "active_disclosure.regulations.repealed", 0),
                        "active_disclosure.regulations.in_force", 0), "s2_ok", agency="某县", level="县"),
        xr.item(lps, "s1_bad", agency="六盘水市S1", narrative={"new_received": 850, "admin_review_total": 27}),
        xr.item(xr.mark(lps, "applications.granted.research", "cell_not_applicable"), "na_zero"),
        xr.item(xr.mark(lps, "applications.carried_over.total", "cell_blank"), "blank"),
        xr.item(xr.mark(lps, "applications.new_received.total", "cell_unreadable"), "unreadable"),
        xr.item(_shifted_row(lps), "shift"),
        xr.item(xr.flag(lps, "applications.granted.total", "cell_derived"), "derived"),
        xr.item(xr.mark(lps, "applications.granted.total", "cell_ambiguous"), "ambiguous"),
        xr.item(x_prev, "x_2023", agency_id="X", year=2023),
        xr.item(x_cur, "x_2024", agency_id="X", year=2024),
        xr.item(y_prev, "y_2023", agency_id="Y", year=2023),
        xr.item(y_cur, "y_2024", agency_id="Y", year=2024),
        xr.item(z_prev, "z_2023", agency_id="Z", year=2023),
        xr.item(z_cur, "z_2024", agency_id="Z", year=2024),
        xr.item(child_a, "child_a", parent="丙市"),
        xr.item(child_b, "child_b", parent="丙市"),
        xr.item(parent, "parent_ok"),
        xr.item(parent_small, "parent_small", agency="丁市"),
        xr.item(xr.generated(64, agency="丙县", year=2024), "child_c", parent="丁市"),
    ]
    assert big > 0
    return c


CASES = _cases()
REPORTS = {c["report_id"]: c for c in CASES}


def _seed_cases() -> list[dict]:
    """The five real seed reports (parsed contract objects and their texts' narrative figures)."""
    import json
    from pathlib import Path

    from transforms import narrative

    out = []
    base = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"
    levels = {"石柱土家族自治县人民政府南宾街道办事处": "乡镇街道"}
    for path in sorted(base.glob("*.expected.json")):
        stem = path.name.removesuffix(".expected.json")
        report = json.loads(path.read_text(encoding="utf-8"))
        text = (base / f"{stem}.txt").read_text(encoding="utf-8")
        out.append(xr.item(report, f"seed_{stem[:3]}", level=levels.get(report["agency"], "市"),
                           narrative=narrative.extract(text)))
    return out


SEEDS = _seed_cases()
CASES += SEEDS
REPORTS.update({c["report_id"]: c for c in SEEDS})
