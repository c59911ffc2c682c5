"""docs/BI.md and docs/BI.zh-CN.md: every ```sql block runs, verbatim, with DuckDB 1.x against
the marts of `xxgk demo`, and at least 80 % of them return rows."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDES = ["BI.md", "BI.zh-CN.md"]

RUNNER = r"""
import json, sys, duckdb
path, queries = sys.argv[1], json.loads(sys.stdin.read())
con = duckdb.connect(path, read_only=True)
out = []
for q in queries:
    try:
        out.append({"rows": len(con.execute(q).fetchall())})
    except Exception as e:
        out.append({"error": f"{type(e).__name__}: {e}"})
print(json.dumps(out))
"""


def sql_blocks(path: Path) -> list[str]:
    return re.findall(r"^```sql\n(.*?)^```", path.read_text(encoding="utf-8"), re.S | re.M)


@pytest.mark.parametrize("guide", GUIDES)
def test_every_query_of_the_guide_runs_on_the_demo_marts(guide, demo_home, duckdb1_python):
    queries = sql_blocks(DOCS / guide)
    assert len(queries) >= 6, f"{guide}: too few ```sql blocks found"
    r = subprocess.run([str(duckdb1_python), "-c", RUNNER, str(demo_home / "marts.duckdb")],
                       input=json.dumps(queries), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    results = json.loads(r.stdout)
    errors = [(q.splitlines()[0], res["error"]) for q, res in zip(queries, results, strict=True) if "error" in res]
    assert not errors, errors
    empty = [q.splitlines()[0] for q, res in zip(queries, results, strict=True) if res["rows"] == 0]
    assert len(empty) <= 0.2 * len(queries), f"queries returning no rows: {empty}"


def test_the_chinese_readme_gives_the_two_setup_commands_and_the_port_note():
    text = (DOCS.parent / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
    assert "PREFECT_UI_API_URL" in text and "docs/BI.zh-CN.md" in text
