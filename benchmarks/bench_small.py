"""A small run: ``xxgk run --full`` of the bundled samples, warm (second run on the same data folder).

    .venv/bin/python -m benchmarks.bench_small [--out benchmarks/out]

A daily run that finds a few new reports should cost seconds, not a minute. The command
runs in fresh processes on one data folder: once cold, then WARM_RUNS times warm (caches
filled, the files in the page cache); the median of the warm runs is the figure
``small_run_s``: wall time of the whole command, imports included, as a scheduler would
start it. One run of a few seconds on a shared machine is noise; the median of three is
steadier and no kinder (every warm run is listed, with its CPU time).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from benchmarks.bench_e2e import measure

ROOT = Path(__file__).resolve().parent.parent
WARM_RUNS = 3


def run(out: str | Path, year: int = 2024) -> dict:
    home = Path(out).resolve() / "small-run"
    if home.exists():
        shutil.rmtree(home)
    args = ["flows.cli", "run", "--full", "--year", str(year), "--home", str(home), "-q"]
    cold = measure(args, label="xxgk run (cold)")
    runs = [measure(args, label="xxgk run (warm)") for _ in range(WARM_RUNS)]
    warm = sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]  # the median run
    return {"small_run_s": warm["wall_s"], "cold_s": cold["wall_s"], "warm": warm, "cold": cold,
            "warm_runs_s": [r["wall_s"] for r in runs], "warm_cpu_s": [r["cpu_s"] for r in runs],
            "command": f"xxgk run --full --year 2024 (bundled samples), median of {WARM_RUNS} warm runs"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_small")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    args = ap.parse_args(argv)
    print(json.dumps(run(args.out), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
