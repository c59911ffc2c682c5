"""Hostile input: the parser answers every input with the contract object, in bounded time.

Every input is parsed in a worker process (rel_fuzz.FuzzPool, one per core) under a hard
per-document time limit and a memory limit. An input ends ``parsed`` (a table was read) or
``quarantined`` (no table; an error finding says why); anything else (an exception, output
breaking the contract, a hang, a dead worker) fails the test with the input's coordinates,
from which ``python tests/reliability/rel_fuzz.py FAMILY SEED INDEX OUT`` rebuilds it.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
import rel_fuzz as rf
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rel_site import watching_server

from testkit import synth
from transforms import formatspec as fs
from transforms.parse import parse_report

pytestmark = pytest.mark.reliability


@pytest.fixture(scope="module")
def pool(scale):
    with rf.FuzzPool(workers=scale.workers, timeout=scale.fuzz_timeout) as p:
        yield p


@pytest.fixture(scope="module")
def fuzz_totals(figures):
    totals = figures.setdefault("fuzz", {"inputs": 0, "parsed": 0, "quarantined": 0, "failures": 0,
                                         "by_family": {}, "slowest_seconds": 0.0, "slowest_input": ""})
    return totals


def _account(totals: dict, stats: rf.FuzzStats) -> None:
    totals["inputs"] += stats.total
    totals["parsed"] += stats.counts["parsed"]
    totals["quarantined"] += stats.counts["quarantined"]
    totals["failures"] += len(stats.failures)
    for fam, c in stats.by_family.items():
        agg = Counter(totals["by_family"].get(fam, {}))
        agg.update(c)
        totals["by_family"][fam] = dict(agg)
    if stats.slowest > totals["slowest_seconds"]:
        totals["slowest_seconds"], totals["slowest_input"] = round(stats.slowest, 2), stats.slowest_input


def _report(stats: rf.FuzzStats) -> str:
    seen: dict[tuple, int] = {}
    lines = []
    for f in stats.failures:
        key = (f["status"], f["detail"][:80])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 1:
            lines.append(f"{f['status']}: {f['input']}: {f['detail'][:300]}")
    return f"{len(stats.failures)} of {stats.total} inputs failed:\n" + "\n".join(lines[:25])


@pytest.fixture(scope="module")
def watcher():
    """A loopback server the hostile documents point their external entities and DTDs at."""
    with watching_server() as w:
        yield w


# ----------------------------------------------------------------------------- named hostile catalogue
CATALOGUE = ([("html_hostile", i) for i in range(12)] + [("pdf_hostile", i) for i in range(10)]
             + [("docx_hostile", i) for i in range(11)])


@pytest.mark.slow
def test_hostile_catalogue_each_answered_in_time(pool, scale, watcher, fuzz_totals):
    """Deep nesting, huge tables, billion laughs, XXE, compression and zip bombs, broken and
    encrypted PDFs: each one is parsed or quarantined within the time limit, and none of
    them makes the parser touch the network."""
    base, hits = watcher
    stats = rf.FuzzStats()
    seeds = range(1, 6 if scale.full else 2)  # other seeds vary sizes and depths
    jobs = [(fam, {"family": fam, "seed": s, "index": i, "loopback": base}) for s in seeds for fam, i in CATALOGUE]
    try:
        pool.run(jobs, stats)
    finally:
        _account(fuzz_totals, stats)
    assert hits == [], f"the parser fetched {hits} while reading hostile documents"
    assert not stats.failures, _report(stats)


# ----------------------------------------------------------------------------- bulk mutation fuzzing
@pytest.mark.slow
def test_mutation_fuzzing_every_input_parsed_or_quarantined(pool, scale, fuzz_totals, watcher):
    """Random mutations of real seeds, of every synth layout, of rendered pages and PDFs,
    plus generated hostile documents and random bytes (XXGK_FUZZ_EXAMPLES of them)."""
    base, hits = watcher
    stats = rf.FuzzStats()
    try:
        pool.run(rf.mixed_jobs(scale.fuzz_examples, seed=2024, loopback=base), stats)
    finally:
        _account(fuzz_totals, stats)
    assert stats.total >= scale.fuzz_examples
    # Both outcomes occur: the mutations are neither all harmless nor all destructive.
    assert stats.counts["parsed"] > 0 and stats.counts["quarantined"] > 0
    assert hits == []
    assert not stats.failures, _report(stats)


# ----------------------------------------------------------------------------- property-based (hypothesis)
def _hyp_examples(scale, per_example: int) -> int:
    # A tenth of the fuzzing budget goes to hypothesis; the rest is the bulk mutation run.
    return max(20, scale.fuzz_examples // 10 // per_example // 3)


_PREFIX = st.sampled_from([b"", b"%PDF-1.4\n", b"PK\x03\x04", b"<html><body><table>", b"\xef\xbb\xbf", b"\xff\xfe",
                           b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"])
_BYTES = st.tuples(_PREFIX, st.binary(max_size=3000)).map(lambda t: t[0] + t[1])

_WORDS = st.sampled_from(rf.tokens())
_TEXT = st.lists(st.one_of(_WORDS, st.text(max_size=30), st.integers(-10**20, 10**20).map(str)), max_size=40).map(
    " ".join)
_ATTR = st.sampled_from(["", ' colspan="{}"', ' rowspan="{}"', ' colspan="{}" rowspan="{}"'])
_TAG = st.sampled_from(["table", "tr", "td", "th", "tbody", "div", "p", "span", "br", "b", "caption", "script",
                        "title", "a", "img", "font", "iframe"])


def _elem(children):
    return st.tuples(_TAG, _ATTR, st.integers(-3, 10**6), st.lists(children, max_size=6)).map(
        lambda t: f"<{t[0]}{t[1].format(t[2], t[2])}>" + "".join(t[3]) + (f"</{t[0]}>" if t[2] % 3 else ""))


_HTML = st.recursive(_TEXT, _elem, max_leaves=60).map(lambda body: f"<html><body>{body}</body></html>".encode())
_CTYPE = st.sampled_from([None, "text/html", "text/html; charset=gbk", "text/plain; charset=utf-16",
                          "application/pdf", "text/html; charset=nonsense"])


@pytest.mark.slow
def test_property_random_bytes_and_html_trees(pool, scale, fuzz_totals):
    """Hypothesis: raw bytes behind every magic prefix, and random HTML trees of table
    markup (absurd spans, unclosed tags) with the format's own label words as text."""
    stats = rf.FuzzStats()
    per = 8

    # No shrinking: each failure is already reported with its input, and shrinking through
    # worker processes would take minutes.
    @settings(max_examples=_hyp_examples(scale, per), deadline=None, database=None,
              suppress_health_check=list(HealthCheck), phases=(Phase.explicit, Phase.generate))
    @given(st.lists(st.tuples(st.one_of(_BYTES, _HTML), _CTYPE), min_size=per, max_size=per))
    def check(docs):
        before = len(stats.failures)
        pool.parse_bytes("hypothesis", docs, stats)
        assert len(stats.failures) == before, _report(stats)

    try:
        check()
    finally:
        _account(fuzz_totals, stats)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32), layout=st.sampled_from(synth.LAYOUTS + ("html",)),
       template=st.sampled_from(fs.TEMPLATES), scale_=st.sampled_from([9, 300, 10**6]))
def test_property_numbers_never_invented(seed, layout, template, scale_):
    """Hypothesis over synthetic reports (every layout, both templates, small and huge
    numbers): a number the parser outputs is the number printed, never a guess. Where the
    layout keeps cell boundaries, every cell comes back exactly; where cells ran together
    ("runs"), a cell is either split right or null with a finding."""
    from testkit.render import render_html

    rng = random.Random(seed)
    year = 2020 if template == fs.F2019 else 2024
    rep = synth.make_report(rng, template_ad=template, template_app=template, year=year, scale=scale_)
    if layout == "html":
        data = render_html(rep, title=f"{rep['agency']}{year}年政府信息公开工作年度报告", paragraphs=rf.PARAGRAPHS)
    else:
        data = synth.render_text(rep, layout).encode()
    out = parse_report(data)
    for table in fs.TABLES:
        for item, row in rep[table].items():
            for measure, want in row.items():
                got = out[table][item][measure]
                if layout == "runs" and got is None:
                    continue
                assert got == want, f"{layout} {template}: {table}.{item}.{measure} read {got!r}, printed {want!r}"


def test_fuzz_pool_kills_a_hang_and_carries_on():
    """The harness itself: an input that never finishes is killed at the time limit and
    reported as a hang; the replaced worker parses the next inputs."""
    stats = rf.FuzzStats()
    with rf.FuzzPool(workers=1, timeout=2) as p:
        p.run([("selftest", {"family": "seed_mut", "seed": 0, "index": 0}),
               ("selftest", {"family": "_hang", "seed": 0, "index": 0}),
               ("selftest", {"family": "seed_mut", "seed": 0, "index": 1})], stats)
    assert stats.counts["hang"] == 1, stats.failures
    assert stats.counts["parsed"] + stats.counts["quarantined"] == 2
