"""Scale: the pipeline's first run over 10,000 and 100,000 reports; cost per report and memory.

    .venv/bin/python -m benchmarks.bench_scale [--sizes 10000,100000] [--out benchmarks/out]
        [--write benchmarks/scale.json]

For each size: the corpus (benchmarks.corpus, same seed, so the smaller corpus is not a
prefix of the larger but has the same mix), served by its own process on loopback, a Prefect
server, and one fresh ``etl_year`` run (benchmarks.run_pipeline) on a fresh data folder,
measured from outside (wall time, CPU time, peak RSS of the flow process from
``os.wait4``). Writes ``{"runs": [{reports, wall_s, per_report_ms, peak_rss_mb, ...}],
"machine": ..., "load": ...}``; ``per_report_ms`` at the largest size over that at the
smallest is ``cost_ratio`` (target <= 1.2).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

from benchmarks import corpus
from benchmarks.bench_e2e import measure, pipeline_parse_processes
from benchmarks.prefect_server import prefect_env, prefect_server
from benchmarks.removal import deferred_removal
from benchmarks.serve_corpus import serve_in_process

ROOT = Path(__file__).resolve().parent.parent


class LoadSampler:
    """The 1-minute load average every few seconds while a run goes on (other jobs share the machine)."""

    def __init__(self, every: float = 5.0) -> None:
        self.every = every
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> LoadSampler:
        self.samples.append(os.getloadavg()[0])
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        s = self.samples or [0.0]
        return {"mean": round(sum(s) / len(s), 2), "max": round(max(s), 2)}


def run_size(n: int, out: Path, seed: int = 0, year: int = 2024, progress=print, remove=None) -> dict:
    """One first run over ``n`` reports; ``remove``: benchmarks.removal's (deleted now when not given)."""
    remove = remove or (lambda path: shutil.rmtree(path, ignore_errors=True))
    corpus_dir = out / f"corpus-{n}"
    work = out / f"scale-{n}"
    remove(work)
    work.mkdir(parents=True)
    progress(f"corpus: {n} reports in {corpus_dir}")
    t0 = time.perf_counter()
    info = corpus.generate_apart(n, corpus_dir, seed=seed, year=year)  # this process stays small
    corpus_s = time.perf_counter() - t0
    with serve_in_process(corpus_dir) as base, prefect_server(work / "prefect") as api:
        registry = corpus.registry_for(corpus_dir, base, work / "registry.csv")
        env = prefect_env(work / "prefect", api)
        for var in [v for v in env if v.startswith("XXGK_")]:
            del env[var]
        progress(f"pipeline (etl_year), first run over {n} reports")
        with LoadSampler() as load:
            first = measure(["benchmarks.run_pipeline", "--registry", str(registry), "--home",
                             str(work / "pipeline"), "--year", str(year)], env, f"pipeline {n}")
        progress(f"  {first['wall_s']} s")
    remove(work / "pipeline")
    counts = first["detail"].get("counts") or {}
    return {
        "reports": n, "wall_s": first["wall_s"], "per_report_ms": round(first["wall_s"] / n * 1000, 3),
        "cpu_s": first["cpu_s"], "peak_rss_mb": first["peak_rss_mb"], "parse_processes": pipeline_parse_processes(env),
        "published": counts.get("published"), "quarantined": counts.get("quarantined"),
        "corpus_bytes": info.bytes, "corpus_s": round(corpus_s, 1), "load_average_1min": load.summary(),
    }


def machine() -> dict:
    from benchmarks.run_all import machine as machine_info

    return machine_info()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="comma-separated report counts")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--write", default=str(ROOT / "benchmarks" / "scale.json"))
    args = ap.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    out = Path(args.out).resolve()
    runs = []
    with deferred_removal(out) as remove:  # nothing deleted while a run is measured (benchmarks/removal.py)
        for n in sizes:
            runs.append(run_size(n, out, progress=lambda m: print(m, file=sys.stderr, flush=True), remove=remove))
            result = {
                "runs": runs, "sizes_asked": sizes,
                "cost_ratio": round(runs[-1]["per_report_ms"] / runs[0]["per_report_ms"], 3) if len(runs) > 1 else None,
                "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                "machine": machine(), "load": {"cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg()},
                "command": "python -m benchmarks.bench_scale " + " ".join(argv if argv is not None else sys.argv[1:]),
                "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            Path(args.write).write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
