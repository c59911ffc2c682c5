"""A raw-socket loopback HTTP server for faults that HTTP libraries will not produce
(resets, short bodies, lying Content-Length, silence), and response helpers."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    start: float  # time.monotonic() when the request head arrived
    end: float = 0.0


def response(
    status: int = 200, body: bytes = b"", headers: dict[str, str] | None = None, reason: str = "X"
) -> bytes:
    head = [f"HTTP/1.1 {status} {reason}"]
    hdrs = {"Content-Length": str(len(body)), "Connection": "close"}
    hdrs.update(headers or {})
    head += [f"{k}: {v}" for k, v in hdrs.items() if v is not None]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


Route = Callable[[socket.socket, Hit], None]


def _listen() -> tuple[socket.socket, int]:
    """A listening socket on a free loopback port, and the port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock, sock.getsockname()[1]


class _Listening:
    """What both servers share: a listening socket on a free loopback port with an accept thread
    (``_accept``), the requests' hits, and how many were received and not yet answered."""

    hits: list[Hit]

    def _start(self) -> None:
        self.sock, self.port = _listen()
        self.lock = threading.Lock()
        self.inflight = 0
        self.max_inflight = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _arrived(self, head_lines: list[list[str]]) -> list[Hit]:
        """Hits of the requests whose heads (lines) arrived, counted in flight."""
        hits = [Hit(head[0].split(" ")[1],
                    {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in head[1:])},
                    time.monotonic()) for head in head_lines]
        with self.lock:
            self.hits += hits
            self.inflight += len(hits)
            self.max_inflight = max(self.max_inflight, self.inflight)
        return hits

    def _answered(self, n: int = 1) -> None:
        with self.lock:
            self.inflight -= n

    def _accept(self) -> None:
        raise NotImplementedError

    def _stop_listening(self) -> None:
        """Closing the socket alone does not stop an accept() blocked in another thread (Linux keeps
        the socket until it returns, still accepting a connection): shut it down first."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


@dataclass
class RawServer(_Listening):
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self):
        self._stop = False
        self._start()

    def add(self, path: str, fn: Route | bytes) -> None:
        if isinstance(fn, bytes):
            data = fn
            self.routes[path] = lambda conn, hit: conn.sendall(data)
        else:
            self.routes[path] = fn

    def count(self, path: str) -> int:
        return sum(1 for h in self.hits if h.path == path)

    def _accept(self):
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        with conn:
            buf = b""
            while b"\r\n\r\n" not in buf:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buf += chunk
            [hit] = self._arrived([buf.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")])
            try:
                route = self.routes.get(hit.path)
                if route is None:
                    conn.sendall(response(404, b"no route"))
                else:
                    route(conn, hit)
            except OSError:
                pass
            finally:
                hit.end = time.monotonic()
                self._answered()

    def close(self):
        self._stop = True
        self._stop_listening()


def reset(conn: socket.socket, hit: Hit) -> None:
    """Abort the connection: SO_LINGER 0 makes close() send a TCP RST."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


REPORT_HTML = (
    "<html><head><meta charset='utf-8'><title>2024年政府信息公开工作年度报告</title></head>"
    "<body><p>一、总体情况</p><p>本机关2024年新收政府信息公开申请3件。</p></body></html>"
).encode()


@dataclass
class KeepAliveServer(_Listening):
    """A loopback HTTP/1.1 server that keeps connections open and reads pipelined requests:
    ``answer(hit) -> (response bytes, close after it)``. It counts requests received and not yet
    answered, over all connections (``max_inflight``), and each connection opened."""

    answer: Callable[[Hit], tuple[bytes, bool]]
    delay: float = 0.0  # before each answer, so that requests pile up if the client sends them
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self):
        self.connections = 0
        self.open: list[socket.socket] = []
        self.gone = False
        self._start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                if self.gone:  # accepted while close() ran: a gone host answers nothing
                    conn.close()
                    return
                self.connections += 1
                self.open.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket):
        with conn:
            buf = b""
            while True:
                while b"\r\n\r\n" not in buf:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    buf += chunk
                heads = []
                while b"\r\n\r\n" in buf:  # every request already received, pipelined ones too
                    head, buf = buf.split(b"\r\n\r\n", 1)
                    heads.append(head.decode("latin-1").split("\r\n"))
                hits = self._arrived(heads)
                for hit in hits:
                    time.sleep(self.delay)
                    data, close = self.answer(hit)
                    hit.end = time.monotonic()
                    self._answered()
                    try:
                        conn.sendall(data)
                    except OSError:
                        return
                    if close:
                        self._answered(len(hits) - hits.index(hit) - 1)  # never answered
                        return

    def close(self):
        """Stop listening and drop every open connection: the host is gone."""
        with self.lock:
            self.gone = True
        self._stop_listening()
        with self.lock:
            for conn in self.open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
