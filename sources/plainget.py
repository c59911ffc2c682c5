"""The commonest request of a first run, a GET answered 200 with a body, without requests' machinery.

``requests``, urllib3 and http.client spend ~0.6 ms of CPU sending a request and building and
streaming its response: half of what a new report cost the fetcher. ``Fetcher`` sends a plain GET
(no proxy, no cookie, no credentials, a URL requests would send as it is, the session's headers) on
a keep-alive socket of the calling thread (one per origin, so within the per-host limit), and reads
here a plain answer: status 200 in a head of plain ``Name: value`` lines, no cookie, no content
coding but gzip or deflate (decoded by urllib3's own decoders, as the full way does), a length of
digits or chunks. Its body is read under the fetcher's limits (size, truncation, body deadline) and
fails with the codes the full way gives.

Any other answer (a redirect, an error status, a cookie, another coding, odd framing or head) is not
asked again: its bytes go to http.client, and it becomes the ``requests.Response`` the full way
builds from that http.client response (urllib3's ``HTTPResponse`` over it); the fetcher goes on the
full way. No socket could be made: nothing was sent (``NotSent``), the full way asks, and the origin
is not asked this way again.
"""

from __future__ import annotations

import http.client
import io
import re
import select
import socket
import ssl
import threading
import zlib
from collections.abc import Callable, Iterator

import requests
import urllib3
import urllib3.connection
import urllib3.exceptions as u3
from urllib3.response import DeflateDecoder, GzipDecoder

_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
# What requests would send unchanged: a lower-case host of plain labels, a path and query of
# characters requote_uri and urllib3 leave as they are, no fragment, no dot segment, no empty query,
# and no %-escape that requests would decode (of an unreserved character) or urllib3 re-case.
_PLAIN_URL = re.compile(
    rf"(http|https)://({_LABEL}(?:\.{_LABEL})*)(?::([0-9]{{1,5}}))?"
    r"(/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-F]{2})+)?)"
)
_NOT_PLAIN_PATH = re.compile(r"/\.\.?(?:[/?]|$)|%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2[DE]|5F|7E)")

_DECODERS = {"gzip": GzipDecoder, "x-gzip": GzipDecoder, "deflate": DeflateDecoder}  # urllib3's CONTENT_DECODERS
_PLAIN_CODINGS = frozenset(("", "identity", *_DECODERS))
_STATUS_200 = (b"HTTP/1.1 200 ", b"HTTP/1.0 200 ", b"HTTP/1.1 200\r\n", b"HTTP/1.0 200\r\n")
_FIELD = re.compile(r"([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\r\n]*)")  # what the email parser reads alike
_MAX_HEAD = 65536  # longer heads, and more than 100 fields, are left to http.client (which refuses them)
_READ = 65536

# What reading a response may raise: the socket's and http.client's errors, urllib3's (a decoder's).
NET_ERRORS = (OSError, http.client.HTTPException, u3.HTTPError)


class NotSent(Exception):
    """No request went out (no socket could be made): the caller asks the full way."""


def plain_target(url: str) -> tuple[str, str, int | None, str] | None:
    """(scheme, host, port, request target) when requests would send ``url`` as it is, the target
    being the path and query it sends; None otherwise (the full way prepares it)."""
    m = _PLAIN_URL.fullmatch(url)
    if m is None or _NOT_PLAIN_PATH.search(m.group(4)):
        return None
    port = m.group(3)
    return m.group(1), m.group(2), int(port) if port else None, m.group(4)


class Headers(dict):
    """Response header fields by lower-case name, repeated ones joined with ", " (as requests'
    ``Response.headers`` gives them); any case is taken."""

    def get(self, name: str, default=None):  # type: ignore[override]
        return dict.get(self, name if name.islower() else name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name.lower() if isinstance(name, str) else name)


class PlainGets:
    """Plain GETs on keep-alive sockets of each thread, one per origin."""

    def __init__(self, headers: dict[str, str], timeout: tuple[float, float],
                 ssl_context: Callable[[], ssl.SSLContext]) -> None:
        self.timeout = timeout
        self._ssl_context = ssl_context
        self._local = threading.local()
        self._given_up: set[tuple[str, str, int | None]] = set()
        self._common = _header_lines(headers)
        self._every: list[dict] = []  # each thread's idle sockets, for close()
        self._lock = threading.Lock()

    def usable(self, scheme: str, host: str, port: int | None) -> bool:
        return self._common is not None and (scheme, host, port) not in self._given_up

    def get(self, scheme: str, host: str, port: int | None, target: str):
        """GET ``target``: a ``PlainResponse``, or the http.client response of any other answer
        (its head read). Raises NotSent, or after the request went out what the socket or
        http.client raise (one request made)."""
        key = (scheme, host, port)
        socks = self._socks()
        sock = socks.pop(key, None)
        if sock is not None and _readable(sock):  # closed by the server while idle (urllib3 checks alike)
            sock.close()
            sock = None
        if sock is None:
            try:
                sock = self._connect(scheme, host, port)
            except (OSError, ValueError) as e:
                self._given_up.add(key)
                raise NotSent(f"{type(e).__name__}: {e}") from e
        default = 443 if scheme == "https" else 80
        host_field = host if port is None or port == default else f"{host}:{port}"
        try:
            sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {host_field}\r\n{self._common}\r\n".encode("latin-1"))
            return self._answer(sock, key)
        except BaseException:
            sock.close()
            raise

    def _answer(self, sock: socket.socket, key: tuple):
        buf = sock.recv(_READ)
        end = -1
        while buf:
            end = _head_end(buf)
            if end >= 0 or len(buf) > _MAX_HEAD or (b"\n" in buf and not buf.startswith(_STATUS_200)):
                break
            more = sock.recv(_READ)
            if not more:
                break
            buf += more
        head = _plain_head(buf[:end]) if end >= 0 and buf.startswith(_STATUS_200) else None
        if head is None:  # http.client reads it from the bytes received and the rest of the socket
            resp = http.client.HTTPResponse(_Received(sock, buf), method="GET")  # type: ignore[arg-type]
            resp.begin()
            return resp
        fields, reason, keep_alive = head
        return PlainResponse(fields, reason, _Body(sock, buf[end:], fields, keep_alive, lambda: self._keep(sock, key)))

    def _keep(self, sock: socket.socket, key: tuple) -> None:
        socks = self._socks()
        old = socks.get(key)
        if old is not None:
            old.close()
        socks[key] = sock

    def _socks(self) -> dict:
        socks = getattr(self._local, "socks", None)
        if socks is None:
            socks = self._local.socks = {}
            with self._lock:
                self._every.append(socks)
        return socks

    def close(self) -> None:
        """Close the idle sockets of every thread."""
        with self._lock:
            every, self._every = self._every, []
        for socks in every:
            _close_all(socks)

    def close_thread(self) -> None:
        """Close the calling thread's idle sockets (it asks nothing more)."""
        socks = getattr(self._local, "socks", None)
        if socks is not None:
            del self._local.socks
            with self._lock:
                self._every = [s for s in self._every if s is not socks]
            _close_all(socks)

    def _connect(self, scheme: str, host: str, port: int | None) -> socket.socket:
        sock = socket.create_connection((host, port or (443 if scheme == "https" else 80)), timeout=self.timeout[0])
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # a small request must not wait for an ACK
            if scheme == "https":
                sock = self._ssl_context().wrap_socket(sock, server_hostname=host)
            sock.settimeout(self.timeout[1])
        except BaseException:
            sock.close()
            raise
        return sock


def _close_all(socks: dict) -> None:
    for key in list(socks):
        sock = socks.pop(key, None)
        if sock is not None:
            sock.close()


def _header_lines(headers: dict[str, str]) -> str | None:
    """The session's header fields as http.client sends them, or None when it would refuse one
    (every request then goes the full way, which says why)."""
    lines = []
    for name, value in headers.items():
        if name.lower() == "host" or not name.isascii() or not re.fullmatch(r"[^:\s][^:\r\n]*", name) or re.search(r"[\r\n]", value):
            return None
        lines.append(f"{name}: {value}\r\n")
    text = "".join(lines)
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return None
    return text


def _readable(sock: socket.socket) -> bool:
    poll = select.poll()
    poll.register(sock, select.POLLIN)
    return bool(poll.poll(0))


def _head_end(buf: bytes) -> int:
    """Where the head ends (after its empty line, as http.client finds it), or -1."""
    crlf, lf = buf.find(b"\n\r\n"), buf.find(b"\n\n")
    if crlf < 0:
        return lf + 2 if lf >= 0 else -1
    return crlf + 3 if lf < 0 or crlf < lf else lf + 2


def _plain_head(head: bytes) -> tuple[Headers, str, bool] | None:
    """(fields, reason, connection reusable) of a plain 200's head; None for any other."""
    if not head.endswith(b"\r\n\r\n"):
        return None
    text = head[:-4].decode("latin-1")
    lines = text.split("\r\n")
    if len(lines) > 101 or "\n" in text.replace("\r\n", "") or "\r" in text.replace("\r\n", ""):
        return None
    fields = Headers()
    for line in lines[1:]:
        m = _FIELD.fullmatch(line)
        if m is None or len(line) > _MAX_HEAD:
            return None
        key, value = m.group(1).lower(), m.group(2)
        fields[key] = f"{dict.__getitem__(fields, key)}, {value}" if dict.__contains__(fields, key) else value
    get = fields.get  # names in lower case from here on
    if get("set-cookie") is not None or get("set-cookie2") is not None \
            or get("content-encoding", "").lower() not in _PLAIN_CODINGS:
        return None
    length, coding = get("content-length"), get("transfer-encoding")
    if coding is not None and (coding.lower() != "chunked" or length is not None):
        return None  # chunks only, and no length beside them
    if length is not None and not (length.isascii() and length.isdigit()):
        return None  # a length that http.client, urllib3 and the fetcher might read differently
    keep_alive = lines[0].startswith("HTTP/1.1") and "close" not in get("connection", "").lower() and (
        length is not None or coding is not None)
    return fields, lines[0][12:].strip(), keep_alive


class _Received(io.RawIOBase):
    """The bytes already received, then the socket's: what http.client reads a response from."""

    def __init__(self, sock: socket.socket, received: bytes) -> None:
        self._sock, self._received = sock, memoryview(received)

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(self)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self._received:
            n = min(len(b), len(self._received))
            b[:n] = self._received[:n]
            self._received = self._received[n:]
            return n
        return self._sock.recv_into(b)

    def close(self) -> None:
        super().close()
        self._sock.close()


class _Body:
    """A plain answer's body on the wire: by its length, in chunks, or up to the end of the connection."""

    def __init__(self, sock: socket.socket, received: bytes, fields: Headers, keep_alive: bool, keep) -> None:
        self.sock, self.received, self.keep_alive, self.keep = sock, received, keep_alive, keep
        self.chunked = "transfer-encoding" in fields
        self.length = int(fields["content-length"]) if "content-length" in fields else None

    def chunks(self, size: int) -> Iterator[bytes]:
        """The body's bytes (encoded as sent); raises IncompleteRead where urllib3 does."""
        if self.chunked:
            yield from self._chunked(size)
            return
        left = self.length
        data = self.received if left is None else self.received[:left]
        if len(data) < len(self.received):
            self.keep_alive = False  # more than the answer: the connection is not reused
        self.received = b""
        while True:
            if data:
                yield data
                if left is not None:
                    left -= len(data)
            if left == 0:
                return
            data = self.sock.recv(size if left is None else min(size, left))
            if not data:
                if left is not None:
                    self.keep_alive = False
                    raise http.client.IncompleteRead(b"", left)
                self.keep_alive = False
                return

    def _chunked(self, size: int) -> Iterator[bytes]:
        """Chunks read as urllib3 reads them (``read_chunked``): the size line up to ";" in hex,
        the data, two bytes tossed; at size 0, lines up to an empty one or the end."""
        buf = self.received
        self.received = b""

        def fill(need: int) -> bytes:
            nonlocal buf
            while len(buf) < need:
                more = self.sock.recv(max(size, need - len(buf)))
                if not more:
                    self.keep_alive = False
                    raise http.client.IncompleteRead(buf, need - len(buf))
                buf += more
            return buf

        def line() -> bytes:
            nonlocal buf
            while (i := buf.find(b"\n")) < 0:
                if len(buf) > _MAX_HEAD:
                    raise http.client.IncompleteRead(b"", None)
                more = self.sock.recv(size)
                if not more:
                    got, buf = buf, b""
                    return got
                buf += more
            got, buf = buf[:i + 1], buf[i + 1:]
            return got

        while True:
            size_line = line()
            try:
                left = int(size_line.split(b";", 1)[0], 16)
            except ValueError:
                self.keep_alive = False
                raise http.client.IncompleteRead(b"", None) from None
            if left < 0:
                self.keep_alive = False
                raise http.client.IncompleteRead(b"", None)
            if left == 0:
                break
            while left:
                if not buf:
                    fill(1)
                data, buf = buf[:left], buf[left:]
                left -= len(data)
                yield data
            fill(2)
            buf = buf[2:]
        while True:  # trailer lines, up to an empty one (or the end: some sites stop there)
            got = line()
            if not got:
                self.keep_alive = False
                break
            if got == b"\r\n":
                break
        if buf:
            self.keep_alive = False

    def close(self, whole: bool) -> None:
        if whole and self.keep_alive:
            self.keep()
        else:
            self.sock.close()


class PlainResponse:
    """A plain answer (status 200): what ``Fetcher`` asks of a ``requests.Response``
    (status_code, reason, headers, iter_content, close)."""

    status_code = 200

    def __init__(self, headers: Headers, reason: str, body: _Body) -> None:
        self.headers, self.reason, self._body = headers, reason, body
        self._whole = False

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        """The body, decoded as urllib3 decodes it; raises urllib3's DecodeError for a coding that
        does not decode, http.client's IncompleteRead for a body cut short (as urllib3 does), the
        socket's errors as they come."""
        coding = self.headers.get("content-encoding", "").lower()
        decoder = _DECODERS[coding]() if coding in _DECODERS else None
        for data in self._body.chunks(chunk_size):
            if decoder is not None:
                data = _decode(decoder, data, coding)
                if not data:
                    continue
            yield data
        if decoder is not None:
            tail = _decode(decoder, None, coding)
            if tail:
                yield tail
        self._whole = True

    def close(self) -> None:
        """Read to its end, the connection serves this thread's next GET to the origin; else it is closed."""
        self._body.close(self._whole)


def _decode(decoder, data: bytes | None, coding: str) -> bytes:
    """urllib3's decoding of ``data`` (None: the decoder's flush at the end, as urllib3 does)."""
    try:
        if data is None:
            return decoder.decompress(b"") + decoder.flush()
        return decoder.decompress(data)
    except (OSError, zlib.error) as e:
        raise u3.DecodeError(f"Received response with content-encoding: {coding}, but failed to decode it.", e) from e


def as_requests_response(resp: http.client.HTTPResponse, prep: requests.PreparedRequest,
                         adapter: requests.adapters.HTTPAdapter) -> requests.Response:
    """The ``requests.Response`` the full way builds from this http.client response (urllib3's
    connection and ``HTTPAdapter.send`` with ``stream=True``); the body is not read yet."""
    normalize = getattr(urllib3.connection, "_normalize_header_values", None)
    items = normalize(resp.msg) if normalize is not None else resp.msg.items()
    raw = urllib3.HTTPResponse(
        body=resp, headers=urllib3.HTTPHeaderDict(items), status=resp.status, version=resp.version,
        version_string="HTTP/1.1", reason=resp.reason, preload_content=False, decode_content=False,
        original_response=resp, enforce_content_length=True, request_method="GET", request_url=prep.url,
    )
    return adapter.build_response(prep, raw)
