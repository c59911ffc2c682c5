"""Fault 6 (issue 18): two registry rows (URLs) for one agency and year.

A report page and its PDF, or the same report on a mirror: one is taken whatever the fetch
timing (the one that parsed, with more of the tables, else the earlier registry line), the
other is not loaded; the run summary says which and why, the taken report carries a
``duplicate_source`` finding, and the summary's published count equals the marts'.
"""

from __future__ import annotations

import duckdb
import pytest
from rel_faults import fast_settings, published_count, published_sha
from rel_site import Site, registry, report_page

from flows.outcomes import NOT_CURRENT, PUBLISHED
from flows.plan import run_year
from sources.rawstore import sha256_hex

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
YEAR = 2024
STUB = "<html><body><h1>某某局2024年政府信息公开工作年度报告</h1><p>" + "详见附件。" * 60 + "</p></body></html>"


@pytest.mark.parametrize("order", ["page_first", "mirror_first"])
def test_two_urls_for_one_agency_year_are_decided_deterministically(tmp_path, order):
    site = Site()
    try:
        _, real = report_page("双址局", seed=5)
        _, mirror = report_page("双址局", seed=6)  # the mirror's copy differs (another rendering)
        _, other = report_page("单址局", seed=7)
        rows = [("双址局", YEAR, site.page("/real.html", real)), ("双址局", YEAR, site.page("/mirror.html", mirror)),
                ("双址局", YEAR, site.page("/stub.html", STUB.encode())), ("单址局", YEAR, site.page("/o.html", other))]
        if order == "mirror_first":
            rows[0], rows[1] = rows[1], rows[0]
        settings = fast_settings(tmp_path / "home", registry(tmp_path / "registry.csv", rows))
        s = run_year(YEAR, settings)
    finally:
        site.close()
    first = real if order == "page_first" else mirror  # equal tables: the earlier registry line wins
    got = published_sha(settings.marts_path, YEAR)
    assert got == {"双址局": sha256_hex(first), "单址局": sha256_hex(other)}
    taken = [r for r in s.reports if r.agency == "双址局" and r.outcome == PUBLISHED]
    assert len(taken) == 1 and taken[0].content_sha256 == sha256_hex(first)
    assert sorted(r.outcome for r in s.reports if r.agency == "双址局") == [NOT_CURRENT, NOT_CURRENT,
                                                                          PUBLISHED]
    assert len([n for n in s.notes if "two URLs" in n]) == 2, s.notes
    assert any("earlier registry line" in n for n in s.notes) and any("tables" in n for n in s.notes)
    assert s.counts["published"] == published_count(settings.marts_path, YEAR) == 2
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        n = con.execute("SELECT count(*) FROM stg_finding WHERE code = 'duplicate_source'").fetchone()[0]
        docs = con.execute("SELECT count(*) FROM stg_document WHERE agency = '双址局'").fetchone()[0]
    assert n == 2 and docs == 1
