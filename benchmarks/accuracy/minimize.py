"""Shrink each WRONG text variant to a minimal reproducer (line-level ddmin, bounded by a count
of parses, never by the clock).

    cd WT && PYTHONPATH=$PWD .venv/bin/python benchmarks/accuracy/minimize.py
reads results/<worktree>.json, writes wrong/<worktree>/min/<variant>.min.txt and .min.json
(the cell, its true value, the value the parser gives on the minimal text).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import model as M  # noqa: E402

from transforms.parse import parse_report  # noqa: E402

BUDGET = 500


import re  # noqa: E402

HEADINGS = {"active_disclosure": "二、主动公开", "applications": "三、收到和处理", "review_litigation": "四、政府信息公开行政复议"}
NEXT = {"active_disclosure": "三、收到和处理", "applications": "四、政府信息公开行政复议", "review_litigation": "五、"}


def row_label(cell):
    table, row, _ = cell.split(".")
    for key, _, leaf in M.APP_ROWS_F2021 + M.APP_ROWS_F2019:
        if table == "applications" and key == row:
            return re.sub(r"^[一二三四五六七八（）\d.、]+", "", leaf)[:4]
    for blocks in (M.T1_F2021, M.T1_F2019):
        for _, _, items in blocks:
            for key, label, _ in items:
                if table == "active_disclosure" and key == row:
                    return label[:2] if key != "normative_documents" else "规范性"
    return None


def protected(lines, cell, true):
    """A fair reproducer keeps the whole table that holds the cell (its section heading through the
    next heading): on its own a table cut down to a few lines can be ambiguous; prose and the other
    tables are what ddmin may drop."""
    table = cell.split(".")[0]
    start = next((i for i, ln in enumerate(lines) if ln.startswith(HEADINGS[table])), None)
    if start is None:
        return set()
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith(NEXT[table])), len(lines))
    return set(range(start, end))


def still_wrong(lines, cell, parsed):
    try:
        got = M.flat_cells(parse_report("\n".join(lines).encode("utf-8")))
    except Exception:
        return False
    return got.get(cell) == parsed


def ddmin(lines, cell, parsed, keep_idx):
    items = [(i in keep_idx, ln) for i, ln in enumerate(lines)]
    calls, n = 0, 2
    while len(items) >= 2 and calls < BUDGET:
        chunk = max(1, len(items) // n)
        removed = False
        for i in range(0, len(items), chunk):
            if any(k for k, _ in items[i:i + chunk]):
                continue
            cand_items = items[:i] + items[i + chunk:]
            cand = [ln for _, ln in cand_items]
            calls += 1
            if cand and still_wrong(cand, cell, parsed):
                items, n, removed = cand_items, max(n - 1, 2), True
                break
            if calls >= BUDGET:
                break
        if not removed:
            if chunk == 1:
                break
            n = min(len(items), n * 2)
    return [ln for _, ln in items], calls


def main():
    name = Path(os.environ.get("PYTHONPATH", os.getcwd()).split(os.pathsep)[0]).resolve().name
    res = json.loads((M.OUT_ROOT / "results" / f"{name}.json").read_text(encoding="utf-8"))
    out = M.OUT_ROOT / "wrong" / name / "min"
    out.mkdir(parents=True, exist_ok=True)
    for v in res["variants"]:
        if not v["wrong"]:
            continue
        src = next((M.OUT_ROOT / "corpus").glob(v["id"] + ".*[!n]"))
        if src.suffix != ".txt":
            continue
        w = v["wrong"][0]
        lines = src.read_text(encoding="utf-8").split("\n")
        small, calls = ddmin(lines, w["cell"], w["parsed"], protected(lines, w["cell"], w["true"]))
        (out / f"{v['id']}.min.txt").write_text("\n".join(small), encoding="utf-8")
        (out / f"{v['id']}.min.json").write_text(json.dumps(
            {"cell": w["cell"], "true": w["true"], "parsed": w["parsed"], "from": src.name, "parses": calls,
             "lines": len(small), "all_wrong_cells_in_full_variant": v["wrong"]}, ensure_ascii=False, indent=1),
            encoding="utf-8")
        print(f"{v['id']}: {len(lines)} -> {len(small)} lines ({calls} parses) {w['cell']} true={w['true']} got={w['parsed']}")


if __name__ == "__main__":
    main()
