"""The plain GET (sources/plainget.py): taken for a plain 200, and every other answer gives the
outcome the full way (requests) gives, without asking the server again."""

from __future__ import annotations

import gzip
import time
import zlib

import pytest
import requests
import urllib3
from loopback import REPORT_HTML, Hit, KeepAliveServer, RawServer, reset, response

from sources.fetch import FETCHED
from sources.plainget import plain_target
from sources.registry import Source

HTML = {"Content-Type": "text/html; charset=utf-8"}


def src(url: str) -> Source:
    return Source(agency="测试局", year=2024, url=url)


def outcome_key(o) -> tuple:
    return (o.status, o.error, o.attempts, o.http_status, o.sha256, o.url, o.content_type, o.encoding, o.kind,
            o.bytes, o.new_version)


def full_way_requests(f) -> list[str]:
    """The URLs ``f`` will ask through requests (``Fetcher._send``), as it asks them."""
    sent: list[str] = []
    full = f._send

    def send(url, headers):
        sent.append(url)
        return full(url, headers)
    f._send = send
    return sent


class Fresh:
    """A route made anew for each way (it counts the requests it answered)."""

    def __init__(self, make) -> None:
        self.make = make


def run_both(routes: dict, tmp_path, fast, paths=None, **kw) -> dict:
    """Each way (plain GETs on, off) on a fresh server and raw store: outcomes, requests the server
    received, requests that went through requests' adapter, manifest rows."""
    from sources.rawstore import RawStore

    got = {}
    for plain in (True, False):
        srv = RawServer()
        try:
            for path, route in routes.items():
                srv.add(path, route.make() if isinstance(route, Fresh) else route)
            f = fast(**kw)
            f.plain_gets = plain
            sent = full_way_requests(f)
            store = RawStore(tmp_path / f"raw-{plain}")
            with f:
                outs = f.fetch_many([src(srv.url(p)) for p in (paths or routes)], store)
            rows = [{k: v for k, v in r.items() if k not in ("fetched_at", "detail", "url", "final_url")}
                    for r in store.rows()]
            asked = [(h.path, [(k, v.replace(str(srv.port), "PORT")) for k, v in h.headers.items()])
                     for h in srv.hits]
            got[plain] = ([outcome_key(o) for o in outs], len(srv.hits), len(sent), rows,
                          [store.get(o.sha256) if o.sha256 else None for o in outs], f, asked)
        finally:
            srv.close()
    return got


def same_both_ways(got: dict) -> None:
    fast_way, full_way = got[True], got[False]
    strip = [k[:5] + k[6:] for k in fast_way[0]], [k[:5] + k[6:] for k in full_way[0]]  # URLs differ by port
    assert strip[0] == strip[1]
    assert fast_way[1] == full_way[1], "the server was asked as often"
    assert fast_way[6] == full_way[6], "the same requests (paths, header fields in order)"
    assert fast_way[3] == full_way[3], "the same manifest rows"
    assert fast_way[4] == full_way[4], "the same bodies"
    assert dict(fast_way[5].session.cookies) == dict(full_way[5].session.cookies), "the same cookies kept"


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def test_a_plain_200_goes_out_on_one_keep_alive_connection_and_gives_the_same_body(tmp_path, fast, store):
    pages = {f"/r{i}.html": REPORT_HTML.replace(b"3", str(i).encode()) for i in range(5)}
    srv = KeepAliveServer(lambda hit: (response(200, pages[hit.path], {**HTML, "Connection": None}), False))
    try:
        f = fast(workers=1)
        sent = full_way_requests(f)
        with f:
            outs = f.fetch_many([src(srv.url(p)) for p in pages], store)
        assert [o.status for o in outs] == [FETCHED] * 5 and all(o.attempts == 1 for o in outs)
        assert [store.get(o.sha256) for o in outs] == list(pages.values())
        assert sent == [] and srv.connections == 1  # none the full way; one connection kept alive
        assert srv.hits[0].headers["accept-encoding"] == requests.utils.default_headers()["Accept-Encoding"]
    finally:
        srv.close()


def test_a_server_that_closes_an_idle_connection_is_asked_on_a_new_one(tmp_path, fast, store):
    # Each answer keeps the connection open, then the server drops it: the next request must not
    # be lost on the dead connection.
    srv = KeepAliveServer(lambda hit: (response(200, REPORT_HTML, {**HTML, "Connection": None}), True))
    try:
        f = fast(workers=1)
        outs = []
        with f:
            for i in range(3):  # in this thread, one after the other: the same idle connection
                outs.append(f.fetch_one(src(srv.url(f"/r{i}.html")), store))
                time.sleep(0.1)  # the server's close arrives meanwhile
        assert [(o.status, o.attempts) for o in outs] == [(FETCHED, 1)] * 3
        assert len(srv.hits) == 3 and srv.connections == 3
    finally:
        srv.close()


BIG = REPORT_HTML * 200  # ~40 kB: more than one read of the compressed stream for some codings


def chunked(body: bytes, headers: dict | None = None, size: int = 1000, end: bool = True) -> bytes:
    head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in {**HTML, **(headers or {})}.items())
    parts = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size]) for i in range(0, len(body), size)]
    return head.encode() + b"\r\n" + b"".join(parts) + (b"0\r\n\r\n" if end else b"")


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


PLAIN_200 = {
    "identity": response(200, REPORT_HTML, HTML),
    "identity_named": response(200, REPORT_HTML, {**HTML, "Content-Encoding": "identity"}),
    "gzip": response(200, gz(BIG), {**HTML, "Content-Encoding": "gzip"}),
    "x_gzip_upper": response(200, gz(REPORT_HTML), {**HTML, "Content-Encoding": "X-GZIP"}),
    "gzip_two_members": response(200, gz(REPORT_HTML) + gz(b"<p>\xe9\x99\x84</p>"), {**HTML, "Content-Encoding": "gzip"}),
    "gzip_trailing_garbage": response(200, gz(REPORT_HTML) + gz(b"x") + b"garbage", {**HTML, "Content-Encoding": "gzip"}),
    "deflate_zlib": response(200, zlib.compress(BIG), {**HTML, "Content-Encoding": "deflate"}),
    "deflate_raw": response(200, raw_deflate(BIG), {**HTML, "Content-Encoding": "deflate"}),
    "chunked": chunked(BIG),
    "chunked_gzip": chunked(gz(BIG), {"Content-Encoding": "gzip"}, size=700),
    "no_length_until_close": b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n" + BIG,
    "repeated_content_type": response(200, REPORT_HTML, {"Content-Type": "text/html", "content-type": "charset=utf-8"}),
    "pdf": response(200, (b"%PDF-1.4\n" + b"x" * 3000), {"Content-Type": "application/pdf"}),
    "chunk_extensions_and_trailers": chunked(BIG, size=4000)[:-5].replace(b"\r\n", b";ext=1\r\n", 1)
    + b"0\r\nX-Trailer: 1\r\n\r\n",
    "chunks_upper_hex": chunked(BIG, size=3000).replace(b"bb8\r\n", b"BB8\r\n"),
    "chunks_end_without_last_line": chunked(BIG)[:-2],
    "status_without_reason": response(200, REPORT_HTML, HTML).replace(b"200 X\r\n", b"200\r\n", 1),
    "continue_first": b"HTTP/1.1 100 Continue\r\n\r\n" + response(200, REPORT_HTML, HTML),
    "http_1_0": response(200, REPORT_HTML, HTML).replace(b"HTTP/1.1", b"HTTP/1.0", 1),
    "more_than_the_length": response(200, REPORT_HTML, HTML) + b"HTTP/1.1 200 OK\r\n\r\nextra",
    "lf_only_head": response(200, REPORT_HTML, HTML).replace(b"\r\n", b"\n"),
    "status_with_leading_zero": response(200, REPORT_HTML, HTML).replace(b" 200 ", b" 0200 ", 1),
    "content_type_spaces_and_latin1": response(200, REPORT_HTML).replace(
        b"\r\n\r\n", b"\r\nContent-Type:   text/html; charset=utf-8 \xe9 \t\r\n\r\n", 1),
    "field_without_space": response(200, REPORT_HTML, {"Content-Type": "text/html;charset=utf-8"}).replace(
        b"Content-Type: ", b"Content-Type:\t ", 1),
}


@pytest.mark.parametrize("case", sorted(PLAIN_200))
def test_a_plain_200_is_read_here_with_the_body_the_full_way_reads(case, tmp_path, fast):
    got = run_both({"/p": PLAIN_200[case]}, tmp_path, fast)
    same_both_ways(got)
    assert got[True][2] == 0 and got[False][2] == 1  # the plain way took it; the full way used requests


def slow_body(conn, hit: Hit) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2000\r\nConnection: close\r\n\r\n")
    for _ in range(20):
        conn.sendall(b"x" * 100)
        time.sleep(0.05)


def counting(*answers: bytes):
    """A route answering each request with the next of ``answers`` (the last one repeats)."""
    state = {"n": 0}

    def route(conn, hit):
        data = answers[min(state["n"], len(answers) - 1)]
        state["n"] += 1
        conn.sendall(data)
    return route


OTHER = {
    "redirect": ({"/p": response(302, b"", {"Location": "/q"}), "/q": response(200, REPORT_HTML, HTML)}, {}),
    "redirect_loop": ({"/p": response(301, b"", {"Location": "/p"})}, {}),
    "meta_refresh_stub": ({"/p": response(200, b'<meta http-equiv="refresh" content="0;url=/q">', HTML),
                           "/q": response(200, REPORT_HTML, HTML)}, {}),
    "set_cookie": ({"/p": response(200, REPORT_HTML, {**HTML, "Set-Cookie": "a=1; Path=/"})}, {}),
    "not_found": ({"/p": response(404, b"no", HTML, reason="Not Found")}, {}),
    "server_error_then_ok": ({"/p": Fresh(lambda: counting(response(500, b"boom"), response(200, REPORT_HTML, HTML)))},
                             {}),
    "retry_after": ({"/p": Fresh(lambda: counting(response(503, b"busy", {"Retry-After": "0"}),
                                                  response(200, REPORT_HTML, HTML)))}, {}),
    "too_many_requests": ({"/p": response(429, b"", {"Retry-After": "0"})}, {"retries": 1}),
    "unconditional_304": ({"/p": response(304, b"")}, {}),
    "no_content": ({"/p": response(204, b"", HTML)}, {}),
    "truncated": ({"/p": response(200, REPORT_HTML[:40], {**HTML, "Content-Length": str(len(REPORT_HTML))})},
                  {"retries": 1}),
    "truncated_gzip": ({"/p": response(200, gz(BIG)[:300], {**HTML, "Content-Encoding": "gzip",
                                                             "Content-Length": str(len(gz(BIG)))})}, {"retries": 1}),
    "gzip_cut_but_whole_length": ({"/p": response(200, gz(BIG)[:300], {**HTML, "Content-Encoding": "gzip"})}, {}),
    "chunks_cut_short": ({"/p": chunked(BIG, end=False)[:-10]}, {"retries": 1}),
    "too_large_by_header": ({"/p": response(200, REPORT_HTML, HTML)}, {"max_bytes": 100}),
    "too_large_by_body": ({"/p": b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BIG}, {"max_bytes": 5000}),
    "too_large_once_decoded": ({"/p": response(200, gz(BIG), {**HTML, "Content-Encoding": "gzip"})},
                               {"max_bytes": 5000}),
    "slow_body": ({"/p": slow_body}, {"max_body_seconds": 0.3, "retries": 0}),
    "bad_gzip": ({"/p": response(200, b"\x1f\x8bnot gzip at all" * 10, {**HTML, "Content-Encoding": "gzip"})}, {}),
    "unknown_coding": ({"/p": response(200, REPORT_HTML, {**HTML, "Content-Encoding": "br"})}, {}),
    "coding_with_space": ({"/p": response(200, gz(REPORT_HTML), {**HTML, "Content-Encoding": "gzip "})}, {}),
    "two_codings": ({"/p": response(200, gz(gz(REPORT_HTML)), {**HTML, "Content-Encoding": "gzip, gzip"})}, {}),
    "two_lengths": ({"/p": response(200, REPORT_HTML, {**HTML, "Content-Length": f"{len(REPORT_HTML)}, 5"})}, {}),
    "length_and_chunks": ({"/p": chunked(REPORT_HTML, {"Content-Length": "10"})}, {"retries": 0}),
    "folded_header": ({"/p": response(200, REPORT_HTML, {"Content-Type": "text/html;\r\n charset=utf-8"})}, {}),
    "partial_content": ({"/p": response(206, REPORT_HTML, HTML)}, {}),
    "reset": ({"/p": reset}, {"retries": 1}),
    "garbage_status": ({"/p": b"HTP/9 what\r\n\r\n"}, {"retries": 0}),
    "silence": ({"/p": lambda conn, hit: time.sleep(0.5)}, {"timeout": (1, 0.2), "retries": 1}),
    "not_a_report": ({"/p": response(200, b"hello, world " * 50, HTML)}, {}),
    "bad_chunk_size": ({"/p": chunked(REPORT_HTML).replace(b"\r\n\r\n", b"\r\n\r\nzz\r\n", 1)}, {"retries": 0}),
    "field_without_colon": ({"/p": response(200, REPORT_HTML, HTML).replace(b"\r\n\r\n", b"\r\nnonsense\r\n\r\n", 1)},
                            {}),
    "folded_field": ({"/p": response(200, REPORT_HTML, HTML).replace(b"\r\n\r\n", b"\r\nX-A: 1\r\n  2\r\n\r\n", 1)},
                     {}),
    "head_never_ends": ({"/p": lambda conn, hit: (conn.sendall(b"HTTP/1.1 200 OK\r\nX: 1\r\n"), time.sleep(0.5))},
                        {"timeout": (1, 0.2), "retries": 0}),
    "empty_answer": ({"/p": lambda conn, hit: None}, {"retries": 1}),
}


@pytest.mark.parametrize("case", sorted(OTHER))
def test_any_other_answer_gives_the_outcome_of_the_full_way(case, tmp_path, fast):
    routes, kw = OTHER[case]
    got = run_both(routes, tmp_path, fast, paths=["/p"], **kw)
    same_both_ways(got)
    assert got[True][2] == 0  # asked on the plain way's connection, never again through requests


def test_a_cookie_set_on_a_plain_way_answer_is_sent_from_then_on_the_full_way(tmp_path, fast, store):
    srv = RawServer()
    try:
        srv.add("/a", response(200, REPORT_HTML, {**HTML, "Set-Cookie": "waf=ok; Path=/"}))

        def needs_cookie(conn, hit):
            ok = "waf=ok" in hit.headers.get("cookie", "")
            conn.sendall(response(200, REPORT_HTML.replace(b"3", b"4"), HTML) if ok else response(403, b"no"))
        srv.add("/b", needs_cookie)
        f = fast(workers=1)
        with f:
            a, b = f.fetch_many([src(srv.url("/a")), src(srv.url("/b"))], store)
        assert (a.status, b.status, b.attempts) == (FETCHED, FETCHED, 1)
    finally:
        srv.close()


def test_cookies_in_the_session_or_a_proxy_send_everything_the_full_way(tmp_path, fast, store, monkeypatch):
    srv = RawServer()
    try:
        srv.add("/a", response(200, REPORT_HTML, HTML))
        f = fast(workers=1)
        sent = full_way_requests(f)
        f.session.cookies.set("sid", "1")
        with f:
            [a] = f.fetch_many([src(srv.url("/a"))], store)
        assert a.status == FETCHED and sent == [srv.url("/a")] and srv.hits[0].headers["cookie"] == "sid=1"

        # A proxy: the loopback server stands in for it (it receives the absolute URL).
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{srv.port}")
        monkeypatch.delenv("http_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        srv.add("http://report-site.invalid/a", response(200, REPORT_HTML, HTML))
        g = fast(workers=1)
        sent = full_way_requests(g)
        with g:
            [b] = g.fetch_many([src("http://report-site.invalid/a")], store)
        assert b.status == FETCHED
        assert sent == ["http://report-site.invalid/a"]
        assert srv.hits[-1].path == "http://report-site.invalid/a"
    finally:
        srv.close()


@pytest.mark.parametrize("url", [
    "http://h.example/a/b.html", "http://h.example:8080/a?x=1&y=%E4%B8%AD", "https://h.example/", "http://h.example/a;p=1",
    "http://H.example/a", "http://h.example/a/../b", "http://h.example/./b", "http://h.example/a%41", "http://h.example/a%e4",
    "http://h.example/a b", "http://h.example/a?", "http://h.example/a#frag", "http://h.example", "http://h.example/中",
    "http://u:p@h.example/a", "ftp://h.example/a", "http://h.example:/a", "http://h.example/a?b?c", "http://h.example//a",
    "http://h.example/a%2F", "http://.h/a", "http://h.example/~u/(1)/*,$!'+=:@", "http://h.example./a",
    "http://h_x.example/a", "http://h.example:80/a", "https://h.example:443/a?b=%2F",
])
def test_a_plain_target_is_what_requests_sends(url):
    plain = plain_target(url)
    if plain is None:
        return  # the full way prepares it
    prep = requests.PreparedRequest()
    prep.prepare(method="GET", url=url)
    sent = urllib3.util.parse_url(prep.url)
    assert plain == (sent.scheme, sent.host, sent.port, prep.path_url)


def test_a_negative_chunk_size_is_a_truncated_body(tmp_path, fast, store):
    srv = RawServer()
    try:
        srv.add("/p", chunked(REPORT_HTML).replace(b"\r\n\r\n", b"\r\n\r\n-5\r\n", 1))
        with fast(retries=0) as f:
            [out] = f.fetch_many([src(srv.url("/p"))], store)
        assert (out.status, out.error, out.attempts) == ("failed", "truncated", 1)
    finally:
        srv.close()


def test_a_negative_chunk_size_on_the_full_way_fails_that_report_only(tmp_path, fast, store):
    # http.client raises ValueError under urllib3's read: once it stopped the whole fetch.
    srv = RawServer()
    try:
        srv.add("/p", chunked(REPORT_HTML).replace(b"\r\n\r\n", b"\r\n\r\n-5\r\n", 1))
        srv.add("/q", response(200, REPORT_HTML, HTML))
        with fast(retries=0) as f:
            f.session.cookies.set("seen", "1")  # a cookie to send: every request goes the full way
            bad, good = f.fetch_many([src(srv.url("/p")), src(srv.url("/q"))], store)
        assert (bad.status, bad.error, bad.attempts) == ("failed", "truncated", 1)
        assert good.status == FETCHED
    finally:
        srv.close()
