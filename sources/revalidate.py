"""The commonest request of a re-run, a conditional GET answered 304, without requests' machinery.

``requests`` spends ~0.5 ms of CPU preparing a request and building its response; an unchanged
re-run of 10,000 reports is little else. Here the request goes out on a keep-alive
``http.client`` connection of the calling thread (one per host and thread, so within the
fetcher's per-host limit), and only a plain 304 is taken. Any other answer (a new body, a
redirect, an error, a 304 that sets a cookie) or any trouble returns None, and the fetcher asks
again the full way (redirects, retries, cookies, size limits, failure codes). A host that timed
out here is not tried this way again by this fetcher.
"""

from __future__ import annotations

import asyncio
import collections
import http.client
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sources.plainget import plain_target


class Revalidator:
    def __init__(self, headers: dict[str, str], timeout: tuple[float, float], verify: bool | str = True) -> None:
        self.headers = dict(headers)
        self.timeout = timeout
        self.verify = verify
        self._local = threading.local()
        self._ssl: ssl.SSLContext | None = None
        self._slow_hosts: set[str] = set()

    def usable(self, url: str) -> bool:
        parts = urlsplit(url)
        return (parts.scheme in ("http", "https") and not parts.username and not parts.password
                and parts.netloc.lower() not in self._slow_hosts and self.verify is not False)

    def slow(self, netloc: str) -> bool:
        """The host (``netloc``, lower case) timed out here: not asked this way again."""
        return netloc in self._slow_hosts

    def not_modified(self, url: str, validators: dict[str, str]):
        """(True, response headers) for a 304; (False, requests made: 0 or 1) otherwise."""
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc.lower())
        conns = self._conns()
        conn = conns.get(key)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        sent = 0
        try:
            if conn is None:
                conn = conns[key] = self._connect(parts)
            conn.request("GET", path, headers={**self.headers, **validators})
            sent = 1
            resp = conn.getresponse()
            if resp.status != 304 or resp.getheader("Set-Cookie") is not None:
                conns.pop(key, None)
                conn.close()  # not read: the full path asks again
                return False, sent
            resp.read()
            if resp.will_close:
                conns.pop(key, None)
                conn.close()
            return True, resp.headers
        except (TimeoutError, http.client.HTTPException, OSError, ValueError) as e:
            conns.pop(key, None)
            if conn is not None:
                conn.close()
            if isinstance(e, TimeoutError):
                self._slow_hosts.add(parts.netloc.lower())
            return False, sent

    def ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            import certifi

            self._ssl = ssl.create_default_context(cafile=self.verify if isinstance(self.verify, str) else certifi.where())
        return self._ssl

    def _conns(self) -> dict:
        conns = getattr(self._local, "conns", None)
        if conns is None:
            conns = self._local.conns = {}
        return conns

    def _connect(self, parts) -> http.client.HTTPConnection:
        host, port = parts.hostname or "", parts.port
        if parts.scheme == "http":
            conn = http.client.HTTPConnection(host, port, timeout=self.timeout[0])
        else:
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout[0], context=self.ssl_context())
        conn.connect()
        conn.sock.settimeout(self.timeout[1])
        conn.sock.setsockopt(6, 1, 1)  # TCP_NODELAY: a small request must not wait for an ACK
        return conn


# --------------------------------------------------------------------------- many at once

_PLAIN_TARGET = re.compile(r"[!-~]+")  # printable ASCII, no space: sent as it is


def _scheme_netloc_target(url: str) -> tuple[str, str, str]:
    """(scheme, netloc, request target) of ``url``, as ``urlsplit`` gives them: for the commonest URL, one
    requests sends as it is (sources/plainget.py ``plain_target``), without urlsplit (a tenth of this
    module's CPU for 10,000 conditional requests went to it)."""
    plain = plain_target(url)
    if plain is None:
        parts = urlsplit(url)
        return parts.scheme, parts.netloc, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    scheme, _host, _port, target = plain
    return scheme, url[len(scheme) + 3 : len(url) - len(target)], target


def revalidate_many(jobs: list[tuple[int, str, dict[str, str]]], headers: dict[str, str], timeout: tuple[float, float],
                    verify: bool | str, max_per_host: int, min_delay: float, stop: threading.Event | None = None,
                    deadline: float | None = None, max_connections: int = 16, connections_per_host: int = 2,
                    meanwhile: Callable[[], None] | None = None,
                    ) -> tuple[dict[int, dict[str, str]], dict[int, int], dict[str, float]]:
    """Conditional GETs ``(key, url, validators)`` for many URLs at once, from one thread.

    Hosts are asked concurrently (at most ``max_connections`` connections in all); each host gets
    at most ``max_per_host`` requests in flight, counting the ones pipelined on a keep-alive
    connection (a connection asks one request alone first, and pipelines only when the answer
    keeps it open), and with ``min_delay`` one request at a time, starts ``min_delay`` apart.
    Only a plain 304 is taken. Any other answer, and every key of a host that fails (refused,
    reset twice, silent for the read timeout, 429 or 5xx, three other answers), is left to the
    caller, which asks it the full way and records what becomes of it.

    ``meanwhile()``, if given, runs in the calling thread while the requests are out (their thread mostly
    waits on the hosts): work of the caller's that does not depend on the answers.

    Returns (headers of the 304 by key: ETag and Last-Modified; requests made by key; the time,
    ``time.monotonic()``, of the last request started per host ``netloc``).
    """
    if not jobs:
        return {}, {}, {}
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["out"] = asyncio.run(_revalidate(jobs, headers, timeout, verify, max_per_host, min_delay,
                                                 stop or threading.Event(), deadline, max_connections,
                                                 connections_per_host))
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread
            box["error"] = e

    # A thread of its own: the caller may be inside a running event loop (a Prefect task).
    t = threading.Thread(target=run, name="xxgk-revalidate", daemon=True)
    t.start()
    try:
        if meanwhile is not None:
            meanwhile()
    finally:
        t.join()
    if "error" in box:
        raise box["error"]
    return box["out"]


class _Host:
    def __init__(self, scheme: str, netloc: str, hostname: str, port: int) -> None:
        self.scheme, self.netloc, self.hostname, self.port = scheme, netloc, hostname, port
        self.queue: collections.deque = collections.deque()
        self.given_up = False
        self.others = 0  # answers other than a plain 304
        self.errors = 0  # connections lost
        self.next_start = 0.0
        self.last_start = 0.0
        self.window = 1


async def _revalidate(jobs, headers, timeout, verify, max_per_host, min_delay, stop, deadline, max_connections,
                      connections_per_host):
    fresh: dict[int, dict[str, str]] = {}
    asked: dict[int, int] = {}
    hosts: dict[tuple[str, str], _Host] = {}
    common = "".join(f"{k}: {v}\r\n" for k, v in headers.items() if k.lower() != "host")
    for key, url, validators in jobs:
        scheme, netloc, target = _scheme_netloc_target(url)
        values = "".join(validators.values())
        if not _PLAIN_TARGET.fullmatch(target) or "\r" in values or "\n" in values or not values.isascii():
            continue  # the full way quotes and checks what this would send as it is
        hk = (scheme, netloc.lower())
        host = hosts.get(hk)
        if host is None:
            parts = urlsplit(url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
            host = hosts[hk] = _Host(parts.scheme, parts.netloc, parts.hostname or "", port)
        req = (f"GET {target} HTTP/1.1\r\nHost: {netloc}\r\n{common}"
               + "".join(f"{k}: {v}\r\n" for k, v in validators.items()) + "\r\n").encode("ascii")
        host.queue.append((key, req))
    ssl_ctx = None
    if any(h.scheme == "https" for h in hosts.values()):
        ssl_ctx = Revalidator(headers, timeout, verify).ssl_context()
    slots = asyncio.Semaphore(max(1, max_connections))
    conns = []
    for host in hosts.values():
        n = 1 if min_delay > 0 else max(1, min(connections_per_host, max_per_host, len(host.queue)))
        host.window = 1 if min_delay > 0 else max(1, max_per_host // n)
        conns += [_connection(host, slots, ssl_ctx, timeout, min_delay, stop, deadline, fresh, asked)
                  for _ in range(n)]
    await asyncio.gather(*conns)
    return fresh, asked, {h.netloc.lower(): h.last_start for h in hosts.values() if h.last_start}


async def _connection(host: _Host, slots, ssl_ctx, timeout, min_delay, stop, deadline, fresh, asked) -> None:
    async with slots:
        while host.queue and not host.given_up:
            try:
                async with asyncio.timeout(timeout[0]):
                    reader, writer = await asyncio.open_connection(
                        host.hostname, host.port, ssl=ssl_ctx if host.scheme == "https" else None,
                        server_hostname=host.hostname if host.scheme == "https" else None)
            except (OSError, TimeoutError, ssl.SSLError, ValueError):
                host.given_up = True  # the full way tries, fails with its own reason, and records it
                return
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            try:
                await _ask(host, reader, writer, timeout, min_delay, stop, deadline, fresh, asked)
            finally:
                writer.close()
            if stop.is_set() or (deadline is not None and time.monotonic() > deadline):
                return


async def _ask(host: _Host, reader, writer, timeout, min_delay, stop, deadline, fresh, asked) -> None:
    """Requests on one connection until the host's queue is empty or the connection must end."""
    window = 1  # the first request alone: pipeline only on a connection that stays open
    while host.queue and not host.given_up:
        if stop.is_set() or (deadline is not None and time.monotonic() > deadline):
            return  # what is left goes the full way, which says why it was not asked
        if min_delay > 0:
            wait = host.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        batch = [host.queue.popleft() for _ in range(min(window, len(host.queue)))]
        host.last_start = now = time.monotonic()
        host.next_start = now + min_delay
        for key, _req in batch:
            asked[key] = asked.get(key, 0) + 1
        answered = 0
        try:
            writer.write(b"".join(req for _key, req in batch))
            async with asyncio.timeout(timeout[1]):
                for key, _req in batch:
                    head = await reader.readuntil(b"\r\n\r\n")
                    got, keep_open = _plain_304(head)
                    answered += 1
                    if got is None:
                        host.others += 1
                        status = head[9:12]
                        if host.others >= 3 or status == b"429" or status[:1] == b"5":
                            host.given_up = True  # the full way honours Retry-After and retries
                        host.queue.extendleft(reversed(batch[answered:]))
                        return
                    fresh[key] = got
                    if not keep_open:
                        host.queue.extendleft(reversed(batch[answered:]))
                        return
        except TimeoutError:
            host.given_up = True  # a silent host: the full way times out and counts it
            return
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            host.queue.extendleft(reversed(batch[answered:]))
            host.errors += 1
            host.given_up = host.errors >= 2
            return
        window = host.window


def _plain_304(head: bytes) -> tuple[dict[str, str] | None, bool]:
    """(ETag and Last-Modified of a plain 304 or None, whether the connection stays open)."""
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split(" ", 2)
    if len(status) < 2 or not status[0].startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    fields: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip().lower()] = value.strip()
    conn = fields.get("connection", "").lower()
    keep_open = "close" not in conn and (status[0] != "HTTP/1.0" or "keep-alive" in conn)
    plain = (status[1] == "304" and "set-cookie" not in fields and "transfer-encoding" not in fields
             and fields.get("content-length", "0") == "0")
    if not plain:
        return None, False
    got = {k: fields[k.lower()] for k in ("ETag", "Last-Modified") if k.lower() in fields}
    return got, keep_open
