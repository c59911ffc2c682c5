"""`xxgk export`: one year's published figures for spreadsheet users, as CSV files or one .xlsx.

Read from marts.duckdb (read-only, attached to a fresh in-memory database so the newest publish
is read); one CSV per table (UTF-8 with a BOM, which Excel needs to show Chinese), or one sheet
per table, with Chinese headers (warehouse/describe.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
from pathlib import Path

import duckdb

from warehouse import db, describe

# (SQL file in sql/export/, the mart its columns come from, sheet / file name)
SHEETS = (
    ("1_agency_year.sql", "mart_agency_year", "机关年度指标"),
    ("2_region_year.sql", "mart_region_year", "地区年度指标"),
    ("3_active_disclosure.sql", "fact_active_disclosure", "表一主动公开"),
    ("4_applications.sql", "fact_application", "表二依申请公开"),
    ("5_review_litigation.sql", "fact_review_litigation", "表三复议诉讼"),
    ("6_quality.sql", "mart_quality", "质量"),
)
FORMATS = ("csv", "xlsx")


def open_marts(marts: Path) -> duckdb.DuckDBPyConnection:
    """The published marts, read-only, as the newest publish (docs/BI.md, long-lived processes)."""
    if not Path(marts).is_file():
        raise FileNotFoundError(f"nothing published yet: {marts} does not exist")
    con = duckdb.connect(":memory:")
    con.execute("ATTACH $p AS marts (READ_ONLY)", {"p": str(marts)})
    con.execute("USE marts")
    return con


def year_tables(marts: Path, year: int) -> list[tuple[str, list[str], list[tuple]]]:
    """(sheet name, Chinese headers, rows) per table of the year."""
    con = open_marts(marts)
    try:
        out = []
        for sql, table, sheet in SHEETS:
            cur = con.execute(db.sql_text("export", sql), {"y": int(year)})
            cols = [d[0] for d in cur.description]
            out.append((sheet, [describe.short_label(table, c) for c in cols], cur.fetchall()))
        return out
    finally:
        con.close()


def _cell(v):
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime) and v.tzinfo is not None:
        return v.replace(tzinfo=None)
    return v


def export_year(marts: Path, year: int, fmt: str, out_dir: Path) -> list[Path]:
    """Write the year's tables under ``out_dir``; returns the files written."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    tables = year_tables(marts, year)
    if not any(rows for name, _h, rows in tables if name == "机关年度指标" or name == "质量"):
        raise LookupError(f"nothing published for {year} in {marts}")
    out_dir.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        paths = []
        for sheet, headers, rows in tables:
            path = out_dir / f"xxgk_{year}_{sheet}.csv"
            with open(path, "w", encoding="utf-8-sig", newline="") as f:
                w = csv.writer(f)
                w.writerow(headers)
                w.writerows(rows)
            paths.append(path)
        return paths
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for sheet, headers, rows in tables:
        ws = wb.create_sheet(sheet)
        ws.append(headers)
        for row in rows:
            ws.append([_cell(v) for v in row])
    path = out_dir / f"xxgk_{year}.xlsx"
    wb.save(path)
    return [path]
