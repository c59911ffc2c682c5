"""Query time of typical BI queries on the published marts (read-only, as a BI tool reads them).

    .venv/bin/python -m benchmarks.bench_marts PATH/marts.duckdb [--runs 15]

Each query runs once to warm up, then ``runs`` times on one open read-only connection;
the median (and the slowest run) in milliseconds is reported, rows fetched included.
``mart_agency_year`` queries are the headline (target: under 50 ms over 10,000 reports).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import duckdb

# name -> SQL; $year / $province are filled from the data.
QUERIES = {
    # A dashboard table: one province's agencies, most applications first.
    "agency_year_top_in_province": """
        SELECT agency, level, applications_received, applications_processed, disclosure_rate,
               delta_applications_received
        FROM mart_agency_year WHERE year = $year AND province = $province
        ORDER BY applications_received DESC NULLS LAST LIMIT 50""",
    # A pivot: figures by province and level over every agency of the year.
    "agency_year_by_province_level": """
        SELECT province, level, count(*) AS agencies, sum(applications_received) AS received,
               avg(disclosure_rate) AS avg_disclosure_rate, sum(review_total) AS reviews,
               sum(litigation_total) AS suits, sum(fees_10k_yuan) AS fees
        FROM mart_agency_year WHERE year = $year GROUP BY ALL ORDER BY province, level""",
    # Distribution of the disclosure rate (a histogram chart).
    "agency_year_rate_histogram": """
        SELECT floor(disclosure_rate * 10) / 10 AS bucket, count(*) AS agencies
        FROM mart_agency_year WHERE year = $year AND disclosure_rate IS NOT NULL
        GROUP BY ALL ORDER BY bucket""",
    "region_year_ranking": """
        SELECT province, city, level, reports, applications_received, disclosure_rate
        FROM mart_region_year WHERE year = $year ORDER BY applications_received DESC NULLS LAST LIMIT 100""",
    "quality_summary": """
        SELECT status, count(*) AS reports, sum(checks_failed) AS failed, sum(checks_warned) AS warned
        FROM mart_quality GROUP BY ALL""",
    # Star join: applications by result row and province from the fact table.
    "fact_application_by_row_province": """
        SELECT a.province, f.row_code, sum(f.value) AS applications
        FROM fact_application AS f JOIN dim_report AS r USING (report_id) JOIN dim_agency AS a USING (agency_id)
        WHERE f.applicant = 'total' AND r.year = $year
        GROUP BY ALL ORDER BY a.province, f.row_code""",
}
HEADLINE = tuple(q for q in QUERIES if q.startswith("agency_year"))


def run(path: str | Path, runs: int = 15) -> dict:
    t0 = time.perf_counter()
    con = duckdb.connect(str(path), read_only=True)
    connect_ms = (time.perf_counter() - t0) * 1000
    try:
        year, province = con.execute(
            "SELECT year, province FROM mart_agency_year GROUP BY ALL ORDER BY count(*) DESC LIMIT 1").fetchone()
        reports = con.execute("SELECT count(*) FROM mart_agency_year").fetchone()[0]
        params = {"year": year, "province": province}
        out: dict[str, dict] = {}
        for name, sql in QUERIES.items():
            p = {k: v for k, v in params.items() if f"${k}" in sql}
            con.execute(sql, p).fetchall()  # warm-up
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                rows = con.execute(sql, p).fetchall()
                times.append((time.perf_counter() - t) * 1000)
            out[name] = {"median_ms": round(statistics.median(times), 2), "max_ms": round(max(times), 2),
                         "rows": len(rows)}
    finally:
        con.close()
    return {
        "mart_query_ms": max(out[q]["median_ms"] for q in HEADLINE),
        "mart_agency_year_rows": reports,
        "connect_ms": round(connect_ms, 2),
        "runs": runs,
        "queries": out,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_marts")
    ap.add_argument("marts", help="path of marts.duckdb")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args(argv)
    res = run(args.marts, args.runs)
    for name, r in res["queries"].items():
        print(f"{name:<36} median {r['median_ms']:>8.2f} ms   max {r['max_ms']:>8.2f} ms   rows {r['rows']}")
    print(f"mart_agency_year: {res['mart_agency_year_rows']} rows; slowest headline query (median) "
          f"{res['mart_query_ms']} ms (target < 50 ms)")
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
