"""The parsed-cache entry and its staging rows (flows/steps/parsing.py write_cache): built from the
result itself only when its JSON reads back the same (json_plain), else from the JSON read back."""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import OrderedDict
from decimal import Decimal
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.steps.parsing import entry_parts, parse_one, write_cache
from warehouse.rows import content_rows, json_plain, payload, read_rows

SEED = Path(__file__).resolve().parents[1] / "fixtures" / "seeds"

_plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(_plain)
def test_what_json_plain_accepts_reads_back_the_same(obj):
    assert json_plain(obj)
    back = json.loads(json.dumps(obj, ensure_ascii=False, default=str))
    assert back == obj and repr(back) == repr(obj)  # same values, types and key order


def test_what_json_would_change_is_not_plain():
    for obj in ({"a": (1, 2)}, {"a": [Decimal("1.5")]}, {1: "a"}, {"a": {"b": [dt.date(2024, 1, 1)]}},
                OrderedDict(a=1), {"a": [[{"b": {2}}]]}, {"a": True, None: 1}):
        assert not json_plain(obj), obj
    assert json_plain({"a": [math.nan, -0.0, 10**40, "政府", None, {"b": []}]})


def _result() -> dict:
    seed = next(p for p in sorted(SEED.iterdir()) if p.suffix in (".txt", ".html"))
    return parse_one(seed.read_bytes(), None, None, "text/plain; charset=utf-8" if seed.suffix == ".txt" else None)


def _written(tmp_path: Path, result: dict, name: str) -> tuple[str, bytes]:
    path = tmp_path / f"{name}.json"
    write_cache(path, result)
    head, tail = entry_parts(path.read_bytes())
    assert tail is not None
    text = bytes(head).decode("utf-8")
    entry = json.loads(text)
    rows = read_rows(tail, head)
    assert rows is not None
    want = content_rows(entry["report"], entry.get("narrative"))  # what the entry's JSON gives
    # the same rows; the cells in the parser's order, which the JSON's report (keys sorted, as stored in
    # stg_document.report_json) does not keep
    assert (rows.small, rows.head, rows.payload) == (want.small, want.head, want.payload)
    assert sorted(rows.cells.to_pylist(), key=repr) == sorted(want.cells.to_pylist(), key=repr)
    return text, bytes(tail)


def test_the_rows_are_those_of_the_entry_as_its_json_reads(tmp_path):
    plain = _result()
    assert json_plain(plain)
    # The same report with values the JSON turns into others: a tuple, a Decimal cell, an int key.
    odd = json.loads(json.dumps(plain))
    table = next(t for t in ("applications", "active_disclosure") if isinstance(odd["report"].get(t), dict))
    item = next(iter(odd["report"][table]))
    measure = next(iter(odd["report"][table][item]))
    odd["report"][table][item][measure] = Decimal(7)
    odd["attachments"] = (("a.pdf", "附件"),)
    odd["report"]["extra"] = {3: "x"}
    assert not json_plain(odd)
    path = tmp_path / "odd.json"
    write_cache(path, odd)
    head, tail = entry_parts(path.read_bytes())
    entry = json.loads(bytes(head))
    assert tail is None  # the JSON makes the Decimal cell "7", not a number: no rows
    assert entry["report"][table][item][measure] == "7" and entry["report"]["extra"] == {"3": "x"}
    text, rows = _written(tmp_path, plain, "plain")
    assert json.loads(text) == plain


def test_the_payload_is_stored_once_in_the_entrys_json(tmp_path):
    plain = _result()
    write_cache(tmp_path / "a.json", plain)
    head, tail = entry_parts((tmp_path / "a.json").read_bytes())
    rows = read_rows(tail, head)
    assert rows is not None and rows.payload == payload(plain["report"])
    assert bytes(head).startswith(b'{"report": ' + rows.payload.encode())  # the report's JSON is the payload
    assert read_rows(tail, b"") is None and read_rows(tail, bytes(head)[:len(head) // 2]) is None  # not its JSON
    last = {"attachments": plain["attachments"], **plain}  # the report not first: the payload goes with the rows
    write_cache(tmp_path / "b.json", last)
    head, tail = entry_parts((tmp_path / "b.json").read_bytes())
    assert json.loads(bytes(head)) == last and read_rows(tail).payload == rows.payload


def test_a_nul_in_the_report_does_not_end_its_json(tmp_path):
    """The rows follow the entry's first NUL byte: a NUL in the report is an escape in its JSON."""
    result = _result()
    result["report"]["findings"] = [*result["report"].get("findings", []),
                                    {"code": "x", "severity": "info", "message": "a\x00b", "where": "document"}]
    text, rows = _written(tmp_path, result, "nul")
    assert json.loads(text) == result and read_rows(rows, text.encode()) is not None


def test_an_older_entry_loads_and_its_rows_are_built(tmp_path):
    """An entry of an earlier version (JSON only, its rows in a file beside it tied by a token) is a
    cache hit as before; the load takes no rows from it and builds them from its report."""
    from flows.settings import load_settings
    from flows.steps.parsing import cache_path, parse_cached, stored_rows

    settings = load_settings(env={}, home=tmp_path / "home")
    key = "ab" * 32
    path = cache_path(settings, key)
    path.parent.mkdir(parents=True)
    result = _result()
    path.write_text(json.dumps({**result, "rows_token": "0" * 32}, ensure_ascii=False), encoding="utf-8")
    path.with_suffix(".rows.arrow").write_bytes(b"xxgk-rows/1\n" + bytes(100))
    assert stored_rows(settings, key) is None
    hit = parse_cached(None, settings, key, {})
    assert hit["ok"] and hit["cached"] and hit["report"] == result["report"]
    built = content_rows(hit["report"], hit.get("narrative"))
    write_cache(tmp_path / "new.json", result)
    head, tail = entry_parts((tmp_path / "new.json").read_bytes())
    rows = read_rows(tail, head)
    assert (built.small, built.head, built.payload) == (rows.small, rows.head, rows.payload)
    assert built.cells.equals(rows.cells)  # the older entry keeps the parser's key order: the same cells, in order


def test_an_entry_cut_short_is_never_read_as_a_whole_one(tmp_path):
    """write_cache writes in place (no temporary file): a worker killed half-way leaves a prefix of the
    entry. Every prefix is a miss, or (cut after the JSON) the whole entry whose rows the load builds."""
    from flows.settings import load_settings
    from flows.steps.parsing import _read_cache, cache_path, stored_rows

    settings = load_settings(env={}, home=tmp_path / "home")
    key = "cd" * 32
    path = cache_path(settings, key)
    result = _result()
    write_cache(path, result)
    data = path.read_bytes()
    whole, rows = _read_cache(settings, key), stored_rows(settings, key)
    assert whole is not None and rows is not None and whole["report"] == result["report"]
    json_end = data.index(b"\0")
    for n in range(len(data)):
        path.write_bytes(data[:n])
        hit = _read_cache(settings, key)
        if n < json_end:
            assert hit is None, n
        else:
            assert hit == whole, n
        assert stored_rows(settings, key) is None, n
    path.write_bytes(data)
    assert stored_rows(settings, key).cells.equals(rows.cells)


def test_an_entry_is_written_again_whole_over_a_damaged_one(tmp_path):
    path = tmp_path / "ab" / "e.json"
    result = _result()
    path.parent.mkdir()
    path.write_bytes(b'{"report": {"agen')  # left by a killed worker
    write_cache(path, result)
    head, tail = entry_parts(path.read_bytes())
    assert json.loads(bytes(head)) == result and read_rows(tail, head) is not None
    assert [p.name for p in path.parent.iterdir()] == ["e.json"]
