"""Where a run's time goes: its progress lines, timed, beside the machine's busy cores.

    .venv/bin/python -m benchmarks.timeline --registry REG.csv --home DIR --year 2024 [--prefect]

Runs one year of the pipeline in a fresh process (``flows.plan.run_year``; ``--prefect``: the flow ``etl_year``
as `xxgk run --prefect` imports it, through ``PREFECT_API_URL``) and prints each progress line with the seconds
since the process started, the seconds since the line before, and the mean number of busy cores of the whole
machine in between (``/proc/stat``, sampled every ``SAMPLE_S``). A phase at ~2 busy cores on a 2-core machine is
CPU-bound; one at ~1 leaves a core idle. The loopback politeness is relaxed as the benchmark relaxes it
(benchmarks/run_pipeline.py). Used for the phase tables of docs/BENCHMARKS.md (round 11).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SAMPLE_S = 0.25
MARK = "@xxgk-timeline "

_CHILD = r'''
import logging, os, sys, time
MARK = sys.argv[5]

def say(message):  # straight to the file: a flow run captures print() (log_prints) and would log it again
    os.write(1, f"{MARK}{time.time():.3f} {' '.join(str(message).split())[:160]}\n".encode())

say("start")
from flows.commands.common import done, end_at_once_when_done
end_at_once_when_done()  # ends as `xxgk run` does: after the exit handlers that stop the process pools
from benchmarks.run_pipeline import set_environment
set_environment(sys.argv[1], sys.argv[2])
from flows.settings import load_settings
year = int(sys.argv[3])
if sys.argv[4] == "prefect":
    from flows.commands.common import import_etl
    etl_year = import_etl(year, load_settings()).etl_year
    say("imported")

    class Lines(logging.Handler):
        def emit(self, record):
            say(record.getMessage())

    logging.getLogger("prefect").addHandler(Lines())
    etl_year(year=year, sources=sys.argv[1])
else:
    from flows.plan import run_year
    say("imported")
    run_year(year, load_settings(), progress=say)
say("end")
done(0)
'''


def busy_cores() -> tuple[int, int] | None:
    """(busy, total) jiffies of the whole machine so far; None without /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def run(registry: str | Path, home: str | Path, year: int, prefect: bool = False) -> dict:
    """The run's lines as (seconds since start, message) and the samples as (seconds, busy cores)."""
    cores = os.cpu_count() or 1
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    t0 = time.time()

    def sample() -> None:
        last = busy_cores()
        while last is not None and not stop.wait(SAMPLE_S):
            now = busy_cores()
            if now is None:
                return
            samples.append((time.time() - t0, (now[0] - last[0]) / max(1, now[1] - last[1]) * cores))
            last = now

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryFile("w+", encoding="utf-8") as out:
        # A file, not a pipe: the run's worker processes keep a pipe open after it ended.
        done = subprocess.run([sys.executable, "-c", _CHILD, str(registry), str(home), str(year),
                               "prefect" if prefect else "plain", MARK], stdout=out, stderr=subprocess.STDOUT,
                              cwd=root, check=False)
        stop.set()
        sampler.join()
        out.seek(0)
        text = out.read()
    lines = []
    for line in text.splitlines():
        if line.startswith(MARK):
            stamp, _, message = line[len(MARK):].partition(" ")
            lines.append((float(stamp) - t0, message))
    return {"lines": lines, "samples": samples, "returncode": done.returncode,
            "output": "" if done.returncode == 0 else text[-3000:]}


def mean_busy(samples: list[tuple[float, float]], start: float, end: float) -> float | None:
    """Mean busy cores of the samples whose interval ends in [start, end + SAMPLE_S): those covering the span."""
    within = [c for t, c in samples if start <= t < end + SAMPLE_S]
    return sum(within) / len(within) if within else None


def table(result: dict) -> str:
    rows, before = [], 0.0
    for t, message in result["lines"]:
        busy = mean_busy(result["samples"], before, t)
        rows.append(f"{t:7.2f}  +{t - before:5.2f}  {'   - ' if busy is None else f'{busy:4.2f} '} {message}")
        before = t
    everything = [c for _t, c in result["samples"]]
    mean = f"{sum(everything) / len(everything):.2f}" if everything else "-"
    return "\n".join(["      s  since  cores  line", *rows, f"{before:.2f} s in all, mean busy cores {mean}"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.timeline", description=__doc__.split("\n\n")[0])
    ap.add_argument("--registry", required=True, help="registry CSV")
    ap.add_argument("--home", required=True, help="data folder of the run")
    ap.add_argument("--year", type=int, required=True)
    ap.add_argument("--prefect", action="store_true", help="the Prefect flow etl_year (PREFECT_API_URL)")
    args = ap.parse_args(argv)
    result = run(args.registry, args.home, args.year, args.prefect)
    print(table(result))
    if result["returncode"] != 0:
        print(f"the run ended with status {result['returncode']}:\n{result['output']}", file=sys.stderr)
    return result["returncode"]


if __name__ == "__main__":
    sys.exit(main())
