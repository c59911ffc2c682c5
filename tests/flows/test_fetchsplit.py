"""Sharing a large fetch among processes keeps every host within its politeness limit."""

from __future__ import annotations

import pytest

from flows.fetchsplit import split_for_processes
from flows.settings import load_settings
from flows.steps.fetching import fetch_batch, load_sources
from testkit.serve import serve_samples


def _per_host_connections(hosts, parts):
    out: dict[str, int] = {}
    for p in parts:
        for h in {hosts[i] for i in p.indices}:
            out[h] = out.get(h, 0) + p.max_per_host
    return out


@pytest.mark.parametrize("processes", [1, 2, 3, 4])
@pytest.mark.parametrize("min_delay", [0.0, 1.0])
@pytest.mark.parametrize("shape", ["one host", "many hosts", "one big host and many small"])
def test_every_source_once_and_no_host_over_its_limit(processes, min_delay, shape):
    if shape == "one host":
        hosts = ["a.gov.cn"] * 100
    elif shape == "many hosts":
        hosts = [f"h{i % 37}.gov.cn" for i in range(100)]
    else:
        hosts = ["big.gov.cn"] * 70 + [f"h{i}.gov.cn" for i in range(30)]
    parts = split_for_processes(hosts, processes, max_per_host=4, min_delay=min_delay)
    assert sorted(i for p in parts for i in p.indices) == list(range(len(hosts)))
    assert len(parts) <= processes
    assert all(n <= 4 for n in _per_host_connections(hosts, parts).values())
    if min_delay > 0:  # with a delay between requests a host is never shared (the spacing would break)
        for h in set(hosts):
            assert sum(any(hosts[i] == h for i in p.indices) for p in parts) == 1
    if processes > 1 and shape != "one host":
        assert len(parts) > 1  # many hosts: the work is really shared
    if processes > 1 and shape == "one host" and min_delay == 0:
        assert len(parts) > 1


@pytest.mark.slow
def test_a_split_fetch_gives_the_outcomes_of_one_process(tmp_path, monkeypatch):
    # The bundled samples on their loopback server, fetched by two processes, then again by one.
    monkeypatch.setattr("flows.steps.fetching.FETCH_SPLIT_MIN", 2)
    split = load_settings(env={}, home=tmp_path / "split", fetch_processes=2, max_per_host=2)
    single = load_settings(env={}, home=tmp_path / "single", fetch_processes=1, max_per_host=2)
    lines: list[str] = []
    with serve_samples() as base:
        sources = load_sources(split, None, samples_base=base)
        a = fetch_batch(sources, split, loopback=True, progress=lines.append)
        b = fetch_batch(sources, single, loopback=True)
        again = fetch_batch(sources, split, loopback=True)
    assert any("2 processes" in ln for ln in lines)
    key = [(o.agency, o.year, o.fetch, o.content_sha256, o.outcome) for o in a]
    assert key == [(o.agency, o.year, o.fetch, o.content_sha256, o.outcome) for o in b]
    assert all(o.fetch == "fetched" for o in a)
    assert [o.fetch for o in again] == ["not_modified"] * len(a)  # the processes wrote one raw store
