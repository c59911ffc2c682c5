"""Run a worktree's parser on the adversarial corpus and grade every cell and the metadata.

Usage (from inside the worktree under test):
    PYTHONPATH=$PWD .venv/bin/python benchmarks/accuracy/harness.py [--save-wrong]

Grades: exact (equal to the truth, a null truth included), null (truth is a number, parser null),
WRONG (a number that differs from the truth, or a number where the truth is null / where the
truth's template has no such cell). Metadata (agency, year, three templates): exact / missing / WRONG.
Results: results/<worktree>.json; with --save-wrong, wrong/<worktree>/<variant>.* reproducers.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import model as M  # noqa: E402

from transforms.parse import parse_report  # noqa: E402

CORPUS = M.OUT_ROOT / os.environ.get("ADV_CORPUS", "corpus")


def same(a, b) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1.0, abs(b))
    return a == b


def doc_names(truth):
    """Other names a report's own prose gives its author (seen in the seeds), accepted as not wrong."""
    return {"石柱土家族自治县人民政府南宾街道办事处": {"石柱土家族自治县南宾街道办事处"},
            "淮安市人民政府": {"淮安市人民政府办公室"}}.get(truth["agency"], set())


def grade(truth: dict, got: dict):
    cells = {"exact": 0, "null": 0, "WRONG": 0, "derived_for_blank": 0}
    derived = {f.get("where") for f in got.get("findings", []) if f.get("code") == "cell_derived"}
    wrong, nulls = [], []
    t, g = M.flat_cells(truth), M.flat_cells(got)
    for k, v in t.items():
        p = g.get(k)
        if p is None and v is None:
            cells["exact"] += 1
        elif p is None:
            cells["null"] += 1
            nulls.append(k)
        elif v is not None and same(p, v):
            cells["exact"] += 1
        elif v is None and k in derived and k.endswith(".total") and k.startswith("applications.") and same(
                p, sum(truth["applications"][k.split(".")[1]][c] or 0 for c in M.COLS[:-1])):
            # the printed total was blank; the contract allows deriving it from its parts, flagged
            cells["derived_for_blank"] += 1
        else:
            cells["WRONG"] += 1
            wrong.append({"cell": k, "true": v, "parsed": p})
    for k, p in g.items():  # numbers in cells the true template does not have
        if k not in t and p is not None:
            cells["WRONG"] += 1
            wrong.append({"cell": k, "true": "(no such cell in the true template)", "parsed": p})
    meta = {}
    for key in ("agency", "year"):
        meta[key] = "exact" if got.get(key) == truth[key] else ("missing" if got.get(key) is None else "WRONG")
    if meta["agency"] == "WRONG" and got["agency"] in doc_names(truth):
        meta["agency"] = "alt_name"  # a name the document itself gives its author (e.g. the compiling office)
    for key in ("active_disclosure", "applications", "review_litigation"):
        tv = truth["templates"][key] if truth.get(key) is not None else None
        gv = (got.get("templates") or {}).get(key)
        meta["template." + key] = "exact" if gv == tv else ("missing" if gv is None else "WRONG")
    return cells, wrong, nulls, meta


def main():
    wt = Path(os.environ.get("PYTHONPATH", os.getcwd()).split(os.pathsep)[0]).resolve()
    name = wt.name
    save_wrong = "--save-wrong" in sys.argv
    manifest = json.loads((CORPUS / "MANIFEST.json").read_text(encoding="utf-8"))
    only = [a for a in sys.argv[1:] if not a.startswith("--")]
    if only:
        manifest = [m for m in manifest if any(o in m["id"] for o in only)]
    wdir = M.OUT_ROOT / "wrong" / name
    if save_wrong and not only and wdir.exists():
        shutil.rmtree(wdir)
    totals = {"exact": 0, "null": 0, "WRONG": 0, "derived_for_blank": 0}
    mtotals: dict = {}
    per_variant = []
    t0 = time.process_time()
    for m in manifest:
        data = (CORPUS / m["file"]).read_bytes()
        truth = json.loads((CORPUS / f"{m['id']}.truth.json").read_text(encoding="utf-8"))
        try:
            got = parse_report(data)
            err = None
        except Exception as e:  # a crash: every cell counts as null, metadata missing
            got, err = {"templates": {}}, f"{type(e).__name__}: {e}"
        cells, wrong, nulls, meta = grade(truth, got)
        for k, v in cells.items():
            totals[k] += v
        for k, v in meta.items():
            mtotals.setdefault(v, 0)
            mtotals[v] += 1
        meta_wrong = {k: {"true": truth[k] if k in truth else truth["templates"][k.split(".", 1)[1]],
                          "parsed": got.get(k) if k in ("agency", "year") else (got.get("templates") or {}).get(k.split(".", 1)[1])}
                      for k, v in meta.items() if v != "exact"}
        rec = {"id": m["id"], "desc": m["desc"], "cells": cells, "wrong": wrong, "nulls": nulls,
               "meta": meta_wrong, "error": err, "bad_meta": {k: v for k, v in meta_wrong.items() if meta[k] == "WRONG"},
               "row_order_unproved": sum(1 for f in got.get("findings", []) if f.get("code") == "row_order_unproved")}
        per_variant.append(rec)
        bad_meta = {k: v for k, v in meta_wrong.items() if meta[k] == "WRONG"}
        if save_wrong and (wrong or bad_meta):
            wdir.mkdir(parents=True, exist_ok=True)
            shutil.copy(CORPUS / m["file"], wdir / m["file"])
            (wdir / f"{m['id']}.wrong.json").write_text(json.dumps(
                {"desc": m["desc"], "wrong_cells": wrong, "wrong_meta": bad_meta}, ensure_ascii=False, indent=1),
                encoding="utf-8")
    cpu = time.process_time() - t0
    import hashlib
    import subprocess
    head = subprocess.run(["git", "-C", str(wt), "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    diff = subprocess.run(["git", "-C", str(wt), "diff", "HEAD"], capture_output=True).stdout
    summary = {"worktree": str(wt), "head": head, "uncommitted_diff_sha1": hashlib.sha1(diff).hexdigest()[:10] if diff else None, "variants": len(manifest), "cells": totals, "meta": mtotals,
               "variants_with_wrong": sum(1 for r in per_variant if r["wrong"] or r["bad_meta"]),
               "crashes": sum(1 for r in per_variant if r["error"]), "cpu_s": round(cpu, 1)}
    (M.OUT_ROOT / "results").mkdir(exist_ok=True)
    if not only:
        (M.OUT_ROOT / "results" / f"{name}{os.environ.get('ADV_CORPUS', '')}.json").write_text(json.dumps(
            {"summary": summary, "variants": per_variant}, ensure_ascii=False, indent=1), encoding="utf-8")
    print(json.dumps(summary, ensure_ascii=False))
    for r in per_variant:
        if r["wrong"] or r["bad_meta"] or r["error"]:
            w = "; ".join(f"{x['cell']} true={x['true']} got={x['parsed']}" for x in r["wrong"][:4])
            extra = f" (+{len(r['wrong']) - 4})" if len(r["wrong"]) > 4 else ""
            mm = r["bad_meta"]
            print(f"  {r['id']}: {len(r['wrong'])} wrong {w}{extra} {mm or ''} {r['error'] or ''}")


if __name__ == "__main__":
    main()
