"""Bodies parsed while the fetch goes on (flows/steps/parsing.py EarlyParse): the parse step takes
those results as this run's parses, and never trusts the parse of a damaged body."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flows.settings import load_settings
from flows.steps import parsing
from sources.rawstore import RawStore

pytestmark = pytest.mark.slow  # parse worker processes

SEED = sorted((Path(__file__).parent.parent / "fixtures" / "seeds").glob("*.txt"))[0]


def test_parsed_while_fetching_counts_as_parsed_in_this_run(tmp_path, monkeypatch):
    settings = load_settings(env={}, home=tmp_path / "home")
    store = RawStore(settings.raw_dir)
    good, _ = store.put(SEED.read_bytes())
    bad, _ = store.put(SEED.read_bytes() + b"\n")
    store.path_of(bad).write_bytes(b"damaged on disk")
    items = [{"sha256": sha, "agency": "某机关", "year": 2024, "content_type": "text/plain; charset=utf-8"}
             for sha in (good, bad)]

    early = parsing.start_early_parse(settings)
    assert early is not None
    for it in items:
        early.offer(it["sha256"], it["agency"], it["year"], it["content_type"])
        early.offer(it["sha256"], it["agency"], it["year"], it["content_type"])  # offered once only
    keys = [parsing.parse_cache_key(it["sha256"], "某机关", 2024, parsing.parser_version()) for it in items]
    results = parsing.early_results(settings)
    assert list(results) == [keys[0]], "the damaged body's failure is not kept (it is repaired, then parsed)"

    def not_again(*_a, **_k):
        pytest.fail("a document parsed while fetching was parsed again")

    monkeypatch.setattr(parsing, "parse_one", not_again)
    said: list[str] = []
    out = parsing.parse_batch(items[:1], settings, progress=said.append)
    assert out[keys[0]]["ok"] and out[keys[0]]["cached"] is False  # parsed in this run, not from an earlier one
    assert said == ["parsed 1/1 (1 while fetching, 0 from the cache)"]  # not "all from the cache"
    path = parsing.cache_path(settings, keys[0])
    stored = path.read_bytes()
    entry = json.loads(bytes(parsing.entry_parts(stored)[0]))
    assert entry["report"]
    rows = parsing.stored_rows(settings, keys[0])  # the staging rows, built by the worker
    assert rows is not None and rows.cells.num_rows > 100 and json.loads(rows.payload) == entry["report"]
    assert rows.head == {k: entry["report"][k] for k in ("agency", "year", "templates")}
    path.write_text(json.dumps(entry), encoding="utf-8")
    assert parsing.stored_rows(settings, keys[0]) is None  # an entry rewritten since (an OCR reading): not its rows
    assert parsing._read_cache(settings, keys[0])["report"] == entry["report"]
    path.write_bytes(stored)
    parsing.drop_early_results(settings)
    assert parsing.early_results(settings) == {}
    said.clear()
    assert parsing.parse_batch(items[:1], settings, progress=said.append)[keys[0]]["cached"] is True  # a later run
    assert said == ["parsed 1/1 (0 while fetching, 1 from the cache)"]


_START_IN_A_FRESH_PROCESS = """
import json, sys
from multiprocessing import forkserver
from flows.plan import start_parse_server
from flows.settings import load_settings
home, full, timeout = sys.argv[1], sys.argv[2] == "1", float(sys.argv[3])
settings = load_settings(env={}, home=home).with_overrides(full_run=full, parse_timeout=timeout)
started = start_parse_server(2024, settings)
pid = forkserver._forkserver._forkserver_pid
cmdline = open(f"/proc/{pid}/cmdline", "rb").read().decode() if pid else ""
print(json.dumps({"started": started, "server": pid is not None, "preload": cmdline}))
"""


def _start_parse_server(home: Path, full: bool = False, timeout: float = 120.0) -> dict:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _START_IN_A_FRESH_PROCESS, str(home), "1" if full else "0",
                          str(timeout)], capture_output=True, text=True, check=True, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_parse_workers_server_starts_before_a_run_that_parses_and_not_before_an_unchanged_one(tmp_path):
    from flows import runrecord
    from flows.parsepool import PRELOAD

    home = tmp_path / "home"
    first = _start_parse_server(home)
    assert first["started"] and first["server"]
    assert all(m in first["preload"] for m in PRELOAD), "started with the parse pool's preload"

    record = runrecord.record_path(home, 2024)  # a last complete run: likely unchanged, nothing to start
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("{}")
    assert _start_parse_server(home) == {"started": False, "server": False, "preload": ""}
    assert _start_parse_server(home, full=True)["started"], "--full parses again"
    assert not _start_parse_server(home, full=True, timeout=0)["server"], "no workers: parsed in the process"
