"""A small run: ``xxgk run --full`` of the bundled samples, warm (second run on the same data folder).

    .venv/bin/python -m benchmarks.bench_small [--out benchmarks/out]

A daily run that finds a few new reports should cost seconds, not a minute. The command
runs twice in fresh processes on one data folder; the second (warm: caches filled, the
files in the page cache) is the figure ``small_run_s``: wall time of the whole command,
imports included, as a scheduler would start it.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from benchmarks.bench_e2e import measure

ROOT = Path(__file__).resolve().parent.parent


def run(out: str | Path, year: int = 2024) -> dict:
    home = Path(out).resolve() / "small-run"
    if home.exists():
        shutil.rmtree(home)
    args = ["flows.cli", "run", "--full", "--year", str(year), "--home", str(home), "-q"]
    cold = measure(args, label="xxgk run (cold)")
    warm = measure(args, label="xxgk run (warm)")
    return {"small_run_s": warm["wall_s"], "cold_s": cold["wall_s"], "warm": warm, "cold": cold,
            "command": "xxgk run --full --year 2024 (bundled samples)"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_small")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    args = ap.parse_args(argv)
    print(json.dumps(run(args.out), ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
