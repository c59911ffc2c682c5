"""An unchanged re-run's fetch started ahead, in a process of its own (flows/steps/fetch_ahead.py): the fetch step
takes what it fetched, or fetches itself when it is not the same fetch; either way the same outcomes.

Against a loopback server that counts the conditional requests, each scenario in a fresh process
(tests/flows/fetch_ahead_scenarios.py).
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.serve import serve_samples

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sources" / "samples"
PAGES = ["liupanshui_2024.html", "qiaokou_2024.html", "nanbin_2024.html"]
SCENARIOS = Path(__file__).with_name("fetch_ahead_scenarios.py")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """Three pages on a loopback server, fetched once into a raw store (a first run's fetch)."""
    tmp = tmp_path_factory.mktemp("fetch-ahead")
    site = tmp / "site"
    site.mkdir()
    for name in PAGES:
        shutil.copy(SAMPLES / name, site / name)
    asked: collections.Counter = collections.Counter()

    def count(path, headers) -> None:  # the conditional requests, per page
        if headers.get("If-None-Match") or headers.get("If-Modified-Since"):
            asked[path] += 1

    with serve_samples(site, port=0, watch=count) as base:
        registry = tmp / "registry.csv"
        registry.write_text("agency,year,url,province,city,county,level,parent\n" + "".join(
            f"机关{i},2024,{base}/{name},省,,,市,\n" for i, name in enumerate(PAGES)), encoding="utf-8")
        yield tmp, registry, asked


def scenario(name: str, home: Path, registry: Path) -> dict:
    done = subprocess.run([sys.executable, str(SCENARIOS), name, str(home), str(registry)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def home(stored, tmp_path):
    """A data folder whose raw store holds the three pages (a copy per test)."""
    tmp, registry, _asked = stored
    first = tmp / "first"
    if not first.exists():
        got = scenario("first", first, registry)
        assert got["fetch"] == ["fetched"] * 3
    shutil.copytree(first, tmp_path / "home")
    return tmp_path / "home"


def asked_while(stored, name: str, home: Path) -> tuple[dict, dict]:
    """The scenario's result, and the conditional requests the server saw meanwhile, per page."""
    asked = stored[2]
    asked.clear()
    got = scenario(name, home, stored[1])
    return got, {f"/{p}": asked[f"/{p}"] for p in PAGES}


def test_the_step_takes_the_fetch_started_ahead(home, stored):
    got, asked = asked_while(stored, "rerun", home)
    assert got["started"]
    assert got["fetch"] == ["not_modified"] * 3
    assert all(got["sha"])
    assert asked == {f"/{p}": 1 for p in PAGES}  # one conditional request per page: the step did not ask again
    assert "fetched 3/3" in got["lines"]  # the fetch process's progress, relayed by the step
    assert got["meanwhile"] == 1  # the step's own work was done while it waited
    assert not got["still_waiting"]


def test_a_fetch_ahead_with_other_settings_is_not_taken(home, stored):
    taken = scenario("rerun", home, stored[1])
    got, asked = asked_while(stored, "other_settings", home)
    assert got["started"]
    assert got["fetch"] == ["not_modified"] * 3 and got["sha"] == taken["sha"]
    assert asked == {f"/{p}": 2 for p in PAGES}  # the head start's requests, then the step's own
    assert not got["still_waiting"]


def test_a_fetch_process_that_died_leaves_the_fetch_to_the_step(home, stored):
    got = scenario("died", home, stored[1])
    assert got["started"]
    assert got["fetch"] == ["not_modified"] * 3
    assert not got["still_waiting"]


@pytest.mark.parametrize("name", ["beside_a_thread", "full_run"])
def test_not_started_beside_other_threads_nor_for_a_full_run(home, stored, name):
    assert scenario(name, home, stored[1]) == {"started": False}
