"""The fetcher against real loopback servers with injected faults."""

from __future__ import annotations

import datetime as dt
import email.utils
import time

import pytest
from loopback import REPORT_HTML, Hit, reset, response
from werkzeug import Response

from sources.fetch import FAILED, FETCHED, NOT_MODIFIED, parse_retry_after
from sources.registry import Source


def src(url: str, agency: str = "测试局", year: int = 2024) -> Source:
    return Source(agency=agency, year=year, url=url)


def test_500_then_200_is_retried_and_stored_once(httpserver, store, fast):
    httpserver.expect_ordered_request("/r").respond_with_data("boom", status=500)
    httpserver.expect_ordered_request("/r").respond_with_data(
        REPORT_HTML, content_type="text/html; charset=utf-8"
    )
    [out] = fast().fetch_many([src(httpserver.url_for("/r"))], store)
    assert (out.status, out.http_status, out.attempts, out.kind) == (FETCHED, 200, 2, "html")
    assert store.get(out.sha256) == REPORT_HTML
    assert store.object_count() == 1
    rows = list(store.rows())
    assert len(rows) == 1 and rows[0]["status"] == FETCHED and rows[0]["attempts"] == 2


def test_503_retry_after_is_honoured(raw_server, store, fast):
    calls = []

    def flaky(conn, hit: Hit):
        calls.append(hit.start)
        if len(calls) == 1:
            conn.sendall(response(503, b"busy", {"Retry-After": "1"}))
        else:
            conn.sendall(response(200, REPORT_HTML, {"Content-Type": "text/html"}))

    raw_server.add("/busy", flaky)
    [out] = fast(backoff_s=0.01).fetch_many([src(raw_server.url("/busy"))], store)
    assert out.status == FETCHED and out.attempts == 2
    assert calls[1] - calls[0] >= 0.95  # waited for Retry-After, not the 10 ms backoff


def test_retry_after_is_capped_and_http_dates_parse(raw_server, store, fast):
    raw_server.add("/slow", response(429, b"", {"Retry-After": "3600"}))
    t0 = time.monotonic()
    [out] = fast(retries=1, max_retry_after_s=0.2).fetch_many([src(raw_server.url("/slow"))], store)
    assert out.error == "http_429" and out.attempts == 2
    assert time.monotonic() - t0 < 2
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    later = email.utils.format_datetime(now + dt.timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(later, now=now) == pytest.approx(30)
    assert parse_retry_after("7") == 7 and parse_retry_after("soon") is None


def test_404_is_not_retried(httpserver, store, fast):
    httpserver.expect_request("/gone").respond_with_data("no", status=404)
    [out] = fast(retries=3).fetch_many([src(httpserver.url_for("/gone"))], store)
    assert (out.status, out.error, out.attempts) == (FAILED, "http_404", 1)
    assert len(httpserver.log) == 1
    row = next(store.rows())
    assert row["status"] == FAILED and row["error"] == "http_404" and row["sha256"] is None
    assert store.object_count() == 0


def test_timeout(raw_server, store, fast):
    raw_server.add("/silent", lambda conn, hit: time.sleep(0.6))
    [out] = fast(timeout=(1, 0.2), retries=1).fetch_many([src(raw_server.url("/silent"))], store)
    assert (out.status, out.error, out.attempts) == (FAILED, "timeout", 2)


def test_connection_reset(raw_server, store, fast):
    raw_server.add("/reset", reset)
    [out] = fast(retries=1).fetch_many([src(raw_server.url("/reset"))], store)
    assert (out.status, out.error, out.attempts) == (FAILED, "connection_reset", 2)


def test_connection_refused_is_a_connection_error(store, fast):
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    [out] = fast(retries=0).fetch_many([src(f"http://127.0.0.1:{port}/x")], store)
    assert out.error == "connection_error"


def test_truncated_body(raw_server, store, fast):
    def short(conn, hit):
        conn.sendall(response(200, REPORT_HTML[:40], {"Content-Length": str(len(REPORT_HTML))}))

    raw_server.add("/short", short)
    [out] = fast(retries=1).fetch_many([src(raw_server.url("/short"))], store)
    assert (out.status, out.error, out.attempts) == (FAILED, "truncated", 2)
    assert store.object_count() == 0


def test_oversize_body_streamed_without_length(raw_server, store, fast):
    def big(conn, hit):  # no Content-Length: only streaming can catch it
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
        for _ in range(10):
            conn.sendall("<p>年度报告</p>".encode() * 100)

    raw_server.add("/big", big)
    [out] = fast(max_bytes=5000).fetch_many([src(raw_server.url("/big"))], store)
    assert (out.status, out.error, out.attempts) == (FAILED, "too_large", 1)


def test_oversize_content_length_refused_up_front(raw_server, store, fast):
    sent = []

    def huge(conn, hit):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 900000000\r\nConnection: close\r\n\r\n")
        sent.append(True)
        time.sleep(0.3)

    raw_server.add("/huge", huge)
    t0 = time.monotonic()
    [out] = fast(max_bytes=20_000_000).fetch_many([src(raw_server.url("/huge"))], store)
    assert out.error == "too_large" and out.attempts == 1 and "Content-Length" in out.detail
    assert time.monotonic() - t0 < 2


def test_redirects_followed_within_limit(httpserver, store, fast):
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "/new"})
    httpserver.expect_request("/new").respond_with_data(REPORT_HTML, content_type="text/html")
    [out] = fast().fetch_many([src(httpserver.url_for("/old"))], store)
    assert out.status == FETCHED and out.url == httpserver.url_for("/new") and out.attempts == 2
    assert next(store.rows())["url"] == httpserver.url_for("/old")  # keyed by the registry URL


def test_redirect_loop(httpserver, store, fast):
    httpserver.expect_request("/a").respond_with_data("", status=302, headers={"Location": "/b"})
    httpserver.expect_request("/b").respond_with_data("", status=302, headers={"Location": "/a"})
    [out] = fast().fetch_many([src(httpserver.url_for("/a"))], store)
    assert (out.status, out.error, out.attempts) == (FAILED, "redirect_loop", 2)


def test_too_many_redirects(httpserver, store, fast):
    for i in range(6):
        httpserver.expect_request(f"/hop{i}").respond_with_data(
            "", status=302, headers={"Location": f"/hop{i + 1}"}
        )
    [out] = fast(max_redirects=3).fetch_many([src(httpserver.url_for("/hop0"))], store)
    assert (out.error, out.attempts) == ("too_many_redirects", 4)


@pytest.mark.parametrize("target", ["ftp://example.org/report.html", "file:///etc/passwd"])
def test_redirect_to_other_schemes_refused(httpserver, store, fast, target):
    httpserver.expect_request("/evil").respond_with_data("", status=302, headers={"Location": target})
    [out] = fast().fetch_many([src(httpserver.url_for("/evil"))], store)
    assert (out.status, out.error, out.http_status) == (FAILED, "bad_scheme", 302)


GBK_PAGE = (
    "<html><head><meta http-equiv='Content-Type' content='text/html; charset=gb2312'></head>"
    "<body><p>南宾街道办事处2024年政府信息公开工作年度报告</p><p>行政许可 264 件</p></body></html>"
).encode("gbk")


@pytest.mark.parametrize("ctype", ["text/html", "text/html; charset=GBK", "text/html; charset=utf-8"])
def test_gbk_page_decoded_right(httpserver, store, fast, ctype):
    httpserver.expect_request("/gbk").respond_with_data(GBK_PAGE, content_type=ctype)
    [out] = fast().fetch_many([src(httpserver.url_for("/gbk"))], store)
    assert out.status == FETCHED and out.encoding == "gb18030" and out.kind == "html"
    from transforms.decode import decode

    assert "南宾街道办事处" in decode(store.get(out.sha256), out.content_type).text


def test_not_a_report(httpserver, store, fast):
    httpserver.expect_request("/img").respond_with_data(
        b"\x89PNG\r\n\x1a\n" + b"\0" * 100, content_type="image/png"
    )
    httpserver.expect_request("/en").respond_with_data(
        "<html><body>Page moved</body></html>", content_type="text/html"
    )
    outs = fast().fetch_many([src(httpserver.url_for("/img")), src(httpserver.url_for("/en"))], store)
    assert [o.error for o in outs] == ["not_a_report", "not_a_report"]
    assert store.object_count() == 0


def test_rerun_sends_conditional_request_and_stores_nothing_new(httpserver, store, fast):
    etag = '"v1"'
    seen = []

    def page(request):
        seen.append(dict(request.headers))
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        return Response(
            REPORT_HTML,
            headers={"ETag": etag, "Last-Modified": "Mon, 03 Mar 2025 08:00:00 GMT"},
            content_type="text/html; charset=utf-8",
        )

    httpserver.expect_request("/p").respond_with_handler(page)
    fetcher = fast()
    [first] = fetcher.fetch_many([src(httpserver.url_for("/p"))], store)
    objects = sorted(p.name for p in store.objects.glob("*/*"))
    [second] = fetcher.fetch_many([src(httpserver.url_for("/p"))], store)
    assert first.status == FETCHED and first.new_version
    assert (second.status, second.http_status, second.attempts) == (NOT_MODIFIED, 304, 1)
    assert second.sha256 == first.sha256
    assert seen[1].get("If-None-Match") == etag
    assert seen[1].get("If-Modified-Since") == "Mon, 03 Mar 2025 08:00:00 GMT"
    assert sorted(p.name for p in store.objects.glob("*/*")) == objects
    assert store.versions(httpserver.url_for("/p")) == [first.sha256]
    assert "xxgk/" in seen[0]["User-Agent"]
    # The 304 confirmed the stored version with the same validators: no manifest row for it.
    assert [r["status"] for r in store.rows()] == ["fetched"]


def test_a_conditional_request_answered_otherwise_is_asked_again_the_full_way(httpserver, store, fast):
    """sources/revalidate.py takes only a plain 304: a new body, or a 304 that sets a cookie, is
    fetched again through requests (the body stored, the cookie sent from then on)."""
    state = {"version": 1, "cookie": False}
    seen = []

    def page(request):
        seen.append(dict(request.headers))
        etag = f'"v{state["version"]}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag, **({"Set-Cookie": "waf=ok"} if state["cookie"] else {})})
        return Response(REPORT_HTML.replace("年度报告".encode(), f"年度报告{state['version']}".encode()), headers={"ETag": etag},
                        content_type="text/html; charset=utf-8")

    httpserver.expect_request("/p").respond_with_handler(page)
    fetcher = fast()
    [first] = fetcher.fetch_many([src(httpserver.url_for("/p"))], store)
    state["version"] = 2
    [changed] = fetcher.fetch_many([src(httpserver.url_for("/p"))], store)
    assert changed.status == FETCHED and changed.new_version and changed.sha256 != first.sha256
    assert changed.attempts == 2 and len(seen) == 3  # asked conditionally, then again the full way
    state["cookie"] = True
    [same] = fetcher.fetch_many([src(httpserver.url_for("/p"))], store)
    assert (same.status, same.attempts) == (NOT_MODIFIED, 2)
    [again] = fetcher.fetch_many([src(httpserver.url_for("/p"))], store)
    assert again.status == NOT_MODIFIED and seen[-1].get("Cookie") == "waf=ok"


def test_proxy_from_the_environment_is_used(httpserver, store, fast, monkeypatch):
    # The loopback server stands in for a proxy: it receives the absolute URL of a site
    # that does not resolve, which only a request through the proxy can reach.
    httpserver.expect_request("/via-proxy.html").respond_with_data(REPORT_HTML, content_type="text/html")
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/").rstrip("/"))
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.delenv("http_proxy", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    [out] = fast().fetch_many([src("http://report-site.invalid/via-proxy.html")], store)
    assert out.status == FETCHED, out.error
    assert len(httpserver.log) == 1


def test_changed_report_is_a_new_version_and_old_one_kept(httpserver, store, fast):
    bodies = [REPORT_HTML, REPORT_HTML.replace(b"3", b"4")]
    httpserver.expect_ordered_request("/v").respond_with_data(bodies[0], content_type="text/html")
    httpserver.expect_ordered_request("/v").respond_with_data(bodies[1], content_type="text/html")
    httpserver.expect_ordered_request("/v").respond_with_data(bodies[1], content_type="text/html")
    f = fast()
    outs = [f.fetch_many([src(httpserver.url_for("/v"))], store)[0] for _ in range(3)]
    assert [o.new_version for o in outs] == [True, True, False]
    assert store.versions(httpserver.url_for("/v")) == [outs[0].sha256, outs[1].sha256]
    assert [store.get(o.sha256) for o in outs[:2]] == bodies
    assert store.object_count() == 2


def test_many_hosts_each_fetched_exactly_once_with_failures_recorded(httpserver, raw_server, store, fast):
    from loopback import RawServer

    other = RawServer()
    try:
        sources = []
        for i in range(4):
            httpserver.expect_request(f"/h1/{i}").respond_with_data(REPORT_HTML, content_type="text/html")
            raw_server.add(
                f"/h2/{i}", response(200, REPORT_HTML + str(i).encode(), {"Content-Type": "text/html"})
            )
            other.add(
                f"/h3/{i}", response(200, REPORT_HTML + b"x" + str(i).encode(), {"Content-Type": "text/html"})
            )
            sources += [
                src(httpserver.url_for(f"/h1/{i}"), f"甲{i}"),
                src(raw_server.url(f"/h2/{i}"), f"乙{i}"),
                src(other.url(f"/h3/{i}"), f"丙{i}"),
            ]
        raw_server.add("/h2/dead", response(404))
        sources.append(src(raw_server.url("/h2/dead"), "丁"))
        progress = []
        outs = fast(max_per_host=2, min_delay_s=0.02).fetch_many(
            sources, store, progress=lambda d, t: progress.append(d)
        )
        assert [o.source for o in outs] == sources  # outcomes in registry order
        assert [o.status for o in outs[:-1]] == [FETCHED] * 12 and outs[-1].error == "http_404"
        for i in range(4):
            assert raw_server.count(f"/h2/{i}") == 1 and other.count(f"/h3/{i}") == 1
        assert sorted(e[0].path for e in httpserver.log) == [f"/h1/{i}" for i in range(4)]
        assert sorted(progress) == list(range(1, 14))
        assert store.object_count() == 9  # the four /h1 bodies are identical: stored once
        assert len(list(store.rows())) == 13
    finally:
        other.close()


def test_politeness_min_delay_and_concurrency_per_host(raw_server, store, fast):
    def slowish(conn, hit):
        time.sleep(0.15)
        conn.sendall(response(200, REPORT_HTML + hit.path.encode(), {"Content-Type": "text/html"}))

    for i in range(5):
        raw_server.add(f"/p{i}", slowish)
    sources = [src(raw_server.url(f"/p{i}"), f"局{i}") for i in range(5)]
    outs = fast(max_per_host=2, min_delay_s=0.2, workers=8).fetch_many(sources, store)
    assert all(o.status == FETCHED for o in outs)
    starts = sorted(h.start for h in raw_server.hits)
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    # Server-side clock: arrivals min_delay apart, less the jitter of opening a connection.
    assert min(gaps) >= 0.15, gaps
    assert starts[-1] - starts[0] >= 4 * 0.2 * 0.95
    assert raw_server.max_inflight <= 2


def test_soft_404_and_meta_refresh_stub(httpserver, store, fast):
    soft = "<html><head><title>404</title></head><body><h1>您访问的页面不存在或已被删除</h1></body></html>"
    httpserver.expect_request("/soft").respond_with_data(soft, content_type="text/html; charset=utf-8")
    stub = '<html><head><meta http-equiv="refresh" content="0; url=/real"></head><body>跳转中</body></html>'
    httpserver.expect_request("/stub").respond_with_data(stub, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/real").respond_with_data(REPORT_HTML, content_type="text/html; charset=utf-8")
    soft_out, stub_out = fast().fetch_many(
        [src(httpserver.url_for("/soft")), src(httpserver.url_for("/stub"))], store
    )
    assert soft_out.error == "soft_error_page" and "error page" in soft_out.detail
    assert stub_out.status == FETCHED and stub_out.url == httpserver.url_for("/real")
    assert store.get(stub_out.sha256) == REPORT_HTML


def test_chunked_body_cut_short_is_truncated(raw_server, store, fast):
    def cut(conn, hit):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n")
        conn.sendall(b"400\r\n" + b"a" * 100)  # announces 1024 bytes, sends 100, hangs up

    raw_server.add("/cut", cut)
    [out] = fast(retries=0).fetch_many([src(raw_server.url("/cut"))], store)
    assert (out.error, out.attempts) == ("truncated", 1)


def test_gzip_body_is_not_mistaken_for_truncated(raw_server, store, fast):
    import gzip

    packed = gzip.compress(REPORT_HTML * 50)
    raw_server.add(
        "/gz", response(200, packed, {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"})
    )
    [out] = fast().fetch_many([src(raw_server.url("/gz"))], store)
    assert out.status == FETCHED and out.bytes == len(REPORT_HTML) * 50
    assert store.get(out.sha256) == REPORT_HTML * 50


def test_cookies_a_site_sets_are_sent_back(httpserver, store, fast):
    # Some sites' firewalls set a cookie on the first page and refuse requests without it.
    def first(_request):
        return Response(REPORT_HTML, content_type="text/html", headers={"Set-Cookie": "waf_token=ok; Path=/"})

    def second(request):
        if "waf_token=ok" not in (request.headers.get("Cookie") or ""):
            return Response("no cookie", status=403)
        return Response(REPORT_HTML + b"2", content_type="text/html")

    httpserver.expect_request("/first.html").respond_with_handler(first)
    httpserver.expect_request("/second.html").respond_with_handler(second)
    fetcher = fast()
    assert fetcher.fetch_one(src(httpserver.url_for("/first.html")), store).status == FETCHED
    out = fetcher.fetch_one(src(httpserver.url_for("/second.html"), "乙局"), store)
    assert out.status == FETCHED, out.error


def test_a_cookie_set_on_a_redirect_is_sent_to_its_target(httpserver, store, fast):
    # The fetcher asks an empty jar for nothing and reads Set-Cookie only when an answer has one
    # (Fetcher._send): a cookie on a hop still reaches the next request.
    httpserver.expect_request("/gate.html").respond_with_response(
        Response("", status=302, headers={"Location": "/inner.html", "set-cookie": "pass=1; Path=/"}))

    def inner(request):
        if "pass=1" not in (request.headers.get("Cookie") or ""):
            return Response("no cookie", status=403)
        return Response(REPORT_HTML, content_type="text/html")

    httpserver.expect_request("/inner.html").respond_with_handler(inner)
    out = fast().fetch_one(src(httpserver.url_for("/gate.html")), store)
    assert out.status == FETCHED, out.error
    assert out.url.endswith("/inner.html") and out.attempts == 2
