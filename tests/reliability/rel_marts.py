"""Reading published marts for the drills: facts as comparable sets, duplicates, versions."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
DUCKDB1_PY = REPO / ".venv-duckdb1" / "bin" / "python"
# The published tables whose rows depend on the documents only (not on fetch times).
FACT_TABLES = {
    "fact_active_disclosure": ("report_id", "item", "measure"),
    "fact_application": ("report_id", "row_code", "applicant"),
    "fact_review_litigation": ("report_id", "proceeding", "outcome"),
    "dim_agency": ("agency_id",),
}
KEYED = {**FACT_TABLES, "dim_report": ("report_id",), "mart_quality": ("report_id",),
         "mart_agency_year": ("agency_id", "year")}


def facts(path: Path) -> dict[str, list[tuple]]:
    """The fact tables (and published report ids/status) as sorted row lists."""
    with duckdb.connect(str(path), read_only=True) as con:
        out = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in FACT_TABLES}
        out["dim_report"] = sorted(con.execute(
            "SELECT report_id, agency_id, year, content_sha256, status FROM dim_report").fetchall())
        out["mart_quality"] = sorted(con.execute("SELECT report_id, status FROM mart_quality").fetchall())
    return out


def duplicates(path: Path) -> dict[str, int]:
    """Rows beyond the first per natural key, per table (all zero when none)."""
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) - count(DISTINCT ({', '.join(k)})) FROM {t}").fetchone()[0]
                for t, k in KEYED.items()}


def opens_with_duckdb1(path: Path) -> str | None:
    """None when a DuckDB 1.x client opens ``path`` read-only and counts dim_report, else why not."""
    if not DUCKDB1_PY.exists():
        return None
    code = ("import duckdb,sys; c=duckdb.connect(sys.argv[1], read_only=True); "
            "print(c.execute('select count(*) from dim_report').fetchone()[0])")
    p = subprocess.run([str(DUCKDB1_PY), "-c", code, str(path)], capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"})
    return None if p.returncode == 0 else (p.stderr.strip().splitlines() or ["?"])[-1]


def xxgk(*args: str, home: Path, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the ``xxgk`` command of this checkout as a subprocess."""
    e = {**os.environ, "XXGK_HOME": str(home), "XXGK_MIN_DELAY": "0", **(env or {})}
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=e, cwd=str(REPO))
