"""Fault 4 (issue 18): a host that accepts connections and never answers costs minutes, not hours.

After ``host_fail_after`` (3) consecutive timeouts the host is given up: its remaining rows
fail at once with ``host_unreachable``, without a request. With the default settings (30 s
timeout, 3 retries, 2 requests per host) 12 rows cost two rounds of timeouts, ~61 s; the test
runs the same arithmetic with a 1 s timeout and checks the bound scaled (180 s at 30 s).
A run's fetch also has a time budget (``fetch_deadline``), and progress is shown while waiting.
"""

from __future__ import annotations

import time

import pytest
from rel_faults import Silent

from flows.settings import Settings
from sources.fetch import HOST_UNREACHABLE, RUN_DEADLINE, TIMEOUT, Fetcher
from sources.rawstore import RawStore
from sources.registry import Source

pytestmark = [pytest.mark.reliability]


@pytest.fixture
def silent():
    s = Silent()
    yield s
    s.close()


def fetcher_like_defaults(timeout: float, **kw) -> Fetcher:
    """The pipeline's default fetcher (flows.steps.fetching.make_fetcher) with a shorter timeout."""
    d = Settings()
    opts = {"max_per_host": d.max_per_host, "min_delay_s": d.min_delay, "timeout": timeout, "retries": d.retries,
            "host_fail_after": d.host_fail_after, "deadline_s": d.fetch_deadline, **kw}
    return Fetcher(**opts)


def test_twelve_rows_on_a_host_that_never_answers_cost_two_timeouts(silent, tmp_path, figures):
    timeout = 1.0
    sources = [Source(f"沉默局{i}", 2024, f"http://127.0.0.1:{silent.port}/r{i}.html") for i in range(12)]
    lines: list[str] = []
    t0 = time.monotonic()
    with fetcher_like_defaults(timeout, heartbeat_s=0.5) as f:
        outs = f.fetch_many(sources, RawStore(tmp_path), waiting=lines.append)
    elapsed = time.monotonic() - t0
    figures["dead_host_12_rows_at_1s_timeout_seconds"] = round(elapsed, 2)
    codes = [o.error for o in outs]
    assert set(codes) <= {TIMEOUT, HOST_UNREACHABLE}
    assert codes.count(HOST_UNREACHABLE) >= 9, codes
    assert sum(o.attempts for o in outs) <= 4  # two rows, two attempts each; the others never sent
    # 180 s at the default 30 s timeout: six timeouts' worth, here 6 s (two rounds of timeouts,
    # the 1 s spacing and the backoff fit well inside).
    assert elapsed <= 6 * timeout, elapsed
    assert any("timed out" in o.detail for o in outs if o.error == HOST_UNREACHABLE)
    assert any("waiting" in line for line in lines), lines  # progress while the requests hang


def test_a_host_that_answers_again_is_not_given_up(tmp_path):
    from rel_site import Site, report_page, response

    site = Site()
    try:
        _, page = report_page("恢复局")
        ok = response(200, page, {"Content-Type": "text/html; charset=utf-8"})
        url = site.sequence("/flaky.html", [b"", ok])  # the first answer is a silent close: not a timeout
        with Fetcher(min_delay_s=0, timeout=1, retries=2, host_fail_after=1) as f:
            out = f.fetch_one(Source("恢复局", 2024, url), RawStore(tmp_path))
        assert out.ok, (out.error, out.detail)
    finally:
        site.close()


def test_the_fetch_has_a_time_budget(silent, tmp_path):
    sources = [Source(f"沉默局{i}", 2024, f"http://127.0.0.1:{silent.port}/r{i}.html") for i in range(6)]
    t0 = time.monotonic()
    with Fetcher(min_delay_s=0, timeout=1, retries=0, max_per_host=1, host_fail_after=0, deadline_s=1.5) as f:
        outs = f.fetch_many(sources, RawStore(tmp_path))
    assert time.monotonic() - t0 < 4
    assert [o.error for o in outs].count(RUN_DEADLINE) >= 3, [o.error for o in outs]
