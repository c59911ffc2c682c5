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
    out = parsing.parse_batch(items[:1], settings)
    assert out[keys[0]]["ok"] and out[keys[0]]["cached"] is False  # parsed in this run, not from an earlier one
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
    assert parsing.parse_batch(items[:1], settings)[keys[0]]["cached"] is True  # a later run: from the cache
