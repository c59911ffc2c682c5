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

import http.client
import ssl
import threading
from urllib.parse import urlsplit


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
            if self._ssl is None:
                import certifi

                self._ssl = ssl.create_default_context(
                    cafile=self.verify if isinstance(self.verify, str) else certifi.where())
            conn = http.client.HTTPSConnection(host, port, timeout=self.timeout[0], context=self._ssl)
        conn.connect()
        conn.sock.settimeout(self.timeout[1])
        conn.sock.setsockopt(6, 1, 1)  # TCP_NODELAY: a small request must not wait for an ACK
        return conn
