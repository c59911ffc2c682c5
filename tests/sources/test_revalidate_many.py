"""A re-run's conditional requests asked all at once (sources/revalidate.revalidate_many through
Fetcher.fetch_many), against real keep-alive loopback servers: only a plain 304 is taken, the
per-host limits hold (pipelined requests count), anything else is asked the full way."""

from __future__ import annotations

import time

import pytest
from loopback import REPORT_HTML, Hit, KeepAliveServer, response

from sources.fetch import FAILED, FETCHED, NOT_MODIFIED
from sources.registry import Source

LAST_MODIFIED = "Mon, 03 Mar 2025 08:00:00 GMT"


class Site:
    """Report pages /p0../pN-1 with ETags; ``version[path]`` bumps a page, ``special[path]`` answers otherwise."""

    def __init__(self, n: int, close: bool = False, delay: float = 0.0):
        self.version = {f"/p{i}": 1 for i in range(n)}
        self.special: dict[str, bytes] = {}
        self.close = close
        self.server = KeepAliveServer(self.answer, delay=delay)

    def answer(self, hit: Hit) -> tuple[bytes, bool]:
        conn = {"Connection": "close" if self.close else "keep-alive"}
        if hit.path in self.special:
            return self.special[hit.path], True
        etag = f'"{hit.path}-v{self.version[hit.path]}"'
        if hit.headers.get("if-none-match") == etag:
            return response(304, b"", {"ETag": etag, "Content-Length": None, **conn}), self.close
        body = REPORT_HTML + f"<p>{hit.path} {self.version[hit.path]}</p>".encode()
        return response(200, body, {"ETag": etag, "Last-Modified": LAST_MODIFIED, "Content-Type": "text/html",
                                    **conn}), self.close

    def sources(self) -> list[Source]:
        return [Source(agency=f"局{p}", year=2024, url=self.server.url(p)) for p in self.version]

    def since(self, t0: float) -> list[Hit]:
        return [h for h in self.server.hits if h.start >= t0]


@pytest.fixture
def site():
    made = []

    def make(n: int, **kw) -> Site:
        made.append(Site(n, **kw))
        return made[-1]

    yield make
    for s in made:
        s.server.close()


def _rerun(site: Site, fetcher, store):
    first = fetcher.fetch_many(site.sources(), store)
    assert all(o.status == FETCHED for o in first)
    rows = len(list(store.rows()))
    with site.server.lock:
        site.server.max_inflight = 0
        site.server.connections = 0
    t0 = time.monotonic()
    again = fetcher.fetch_many(site.sources(), store)
    return first, again, site.since(t0), rows


def test_a_rerun_asks_every_stored_version_at_once_within_the_per_host_limit(site, store, fast):
    s = site(40, delay=0.002)
    first, again, hits, rows = _rerun(s, fast(max_per_host=3), store)
    assert [(o.status, o.http_status, o.attempts) for o in again] == [(NOT_MODIFIED, 304, 1)] * 40
    assert [o.sha256 for o in again] == [o.sha256 for o in first]
    assert len(hits) == 40 and all(h.headers.get("if-none-match") and h.headers.get("if-modified-since") == LAST_MODIFIED
                                   for h in hits)
    assert all("xxgk/" in h.headers["user-agent"] for h in hits)
    assert s.server.max_inflight <= 3  # pipelined requests count as in flight
    assert s.server.connections <= 3  # kept alive, not one connection per request
    assert len(list(store.rows())) == rows  # the same validators confirmed: nothing to record


def test_changed_missing_and_cookie_setting_answers_are_asked_the_full_way(site, store, fast):
    s = site(30)
    fetcher = fast(max_per_host=4)
    fetcher.fetch_many(s.sources(), store)
    s.version["/p5"] = 2
    s.special["/p7"] = response(404, b"gone")
    s.special["/p9"] = response(304, b"", {"ETag": '"/p9-v1"', "Set-Cookie": "waf=1", "Content-Length": None})
    again = fetcher.fetch_many(s.sources(), store)
    by_path = {o.source.url.rsplit("/", 1)[1]: o for o in again}
    assert (by_path["p5"].status, by_path["p5"].new_version, by_path["p5"].attempts) == (FETCHED, True, 2)
    assert (by_path["p7"].status, by_path["p7"].error) == (FAILED, "http_404")
    assert (by_path["p9"].status, by_path["p9"].attempts) == (NOT_MODIFIED, 2)
    assert all(o.status == NOT_MODIFIED for p, o in by_path.items() if p not in ("p5", "p7", "p9"))
    assert store.versions(s.server.url("/p5"))[-1] == by_path["p5"].sha256 and len(store.versions(s.server.url("/p5"))) == 2


def test_a_host_that_is_gone_is_a_failure_with_its_reason_never_a_304(site, store, fast):
    s = site(6)
    fetcher = fast(max_per_host=2, retries=0)
    fetcher.fetch_many(s.sources(), store)
    s.server.close()
    again = fetcher.fetch_many(s.sources(), store)
    assert [(o.status, o.error) for o in again] == [(FAILED, "connection_error")] * 6
    assert all(r["error"] == "connection_error" for r in list(store.rows())[-6:])  # recorded with the reason


def test_a_silent_host_times_out_and_is_not_taken_as_unchanged(site, store, fast):
    s = site(4)
    fetcher = fast(max_per_host=2, retries=0, timeout=(0.5, 0.5), host_fail_after=2)
    fetcher.fetch_many(s.sources(), store)
    s.server.answer = lambda hit: (time.sleep(2), (b"", True))[1]
    again = fetcher.fetch_many(s.sources(), store)
    assert all(o.status == FAILED and o.error in ("timeout", "host_unreachable") for o in again)


def test_min_delay_spaces_the_requests_to_a_host(site, store, fast):
    s = site(6)
    first, again, hits, _ = _rerun(s, fast(max_per_host=2, min_delay_s=0.1), store)
    assert all(o.status == NOT_MODIFIED for o in again)
    starts = sorted(h.start for h in hits)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= 0.08, gaps  # server-side arrivals, less the jitter of the loopback
    assert s.server.max_inflight <= 1


def test_a_server_that_closes_after_each_answer(site, store, fast):
    s = site(10, close=True)
    first, again, hits, _ = _rerun(s, fast(max_per_host=4), store)
    assert [(o.status, o.attempts) for o in again] == [(NOT_MODIFIED, 1)] * 10
    assert len(hits) == 10 and s.server.connections >= 10  # one answer per connection, no request asked twice


_URL_PARTS = ["http", "https", "HTTP", "://", "h", "Host.example", "127.0.0.1", ":8080", ":", ":x", "@", "u:p@",
              "[::1]", "/", "/a", "/报告.html", "%20", "?", "??", "?q=1", "&", "#", "#f", ";p", " ", "\t", "\n", "\r",
              "\x00", "-", ".", "~", '"', "'", "\\", "//"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/pages/00/00001.html", "https://www.gov.cn/a/b.htm?x=1&y=2",
                                 "http://h", "http://h/a?", "http://h/a??", "http://h/a#f", "http://h/?", "http://h?q"])
def test_a_urls_scheme_host_and_target_are_urlsplits(url):
    _check_split(url)


def _check_split(url: str) -> None:
    from urllib.parse import urlsplit

    from sources.revalidate import _scheme_netloc_target

    try:
        parts = urlsplit(url)
    except ValueError:
        return  # urlsplit refuses it; the fast path only takes plain URLs, which it never refuses
    assert _scheme_netloc_target(url) == (parts.scheme, parts.netloc,
                                          (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


def test_any_url_splits_as_urlsplit_splits_it():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    pieces = st.lists(st.sampled_from(_URL_PARTS), max_size=6).map("".join)

    @settings(max_examples=3000, deadline=None)
    @given(st.sampled_from(["http://", "https://", "HTTP://", "http:/", "ftp://", ""]), pieces, pieces)
    def check(scheme, host, rest):
        _check_split(scheme + host + rest)

    check()


def test_the_callers_work_runs_while_the_conditional_requests_are_out(site, store, fast):
    s = site(30, delay=0.03)  # ~0.45 s of answers, 2 at a time
    fetcher = fast(max_per_host=2)
    calls = []
    first = fetcher.fetch_many(s.sources(), store, meanwhile=lambda: calls.append("first"))
    assert calls == [] and all(o.status == FETCHED for o in first)  # nothing stored: nothing asked at once

    def work():
        calls.append(len(s.server.hits))  # the requests went out before: the server is answering them
        time.sleep(0.05)

    t0 = time.monotonic()
    again = fetcher.fetch_many(s.sources(), store, meanwhile=work)
    assert len(calls) == 1 and calls[0] < 60  # called once, before the last answer
    assert [(o.status, o.attempts) for o in again] == [(NOT_MODIFIED, 1)] * 30
    assert len(s.since(t0)) == 30
