"""Serve the bundled sample corpus on loopback, like a (well-behaved) government site.

``with serve_samples() as base: ...`` starts a threaded HTTP server on 127.0.0.1 (a free
port unless one is given) that serves ``sources/samples/`` with a Content-Type naming
each page's own charset (GBK pages say GBK), ETag and Last-Modified validators and 304
answers to conditional requests; it stops when the block exits. ``make demo`` and the
Prefect deployments fetch the samples through it, so the real fetch path is exercised.
"""

from __future__ import annotations

import email.utils
import hashlib
import mimetypes
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "sources" / "samples"
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.IGNORECASE)


def content_type_for(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in (".html", ".htm"):
        m = _META_CHARSET.search(head)
        charset = m.group(1).decode("ascii").lower() if m else "utf-8"
        return f"text/html; charset={charset}"
    if suffix == ".pdf":
        return "application/pdf"
    if suffix in (".csv", ".txt"):
        return f"text/{'csv' if suffix == '.csv' else 'plain'}; charset=utf-8"
    return mimetypes.guess_type(path.name)[0] or "application/octet-stream"


class _Entry:
    __slots__ = ("body", "ctype", "etag", "mtime", "last_modified")

    def __init__(self, path: Path):
        self.body = path.read_bytes()
        self.ctype = content_type_for(path, self.body[:4096])
        self.etag = '"' + hashlib.sha256(self.body).hexdigest()[:20] + '"'
        self.mtime = int(path.stat().st_mtime)
        self.last_modified = email.utils.formatdate(self.mtime, usegmt=True)


def _handler_for(root: Path, watch: Callable[[str, Message], None] | None = None) -> type[BaseHTTPRequestHandler]:
    cache: dict[Path, tuple[float, _Entry]] = {}
    lock = threading.Lock()

    def entry(path: Path) -> _Entry:
        mtime = path.stat().st_mtime
        with lock:
            hit = cache.get(path)
            if hit and hit[0] == mtime:
                return hit[1]
        e = _Entry(path)
        with lock:
            cache[path] = (mtime, e)
        return e

    class Handler(BaseHTTPRequestHandler):
        server_version = "xxgk-samples/0.1"
        protocol_version = "HTTP/1.1"  # keep-alive, so the fetcher's pool is exercised
        disable_nagle_algorithm = True  # else each keep-alive response waits ~40 ms for an ACK

        def log_message(self, format, *args):  # noqa: A002 - quiet: the fetcher reports outcomes
            pass

        def _resolve(self) -> Path | None:
            rel = unquote(urlsplit(self.path).path).lstrip("/")
            target = (root / rel).resolve()
            if root not in target.parents or not target.is_file() or target.name.startswith("."):
                return None
            return target

        def _send(self, with_body: bool) -> None:
            path = self._resolve()
            if path is None:
                body = b"not found\n"
                self.send_response(404)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if with_body:
                    self.wfile.write(body)
                return
            e = entry(path)
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            not_modified = False
            if inm is not None:
                not_modified = e.etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
            elif ims:
                try:
                    since = email.utils.parsedate_to_datetime(ims).timestamp()
                    not_modified = e.mtime <= since
                except (TypeError, ValueError):
                    pass
            self.send_response(304 if not_modified else 200)
            self.send_header("ETag", e.etag)
            self.send_header("Last-Modified", e.last_modified)
            if not_modified:
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_header("Content-Type", e.ctype)
            self.send_header("Content-Length", str(len(e.body)))
            self.end_headers()
            if with_body:
                self.wfile.write(e.body)

        def do_GET(self):  # noqa: N802 - http.server's naming
            if watch is not None:
                watch(self.path, self.headers)
            self._send(True)

        def do_HEAD(self):  # noqa: N802
            self._send(False)

    return Handler


# The bundled samples are served on this port when it is free, so that their URLs stay the
# same from run to run: a re-run then costs conditional requests (304), not new versions.
SAMPLES_PORT = 47317


@contextmanager
def serve_samples(root: str | Path | None = None, port: int | None = None,
                  watch: Callable[[str, Message], None] | None = None) -> Iterator[str]:
    """Serve ``root`` (default: the bundled samples) on 127.0.0.1; yields the base URL.

    ``port=None`` tries ``SAMPLES_PORT`` and falls back to any free port; ``0`` is any free port.
    ``watch(path, headers)`` is called for every GET (a test counting what a fetcher asked).
    """
    base_dir = Path(root).resolve() if root else SAMPLES_DIR
    if not base_dir.is_dir():
        raise FileNotFoundError(f"sample directory {base_dir} does not exist")
    handler = _handler_for(base_dir, watch)
    try:
        server = ThreadingHTTPServer(("127.0.0.1", SAMPLES_PORT if port is None else port), handler)
    except OSError:
        if port is not None:
            raise
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    # A short poll: shutdown() waits for the loop's next poll, and a run starts and stops this
    # server three times (0.5 s, the default, was a quarter of a small run).
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="xxgk-samples",
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
