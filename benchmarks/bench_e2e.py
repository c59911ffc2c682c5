"""End to end: the Prefect flow ``etl_year`` against a bare loop, side by side in one run.

    .venv/bin/python -m benchmarks.bench_e2e [--n 10000] [--out benchmarks/out]

1. The corpus (benchmarks.corpus, reused when already generated with the same parameters)
   is served by its own process on loopback (benchmarks.serve_corpus).
2. A Prefect server is started once (benchmarks.prefect_server), as a deployment has one.
3. Three rounds (``ROUNDS``) of, in this order, each in a fresh process on a fresh data folder:
   the bare loop (benchmarks.bare_loop), the pipeline's first run (benchmarks.run_pipeline:
   ``etl_year`` with the fetch politeness relaxed for loopback), and the pipeline again with
   nothing changed (same data folder: 304 answers, parse cache hits, loads that change
   nothing). Each ratio is the median of the three rounds' ratios; every round is reported.
4. The published marts are queried read-only (benchmarks.bench_marts).

Every process is measured from outside: wall time, CPU time (user + system) and peak RSS
(``ru_maxrss`` from ``os.wait4``), and from inside (seconds of the run, imports excluded).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import bench_marts, corpus
from benchmarks.prefect_server import prefect_env, prefect_server
from benchmarks.removal import deferred_removal
from benchmarks.serve_corpus import serve_in_process

ROOT = Path(__file__).resolve().parent.parent


def _become_subreaper() -> bool:
    """Linux: make this process the reaper of its descendants' orphans (prctl PR_SET_CHILD_SUBREAPER).

    A measured child's CPU time from ``wait4`` counts only the descendants that were waited for
    along the way. The pipeline's fork server, its parse and fetch workers and the validators are
    not all waited for by their parents when the run ends: their CPU time was lost, and the
    pipeline's "CPU" figure was about half of what its processes spent. As the subreaper this
    process inherits those orphans, waits for them, and so counts them."""
    import ctypes

    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _children() -> set[int]:
    me, kids = os.getpid(), set()
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                with open(f"/proc/{p}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == me:
                kids.add(int(p))
    return kids


def _reap_orphans(known: set[int], timeout: float = 30.0) -> None:
    """Wait for the descendants of a finished child that became ours (``_become_subreaper``)."""
    deadline = time.monotonic() + timeout
    while True:
        orphans = _children() - known
        if not orphans:
            return
        for pid in orphans:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        if time.monotonic() > deadline:
            for pid in _children() - known:  # a straggler: stop it, and count it
                with contextlib.suppress(ProcessLookupError, ChildProcessError):
                    os.kill(pid, 9)
                    os.waitpid(pid, 0)
            return
        time.sleep(0.02)


def measure(args: list[str], env: dict[str, str] | None = None, label: str = "") -> dict:
    """Run ``python -m <args>`` in a child; its wall time, the CPU time (user + system) of the
    child and every process it started (``cpu_s``; ``cpu_process_s`` is the child's own
    ``wait4`` figure, which loses the CPU of descendants nobody waited for), peak RSS of the
    child, plus its JSON line."""
    tree = _become_subreaper()
    known = _children()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", *args], cwd=ROOT, env=env, stdout=out, stderr=err,
                                text=True)
        _pid, status, ru = os.wait4(proc.pid, 0)  # the rusage of this child (and what it waited for)
        wall = time.perf_counter() - t0
        if tree:
            _reap_orphans(known)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if code != 0:
        raise RuntimeError(f"{label or args[0]} failed (exit {code}):\n{stderr[-3000:]}")
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    inner = json.loads(lines[-1]) if lines else {}
    own = ru.ru_utime + ru.ru_stime
    whole = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime) if tree else own
    return {"wall_s": round(wall, 3), "cpu_s": round(whole, 3), "cpu_process_s": round(own, 3),
            "cpu_whole_tree": tree,
            "peak_rss_mb": round(ru.ru_maxrss / 1024, 1),  # Linux reports kilobytes
            "inner_s": inner.get("seconds"), "detail": inner}


def pipeline_parse_processes(env: dict[str, str]) -> int:
    """The parse pool's size in the pipeline's runs (flows.steps.parsing: ``parse_workers`` or one per core)."""
    from flows.parsepool import default_workers

    return int(env.get("XXGK_PARSE_WORKERS") or 0) or default_workers()


def source_fingerprint() -> str:
    """Hash of the project's Python and SQL sources (a change between the runs invalidates them)."""
    h = hashlib.sha256()
    for pkg in ("flows", "transforms", "expectations", "warehouse", "sources"):
        for p in sorted((ROOT / pkg).rglob("*")):
            if p.suffix in (".py", ".sql") and p.is_file():
                h.update(str(p.relative_to(ROOT)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


ROUNDS = 3  # rounds of (bare loop, first run, re-run): one run of each varies by +-5 % on this machine


def _median(values: list[float]) -> float:
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def run(n: int, out: str | Path, seed: int = 0, year: int = 2024, keep: bool = False, progress=print,
        rounds: int = ROUNDS) -> dict:
    """``rounds`` rounds, each the bare loop, the pipeline's first run and its unchanged re-run back to back
    (fresh data folders each round); each ratio is the median of the rounds' own ratios (the two runs of a
    ratio are measured next to each other), every round's figures are kept in ``rounds``."""
    out = Path(out).resolve()
    with deferred_removal(out) as remove:  # nothing is deleted while the runs are measured (benchmarks/removal.py)
        return _run(n, out, remove, seed, year, keep, progress, rounds)


def _run(n: int, out: Path, remove, seed: int, year: int, keep: bool, progress, rounds: int) -> dict:
    corpus_dir = out / "corpus"
    work = out / "e2e"
    remove(work)
    work.mkdir(parents=True)
    progress(f"corpus: {n} reports in {corpus_dir}")
    info = corpus.generate_apart(n, corpus_dir, seed=seed, year=year)  # this process stays small
    code_at_start = source_fingerprint()
    results: dict = {"reports": n, "corpus": {"counts": info.counts, "bytes": info.bytes, "seed": seed}}
    measured: list[dict] = []
    with serve_in_process(corpus_dir) as base, prefect_server(work / "prefect") as api:
        registry = corpus.registry_for(corpus_dir, base, work / "registry.csv")
        env = prefect_env(work / "prefect", api)
        for var in [v for v in env if v.startswith("XXGK_")]:
            del env[var]  # only what run_pipeline sets: no setting leaks in from the shell
        for r in range(1, rounds + 1):
            last = r == rounds
            home = work / "pipeline" if last else work / f"pipeline-{r}"
            progress(f"round {r}/{rounds}: bare loop: fetch, parse, load")
            bare = measure(["benchmarks.bare_loop", "--registry", str(registry), "--home", str(work / "bare"),
                            "--year", str(year)], env, "bare loop")
            remove(work / "bare")
            progress(f"  {bare['wall_s']} s")
            pipe_args = ["benchmarks.run_pipeline", "--registry", str(registry), "--home", str(home),
                         "--year", str(year)]
            progress(f"round {r}/{rounds}: pipeline (etl_year), first run")
            first = measure(pipe_args, env, "pipeline")
            progress(f"  {first['wall_s']} s")
            progress(f"round {r}/{rounds}: pipeline (etl_year), unchanged re-run")
            rerun = measure(pipe_args, env, "pipeline re-run")
            progress(f"  {rerun['wall_s']} s")
            measured.append({"bare": bare, "pipeline_first": first, "pipeline_rerun": rerun})
            if not last:
                remove(home)
    marts = bench_marts.run(work / "pipeline" / "marts.duckdb")
    # "Nothing changed" must hold for the re-run to mean anything: a parser change between
    # the two runs (another parser version) makes it a full re-parse.
    unchanged = all((m["pipeline_rerun"]["detail"].get("counts") or {}).get("fetched") == 0 and
                    (m["pipeline_rerun"]["detail"].get("counts") or {}).get("parse_cached") ==
                    (m["pipeline_rerun"]["detail"].get("counts") or {}).get("parsed") for m in measured) \
        and source_fingerprint() == code_at_start
    if not unchanged:
        progress("WARNING: a re-run was not a run with nothing changed; its ratio is not valid")

    def ratio(a: str, b: str, key: str) -> float:
        return round(_median([m[a][key] / m[b][key] for m in measured]), 3)

    per_round = [{
        "bare_s": m["bare"]["wall_s"], "first_s": m["pipeline_first"]["wall_s"],
        "rerun_s": m["pipeline_rerun"]["wall_s"],
        "pipeline_over_bare": round(m["pipeline_first"]["wall_s"] / m["bare"]["wall_s"], 3),
        "rerun_over_first": round(m["pipeline_rerun"]["wall_s"] / m["pipeline_first"]["wall_s"], 3),
        "bare_cpu_s": m["bare"]["cpu_s"], "first_cpu_s": m["pipeline_first"]["cpu_s"],
        "rerun_cpu_s": m["pipeline_rerun"]["cpu_s"],
    } for m in measured]
    # The round whose first run is the median one stands for all in "runs" (its details).
    middle = sorted(measured, key=lambda m: m["pipeline_first"]["wall_s"])[len(measured) // 2]
    results.update({
        "bare_parse_processes": middle["bare"]["detail"].get("parse_processes"),
        "pipeline_parse_processes": pipeline_parse_processes(env),
        "pipeline_over_bare": ratio("pipeline_first", "bare", "wall_s"),
        "pipeline_over_bare_cpu": ratio("pipeline_first", "bare", "cpu_s"),
        "pipeline_over_bare_inner": ratio("pipeline_first", "bare", "inner_s"),
        "rerun_over_first": ratio("pipeline_rerun", "pipeline_first", "wall_s"),
        "rerun_over_first_cpu": ratio("pipeline_rerun", "pipeline_first", "cpu_s"),
        "rerun_unchanged": unchanged,
        "rerun_took_last_run_outcomes": all(bool(m["pipeline_rerun"]["detail"].get("unchanged_since"))
                                            for m in measured),
        "peak_rss_mb": max(max(m["pipeline_first"]["peak_rss_mb"], m["pipeline_rerun"]["peak_rss_mb"])
                           for m in measured),
        "mart_query_ms": marts["mart_query_ms"],
        "rounds": per_round,
        "runs": middle,
        "marts": marts,
    })
    if not keep:
        remove(work / "bare")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_e2e")
    ap.add_argument("--n", type=int, default=int(os.environ.get("XXGK_BENCH_N", "10000")))
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=ROUNDS, help=f"rounds of the three runs (default {ROUNDS})")
    args = ap.parse_args(argv)
    res = run(args.n, args.out, args.seed, progress=lambda m: print(m, file=sys.stderr, flush=True),
              rounds=args.rounds)
    print(json.dumps(res, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
