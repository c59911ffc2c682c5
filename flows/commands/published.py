"""`xxgk status`, `failures`, `export`, `site`: what is published, and what was not."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flows.commands.common import EXIT_OK, CliError, settings_from
from flows.outcomes import PASSED, PUBLISHED
from warehouse.layout import Layout


def status_data(marts: Path) -> dict[str, Any]:
    import datetime as dt

    import duckdb

    from warehouse.publish import open_published

    if not marts.is_file():
        raise CliError(f"nothing published yet: {marts} does not exist (run `xxgk demo` or `xxgk run --year YYYY`)")
    published_at = dt.datetime.fromtimestamp(marts.stat().st_mtime).astimezone().isoformat(timespec="seconds")
    try:
        with open_published(marts) as con:  # a reader's WAL or read-write lock does not get in the way
            tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
            by_year: list[dict[str, Any]] = []
            if "dim_report" in tables:
                for year, status, n in con.execute(
                    "select year, coalesce(status, $published), count(*) from dim_report group by all order by 1, 2",
                    {"published": PUBLISHED},
                ).fetchall():
                    by_year.append({"year": int(year), "status": status, "reports": int(n)})
            quality: list[dict[str, Any]] = []
            if "mart_quality" in tables:
                cols = [r[0] for r in con.execute("describe mart_quality").fetchall()]
                if "status" in cols:
                    quality = [{"status": s, "reports": int(n)} for s, n in con.execute(
                        "select status, count(*) from mart_quality group by 1 order by 1").fetchall()]
            counts = {t: int(con.execute(f'select count(*) from "{t}"').fetchone()[0]) for t in sorted(tables)}
    except duckdb.Error as e:
        raise CliError(f"cannot open {marts} read-only: {e}") from None
    return {"marts": str(marts.resolve()), "published_at": published_at, "reports_by_year": by_year,
            "quality": quality, "tables": counts}


def cmd_status(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    data = status_data(settings.marts_path)
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"published: {data['marts']}")
    print(f"  at {data['published_at']}")
    years: dict[int, list[str]] = {}
    for row in data["reports_by_year"]:
        years.setdefault(row["year"], []).append(f"{row['reports']} {row['status']}")
    total = sum(row["reports"] for row in data["reports_by_year"])
    print(f"  from {total} report(s):")
    for year, parts in years.items():
        print(f"    {year}: {', '.join(parts)}")
    print("  tables: " + ", ".join(f"{t} ({n} rows)" for t, n in data["tables"].items()))
    return EXIT_OK


def failures_data(home: Path, year: int | None = None) -> list[dict[str, Any]]:
    """Reports of the years' last complete runs that were not published, with their reasons
    (from the run records ``$XXGK_HOME/runs/<Y>.json``: fetch and parse failures never reach
    the marts)."""
    runs = Layout(Path(home)).runs
    paths = sorted(runs.glob("[0-9][0-9][0-9][0-9].json")) if runs.is_dir() else []
    if year is not None:
        paths = [p for p in paths if p.stem == str(year)]
    if not paths:
        where = f" for {year}" if year is not None else ""
        raise CliError(f"no complete run recorded{where} under {runs} (run `xxgk run --year YYYY` first)")
    out = []
    for p in paths:
        try:
            rec = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise CliError(f"cannot read the run record {p}: {e}") from None
        for r in rec.get("reports", []):
            if r.get("outcome") in (PUBLISHED, PASSED):
                continue
            out.append({"year": int(rec["year"]), "agency": r.get("agency") or "", "outcome": r.get("outcome"),
                        "reasons": list(r.get("reasons") or []), "url": r.get("url") or "",
                        "report_id": r.get("report_id") or "", "run_at": rec.get("written_at")})
    return out


def cmd_failures(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    rows = failures_data(settings.home, args.year)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not rows:
        print("no failed or quarantined report in the last complete run(s)")
    for r in rows:
        print(f"{r['year']}  {r['agency'] or r['url']}  {r['outcome']}")
        for why in r["reasons"]:
            print(f"    {why}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from warehouse.export import export_year

    settings = settings_from(args)
    out = Path(args.out) if args.out else settings.layout.export
    try:
        paths = export_year(settings.marts_path, args.year, args.format, out)
    except (FileNotFoundError, LookupError) as e:
        raise CliError(str(e).strip("'\"")) from None
    for p in paths:
        print(p.resolve())
    return EXIT_OK


def cmd_site(args: argparse.Namespace) -> int:
    from reportsite.build import build_site

    settings = settings_from(args)
    if not settings.marts_path.is_file():
        raise CliError(f"nothing published yet: {settings.marts_path} does not exist (run `xxgk demo` first)")
    index = build_site(settings.home, settings.raw_dir)
    print(index.resolve())
    return EXIT_OK


