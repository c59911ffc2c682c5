"""The commonest request of a first run, a GET answered 200 with a body, without requests' machinery.

``requests`` and urllib3 spend ~0.5 ms of CPU preparing a request and building and streaming its
response: half of what a new report cost the fetcher. ``Fetcher`` sends a plain GET (no proxy, no
cookie, no credentials, a URL requests would send as it is) on a keep-alive ``http.client``
connection of the calling thread (sources/revalidate.py ``Revalidator.get``), and reads here a
plain answer: status 200, no cookie, no content coding but gzip or deflate (decoded by urllib3's own
decoders, as the full way does), one clear length or chunks. The fetcher reads its body under the
same limits (size, truncation, body deadline) with the same failure codes.

Any other answer (a redirect, an error status, a cookie, another coding, odd framing) is not asked
again: it becomes the ``requests.Response`` the full way would have built from the same
http.client response (urllib3's ``HTTPResponse`` over it), and the fetcher goes on the full way.
"""

from __future__ import annotations

import http.client
import re
import zlib
from collections.abc import Iterator

import requests
import urllib3
import urllib3.connection
import urllib3.exceptions as u3
from urllib3.response import DeflateDecoder, GzipDecoder

# What requests would send unchanged: a lower-case host, a path and query of characters
# requote_uri and urllib3 leave as they are, no fragment, no dot segment, no empty query, and no
# %-escape that requests would decode (of an unreserved character) or urllib3 re-case.
_PLAIN_URL = re.compile(
    r"(?:http|https)://[a-z0-9][a-z0-9.-]*(?::[0-9]{1,5})?"
    r"(/(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/]|%[0-9A-F]{2})*(?:\?(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-F]{2})+)?)"
)
_NOT_PLAIN_PATH = re.compile(r"/\.\.?(?:[/?]|$)|%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2[DE]|5F|7E)")

_DECODERS = {"gzip": GzipDecoder, "x-gzip": GzipDecoder, "deflate": DeflateDecoder}  # urllib3's CONTENT_DECODERS
_PLAIN_CODINGS = frozenset(("", "identity", *_DECODERS))

# What reading a response may raise: the socket's and http.client's errors, urllib3's (a decoder's).
NET_ERRORS = (OSError, http.client.HTTPException, u3.HTTPError)


def plain_target(url: str) -> str | None:
    """The request target (path and query) requests would send for ``url``, when it sends the URL
    as it is; None otherwise (the full way prepares it)."""
    m = _PLAIN_URL.fullmatch(url)
    if m is None or _NOT_PLAIN_PATH.search(m.group(1)):
        return None
    return m.group(1)


class Headers(dict):
    """Response header fields by lower-case name, repeated ones joined with ", " (as requests'
    ``Response.headers`` gives them); ``get`` takes any case."""

    def get(self, name: str, default=None):  # type: ignore[override]
        return dict.get(self, name.lower(), default)

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def __contains__(self, name: object) -> bool:
        return dict.__contains__(self, name.lower() if isinstance(name, str) else name)


def plain_headers(resp: http.client.HTTPResponse) -> Headers | None:
    """The header fields of a plain answer (read here), or None (the full way reads it)."""
    if resp.status != 200:
        return None
    fields = Headers()
    for name, value in resp.msg.items():
        if "\r\n" in value:  # a folded line: urllib3 rewrites it
            return None
        key = name.lower()
        fields[key] = f"{dict.__getitem__(fields, key)}, {value}" if dict.__contains__(fields, key) else value
    get = fields.get
    if "set-cookie" in fields or "set-cookie2" in fields or get("content-encoding", "").lower() not in _PLAIN_CODINGS:
        return None
    length, coding = get("content-length"), get("transfer-encoding")
    if coding is not None:  # chunks, and no length beside them (http.client and urllib3 agree on it)
        return fields if coding.lower() == "chunked" and resp.chunked and length is None else None
    if length is not None and not (length.isascii() and length.isdigit() and resp.length == int(length)):
        return None  # a length that http.client, urllib3 and the fetcher might read differently
    return fields


class PlainResponse:
    """A plain 200 (``plain_headers``) read with http.client: what ``Fetcher`` asks of a
    ``requests.Response`` (status_code, reason, headers, iter_content, close)."""

    status_code = 200

    def __init__(self, resp: http.client.HTTPResponse, headers: Headers, conn, release) -> None:
        self.raw, self.headers, self.reason = resp, headers, resp.reason
        self._conn, self._release = conn, release  # release(conn, reusable)
        self._declared = int(headers["content-length"]) if "content-length" in headers else None

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        """The body, decoded as urllib3 decodes it; raises urllib3's DecodeError for a coding that
        does not decode, http.client's IncompleteRead for fewer bytes than the length announced
        (as urllib3 does), the socket's errors as they come."""
        coding = self.headers.get("content-encoding", "").lower()
        decoder = _DECODERS[coding]() if coding in _DECODERS else None
        resp, got = self.raw, 0
        while True:
            data = resp.read(chunk_size)
            if not data:
                break
            got += len(data)
            if decoder is not None:
                data = _decode(decoder, data, coding)
                if not data:
                    continue
            yield data
        if self._declared is not None and got < self._declared:
            raise http.client.IncompleteRead(b"", self._declared - got)
        if decoder is not None:
            tail = _decode(decoder, None, coding)
            if tail:
                yield tail
        self._done = True

    def close(self) -> None:
        """The connection goes back to the thread for the next request once the body was read to
        its end; otherwise (and if the server closes it) it is closed."""
        done = getattr(self, "_done", False) and self.raw.isclosed() and not self.raw.will_close
        if not done:
            self.raw.close()
        self._release(self._conn, done)


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
