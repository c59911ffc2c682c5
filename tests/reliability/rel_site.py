"""A loopback "government site" for the pipeline drills: generated report pages plus faults.

Raw sockets, so that it can misbehave the way real servers do (resets, short bodies, slow
drips, lying headers). ``Site.page(path, report)`` serves a report rendered by
testkit.render; ``Site.route(path, fn)`` any behaviour; ``Site.hits`` counts requests.
``registry(rows)`` writes a registry CSV for ``xxgk run --sources``.
"""

from __future__ import annotations

import contextlib
import csv
import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from testkit import synth
from testkit.render import render_html

PARAGRAPHS = ["一、总体情况", "本年度认真贯彻落实条例。", "二、主动公开政府信息情况", "三、收到和处理政府信息公开申请情况",
              "四、政府信息公开行政复议、行政诉讼情况", "五、存在的主要问题及改进情况", "六、其他需要报告的事项"]


def report_page(agency: str, year: int = 2024, seed: int = 0, encoding: str = "utf-8") -> tuple[dict, bytes]:
    """A synthetic report (numbers satisfying the invariants) as a page; (report, bytes)."""
    rep = synth.make_report(seed, agency=agency, year=year)
    page = render_html(rep, title=f"{agency}{year}年政府信息公开工作年度报告", paragraphs=PARAGRAPHS, encoding=encoding)
    return rep, page


def response(status: int = 200, body: bytes = b"", headers: dict | None = None, reason: str = "X") -> bytes:
    hdrs = {"Content-Length": str(len(body)), "Connection": "close", **(headers or {})}
    head = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in hdrs.items() if v is not None]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


Route = Callable[[socket.socket, int], None]  # (connection, how many times this path was hit before)


class Site:
    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.routes: dict[str, Route] = {}
        self.hits: Counter = Counter()
        self.lock = threading.Lock()
        self.delay = 0.0  # seconds before every answer (to stretch the fetch step)
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    # ------------------------------------------------------------------ behaviours
    def route(self, path: str, fn: Route) -> str:
        self.routes[path] = fn
        return self.url(path)

    def raw(self, path: str, data: bytes) -> str:
        return self.route(path, lambda conn, n: conn.sendall(data))

    def page(self, path: str, body: bytes, ctype: str = "text/html; charset=utf-8") -> str:
        return self.raw(path, response(200, body, {"Content-Type": ctype}))

    def sequence(self, path: str, answers: list[bytes]) -> str:
        """The n-th request gets answers[n] (the last one for ever after)."""
        return self.route(path, lambda conn, n: conn.sendall(answers[min(n, len(answers) - 1)]))

    def reset(self, path: str) -> str:
        def fn(conn, n):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
        return self.route(path, fn)

    def drip(self, path: str, body: bytes, every: float, chunk: int = 1) -> str:
        """Headers at once, then ``chunk`` bytes every ``every`` seconds."""
        def fn(conn, n):
            conn.sendall(response(200, b"", {"Content-Length": str(len(body)),
                                             "Content-Type": "text/html; charset=utf-8"}))
            for i in range(0, len(body), chunk):
                conn.sendall(body[i:i + chunk])
                time.sleep(every)
        return self.route(path, fn)

    # ------------------------------------------------------------------ server
    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(30)
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
            path = buf.split(b" ", 2)[1].decode("latin-1").split("?")[0]
            with self.lock:
                n = self.hits[path]
                self.hits[path] += 1
            if self.delay:
                time.sleep(self.delay)
            fn = self.routes.get(path)
            if fn is None:
                conn.sendall(response(404, b"not found", {"Content-Type": "text/plain"}))
            else:
                fn(conn, n)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()


def registry(path: Path, rows: list[tuple[str, int, str]], province: str = "贵州省") -> Path:
    """A registry CSV of (agency, year, url) rows."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["agency", "year", "url", "province", "city", "county", "level", "parent"])
        for agency, year, url in rows:
            w.writerow([agency, year, url, province, "", "", "部门", ""])
    return path


@contextlib.contextmanager
def watching_server(body: bytes = b""):
    """A loopback server that records every path requested of it (hostile documents point
    their external entities and DTDs at it) and answers each with ``body``.
    Yields (base URL, the list of paths requested)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    hits: list[str] = []

    class Watch(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Watch)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_address[1]}", hits
    finally:
        srv.shutdown()
        srv.server_close()
