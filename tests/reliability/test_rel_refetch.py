"""Fault 9 (issue 18): ``--full`` / ``--refetch`` reads every body again, and a broken
compressed body has its own failure code.

A server whose Last-Modified lies answers every conditional request with 304 although the
report changed: only an unconditional request sees the new version.
"""

from __future__ import annotations

import gzip

import pytest
from rel_faults import fast_settings
from rel_site import report_page, response

from flows.cli import build_parser
from flows.steps.fetching import make_fetcher
from sources.fetch import BAD_ENCODING, FETCHED, NOT_MODIFIED, Fetcher
from sources.rawstore import RawStore, sha256_hex
from sources.registry import Source

pytestmark = [pytest.mark.reliability]
HTML = {"Content-Type": "text/html; charset=utf-8", "Last-Modified": "Mon, 01 Jan 2024 00:00:00 GMT"}


def test_full_fetches_unconditionally_where_last_modified_lies(site, tmp_path):
    _, old = report_page("撒谎局", seed=1)
    _, new = report_page("撒谎局", seed=2)
    answers = [response(200, old, HTML), response(304, b"", {"Last-Modified": HTML["Last-Modified"]})]
    site.route("/lie.html", lambda conn, n: conn.sendall(answers[min(n, 1)] if n < 2 else
                                                           (response(200, new, HTML) if full[0] else answers[1])))
    full = [False]
    src = Source("撒谎局", 2024, site.url("/lie.html"))
    store = RawStore(tmp_path)
    with Fetcher(min_delay_s=0, retries=0, timeout=2) as f:
        assert f.fetch_one(src, store).status == FETCHED
        assert f.fetch_one(src, store).status == NOT_MODIFIED  # the site says: unchanged
    full[0] = True
    settings = fast_settings(tmp_path / "home", full_run=True)
    with make_fetcher(settings) as f:
        assert f.unconditional
        got = f.fetch_one(src, store)
    assert got.status == FETCHED and got.sha256 == sha256_hex(new)
    # The command line: --refetch is --full.
    for flag in ("--full", "--refetch"):
        assert build_parser().parse_args(["run", "--year", "2024", flag]).full is True


def test_broken_gzip_body_has_its_own_code(site, tmp_path):
    body = gzip.compress("<html><body>报告</body></html>".encode())
    broken = body[:12] + b"\x00garbage\xff" * 20
    url = site.raw("/gz.html", response(200, broken, {"Content-Type": "text/html; charset=utf-8",
                                                      "Content-Encoding": "gzip"}))
    with Fetcher(min_delay_s=0, retries=2, timeout=2) as f:
        got = f.fetch_one(Source("压缩局", 2024, url), RawStore(tmp_path))
    assert got.error == BAD_ENCODING, (got.error, got.detail)
    assert got.attempts == 1  # the same bytes again would not decompress either
