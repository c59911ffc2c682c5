"""Fault 1 (issue 18): the published number follows what the site serves now.

A site answers one morning with a 200 captcha page, then serves the real page again
byte-identical; a correction is published and then withdrawn (A -> B -> A). After every run
the marts hold the version the site served last, a captcha page never replaces it
(``soft_error_page``), and the run summary's published count equals the marts'.
"""

from __future__ import annotations

import hashlib

import pytest
from rel_faults import fast_settings, published_count, published_sha
from rel_site import registry, report_page, response

from flows.outcomes import FETCH_FAILED, NOT_CURRENT, PASSED, PUBLISHED, ReportOutcome
from flows.plan import run_year
from flows.steps.publishing import mark_published

pytestmark = [pytest.mark.reliability, pytest.mark.slow]
YEAR = 2024
HTML = {"Content-Type": "text/html; charset=utf-8"}
CAPTCHA = "<html><head><title>安全验证</title></head><body><p>请输入验证码后继续访问</p><img src=/c.png></body></html>"
LOGIN = "<html><body><form>用户登录 用户名 密码 <input type=submit value=登录></form></body></html>"
MISSING = "<html><body><h1>对不起，您访问的页面不存在</h1></body></html>"


def test_published_version_follows_the_site_through_captcha_mornings_and_withdrawn_corrections(site, tmp_path):
    _, page_a = report_page("变更局", seed=1)
    _, page_b = report_page("变更局", seed=2)  # the correction
    _, steady = report_page("稳定局", seed=3)
    sha = {hashlib.sha256(p).hexdigest(): name for p, name in ((page_a, "A"), (page_b, "B"))}
    answers = [page_a, CAPTCHA.encode(), LOGIN.encode(), MISSING.encode(), page_a, page_b, page_a]
    expected = ["A", "A", "A", "A", "A", "B", "A"]
    site.sequence("/change.html", [response(200, a, HTML) for a in answers])
    reg = registry(tmp_path / "registry.csv", [("变更局", YEAR, site.url("/change.html")),
                                              ("稳定局", YEAR, site.page("/steady.html", steady))])
    settings = fast_settings(tmp_path / "home", reg)
    for run, want in enumerate(expected):
        s = run_year(YEAR, settings)
        got = published_sha(settings.marts_path, YEAR)
        assert sha.get(got.get("变更局")) == want, f"run {run}: the marts hold {got}"
        assert "稳定局" in got
        changed = next(r for r in s.reports if r.agency == "变更局")
        if run in (1, 2, 3):  # captcha, login and "页面不存在" pages: nothing replaced
            assert changed.outcome == FETCH_FAILED
            assert any("soft_error_page" in r for r in changed.reasons), changed.reasons
        else:
            assert changed.outcome == PUBLISHED, (run, changed.reasons)
        # The summary never says published for a report the marts do not hold.
        assert s.counts["published"] == sum(1 for r in s.reports if r.outcome == PUBLISHED)
        held = published_sha(settings.marts_path, YEAR)
        for r in s.reports:
            if r.outcome == PUBLISHED:
                assert held.get(r.agency) == r.content_sha256
        # Published now plus kept from before (the captcha mornings) is what the marts hold.
        assert s.counts["published"] + s.counts["kept"] == published_count(settings.marts_path, YEAR)
        assert s.counts["kept"] == (1 if run in (1, 2, 3) else 0)
        if run in (1, 2, 3):
            assert any(r.startswith("kept: the version published before") for r in changed.reasons)


def test_mark_published_never_defaults_to_published():
    o = ReportOutcome(agency="甲", year=YEAR, url="http://x/", fetch="fetched", report_id="r1", outcome=PASSED)
    mark_published([o], {})
    assert o.outcome == NOT_CURRENT and o.reasons


def test_a_short_report_page_with_a_login_link_is_not_a_gate_page():
    from sources.fetch import classify_body

    page = ("<html><body><div>首页 用户登录</div><h1>某某局2024年政府信息公开工作年度报告</h1>"
            "<p>详见附件。</p><a href=/r.pdf>附件</a></body></html>").encode()
    assert classify_body(page, "text/html; charset=utf-8")[1] is None
    assert classify_body(LOGIN.encode(), "text/html; charset=utf-8")[1] == "soft_error_page"
    assert classify_body(CAPTCHA.encode(), "text/html; charset=utf-8")[1] == "soft_error_page"
