"""Kill drills: ``xxgk run`` killed with SIGKILL at seeded points of every step.

Setup: a loopback site with six reports; run A (four of them) publishes first. Run B (all
six, one of them revised) is then killed again and again, each time at a point drawn from
a seeded schedule: a step (start-up, fetch, parse, load and validation, publish) chosen in
turn, and a delay within that step's duration as measured on an uninterrupted run. The
step is recognised from the run's own progress lines on stderr, so no hook in the
pipeline is needed.

After every kill: marts.duckdb is exactly publish A or publish B (compared fact table by
fact table), opens read-only (also with DuckDB 1.x when .venv-duckdb1 exists), and no
temporary file has taken its place. At the end of each chain of kills, one more run
completes: its facts equal those of the uninterrupted reference, with no duplicates and no
leftover temporary files.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest
import rel_marts as rm
from rel_site import Site, registry, report_page

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
YEAR = 2024
STEPS = [  # (name, progress line that starts it, progress line that ends it)
    ("start-up", None, "fetching"),
    ("fetch", "fetching", "parsing"),
    ("parse", "parsing", ": loading"),
    ("load", ": loading", "validating"),
    ("validate", "validating", "publishing"),
    ("publish", "publishing", None),
]


class Run:
    """``xxgk run`` as a child process whose stderr progress lines are timestamped."""

    def __init__(self, home: Path, reg: Path):
        env = {**os.environ, "XXGK_HOME": str(home), "XXGK_MIN_DELAY": "0", "XXGK_RETRIES": "1",
               "XXGK_TIMEOUT": "10"}
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "run", "--year", str(YEAR), "--sources",
                                      str(reg)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                     cwd=str(rm.REPO), start_new_session=True)
        self.lines: list[tuple[float, str]] = []
        self.seen = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            with self.seen:
                self.lines.append((time.monotonic() - self.t0, line.strip()))
                self.seen.notify_all()
        with self.seen:
            self.lines.append((time.monotonic() - self.t0, "<exit>"))
            self.seen.notify_all()

    def wait_for(self, marker: str | None, timeout: float = 120) -> float | None:
        """Seconds from start when a line containing ``marker`` appeared (None: the run ended first)."""
        if marker is None:
            return 0.0
        deadline = time.monotonic() + timeout
        with self.seen:
            while True:
                for t, line in self.lines:
                    if marker in line:
                        return t
                    if line == "<exit>":
                        return None
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no progress line {marker!r} within {timeout} s: {self.lines[-5:]}")
                self.seen.wait(left)

    def kill(self) -> bool:
        """SIGKILL the run (its own process group); False if it had already finished."""
        if self.proc.poll() is not None:
            return False
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        return True

    def finish(self, timeout: float = 300) -> tuple[int, str]:
        out = self.proc.stdout.read()  # stderr belongs to the reader thread
        self.proc.wait(timeout=timeout)
        self.wait_for("<exit>")
        return self.proc.returncode, out


def temp_files(home: Path) -> list[str]:
    return sorted(str(p.relative_to(home)) for p in [*home.glob(".marts.duckdb.tmp-*"),
                                                     *(home / "marts").glob(".*.tmp-*")])


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    """The site, registries A and B, the base home (A published) and the reference facts."""
    root = tmp_path_factory.mktemp("kill")
    site = Site()
    site.delay = 0.15  # fetches take a moment, so kills land inside the fetch step too
    rows_a, rows_b = [], []
    for i in range(6):
        agency = f"演练局{i}"
        _rep, page = report_page(agency, seed=i)
        url = site.page(f"/a{i}.html", page)
        if i < 4:
            rows_a.append((agency, YEAR, url))
        if i == 1:  # revised between A and B: a new version becomes current
            _rep, page = report_page(agency, seed=100 + i)
            url = site.page(f"/b{i}.html", page)
        rows_b.append((agency, YEAR, url))
    reg_a, reg_b = registry(root / "a.csv", rows_a), registry(root / "b.csv", rows_b)
    base = root / "base"
    code, out = Run(base, reg_a).finish()
    assert code == 0, out
    ref = root / "ref"
    shutil.copytree(base, ref)
    timeline = Run(ref, reg_b)
    code, out = timeline.finish()
    assert code == 0, out
    times = {}
    for name, start, end in STEPS:
        t_start = 0.0 if start is None else next(t for t, ln in timeline.lines if start in ln)
        t_end = next(t for t, ln in timeline.lines if (end or "<exit>") in ln)
        times[name] = max(0.05, t_end - t_start)
    yield {"site": site, "reg_b": reg_b, "base": base, "facts_a": rm.facts(base / "marts.duckdb"),
           "facts_b": rm.facts(ref / "marts.duckdb"), "times": times, "root": root}
    site.close()


def test_kill_drills_marts_always_whole_and_reruns_converge(drill, scale, figures):
    facts_a, facts_b = drill["facts_a"], drill["facts_b"]
    assert facts_a != facts_b  # B really changes the published data
    assert rm.duplicates(drill["base"] / "marts.duckdb") == dict.fromkeys(rm.KEYED, 0)
    rng = random.Random(20241)
    kills_per_chain = 5 if scale.full else scale.kill_points  # CI: one chain, to save the re-runs
    chains = max(1, -(-scale.kill_points // kills_per_chain))
    log: list[dict] = []
    problems: list[str] = []
    kills = 0
    for chain in range(chains):
        home = drill["root"] / f"chain{chain}"
        shutil.copytree(drill["base"], home)
        chain_kills = 0
        # A kill that lands after the run ended (the step was shorter this time) is a miss: the
        # same step is tried again (another delay), up to twice as many attempts as kills wanted.
        for _attempt in range(2 * kills_per_chain):
            if kills >= scale.kill_points or chain_kills >= kills_per_chain:
                break
            name, start, _end = STEPS[(chain * kills_per_chain + chain_kills) % len(STEPS)]
            delay = rng.uniform(0, drill["times"][name])
            run = Run(home, drill["reg_b"])
            at = run.wait_for(start)
            if at is not None:
                time.sleep(delay)
            killed = run.kill()
            entry = {"chain": chain, "step": name, "delay_s": round(delay, 3), "killed": killed,
                     "temp_left": temp_files(home)}
            if killed:
                kills += 1
                chain_kills += 1
            marts = home / "marts.duckdb"
            try:
                now = rm.facts(marts)
            except (duckdb.Error, OSError) as e:
                problems.append(f"after a kill in {name} (+{delay:.2f} s) marts.duckdb does not open: {e}")
                log.append(entry)
                continue
            entry["marts"] = "A" if now == facts_a else "B" if now == facts_b else "neither"
            if entry["marts"] == "neither":
                problems.append(f"after a kill in {name} (+{delay:.2f} s) marts.duckdb is neither publish A nor B")
            why = rm.opens_with_duckdb1(marts)
            if why:
                problems.append(f"after a kill in {name}: DuckDB 1.x cannot open marts.duckdb: {why}")
            log.append(entry)
        # One run to the end: it converges to the uninterrupted reference.
        code, out = Run(home, drill["reg_b"]).finish()
        if code != 0:
            problems.append(f"chain {chain}: the re-run after the kills failed: {out[-800:]}")
            continue
        final = rm.facts(home / "marts.duckdb")
        if final != facts_b:
            diff = {t for t in final if final[t] != facts_b[t]}
            problems.append(f"chain {chain}: the re-run's facts differ from the uninterrupted run in {sorted(diff)}")
        dups = rm.duplicates(home / "marts.duckdb")
        if any(dups.values()):
            problems.append(f"chain {chain}: duplicate rows after the re-run: {dups}")
        if temp_files(home):
            problems.append(f"chain {chain}: temporary files left after a completed run: {temp_files(home)}")
    steps_hit = sorted({e["step"] for e in log if e["killed"]})
    figures["kills"] = {"survived": kills - len([p for p in problems if "after a kill" in p]), "attempted": len(log),
                        "killed": kills, "chains": chains, "steps": steps_hit,
                        "mid_publish_temp_files_seen": sum(bool(e["temp_left"]) for e in log),
                        "marts_after_kill": {v: sum(e.get("marts") == v for e in log) for v in ("A", "B", "neither")},
                        "step_seconds": {k: round(v, 2) for k, v in drill["times"].items()}}
    assert not problems, "\n".join(problems)
    assert kills >= scale.kill_points, log
    assert len(steps_hit) >= min(len(STEPS), scale.kill_points), log
