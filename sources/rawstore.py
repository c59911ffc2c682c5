"""The raw store: every fetched body kept once, named by its SHA-256, plus a manifest.

Layout under ``root`` (``$XXGK_HOME/raw``)::

    objects/ab/abcdef...        one file per distinct body (content-addressed)
    manifest.jsonl              one JSON object per fetch outcome, append-only

A body is written to a temporary file and renamed into place, so a killed process never
leaves a partial object under its final name, and writing the same body twice is a no-op.
It is on disk when ``put`` returns, or, for a fetch's many bodies (``batch``), at the group's
flush, before any manifest row names it. Each
manifest row is appended with a single ``write`` on an ``O_APPEND`` descriptor (atomic
for rows of this size on a local file system); a torn last line from a crash is skipped
when reading. A changed report gets a new object and a new row; the old object stays,
so every version can be read back with :meth:`RawStore.get`.

Objects are verified: :meth:`RawStore.get` and :meth:`RawStore.verify` hash what they read,
and :meth:`RawStore.put` of a body already held checks the stored copy. A damaged object
(a flipped byte, a truncated file) is moved aside to ``objects/damaged/`` and never read
again as that body; ``put`` of the right bytes repairs it (``repaired`` lists the hashes).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from sources.files import atomic_write, make_durable

MANIFEST_FIELDS = (
    "agency",
    "year",
    "url",
    "final_url",
    "status",
    "http_status",
    "content_type",
    "encoding",
    "kind",
    "sha256",
    "bytes",
    "fetched_at",
    "attempts",
    "error",
    "detail",
    "etag",
    "last_modified",
    "new_version",
)


_SECRET_PARAMS = re.compile(
    r"(?i)^(token|access_token|auth|authorization|key|api_?key|secret|password|passwd|pwd|sig|signature|sessionid)$")


def redact_url(url: str | None) -> str | None:
    """The URL without secrets: the password of ``user:password@`` and the values of
    token-like query parameters become ``***``. Used wherever a URL is stored or shown."""
    if not url or ("@" not in url and "=" not in url):
        return url
    try:
        p = urlsplit(url)
    except ValueError:
        return url
    netloc = p.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = (user.split(":", 1)[0] + ":***@" if ":" in user else "***@") + host
    query = "&".join(
        (k + "=***") if _SECRET_PARAMS.match(k) else part
        for part in p.query.split("&") if part
        for k in [part.split("=", 1)[0]]
    ) if p.query else p.query
    return urlunsplit((p.scheme, netloc, p.path, query, p.fragment))


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class DamagedObject(KeyError):
    """A stored object whose bytes no longer hash to its name (moved aside when found)."""


class RawStore:
    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.manifest_path = self.root / "manifest.jsonl"
        self.objects.mkdir(parents=True, exist_ok=True)
        self._objects = str(self.objects)
        self.damaged = self.objects / "damaged"
        self.repaired: list[str] = []  # damaged objects re-written from a fresh download
        self._unsynced: list[str] | None = None  # inside batch(): bodies written, not yet on disk
        self._pending: list[bytes] | None = None  # inside batch(): manifest rows waiting for their bodies' flush
        self._flushing = threading.Lock()
        self._lock = threading.Lock()
        self._latest: dict[str, dict] = {}  # url -> last row that carried a body
        self._versions: dict[str, list[str]] = {}  # url -> distinct sha256 in order of first sight
        for row in self.rows():
            self._index(row)

    # ------------------------------------------------------------------ bodies
    def path_of(self, sha256: str) -> Path:
        return self.objects / sha256[:2] / sha256

    def file_of(self, sha256: str) -> str:
        """``path_of`` as a string, without pathlib's cost."""
        return f"{self._objects}/{sha256[:2]}/{sha256}"

    def has(self, sha256: str) -> bool:
        return os.path.isfile(self.file_of(sha256))

    def put(self, data: bytes) -> tuple[str, bool]:
        """Store ``data``; returns (sha256, whether it was new). A damaged copy is replaced.

        The body is on disk when this returns, or, inside ``batch()``, at the batch's next flush."""
        digest = sha256_hex(data)
        target = self.file_of(digest)
        if os.path.isfile(target):
            if self.verify(digest):
                return digest, False
            with self._lock:
                self.repaired.append(digest)
        deferred = self._unsynced is not None
        atomic_write(target, data, fsync=not deferred)
        if deferred:
            with self._lock:
                if self._unsynced is not None:
                    self._unsynced.append(target)
                    return digest, True
            make_durable(self.objects, [target])  # its batch ended (in another thread) meanwhile
        return digest, True

    FLUSH_S = 0.25  # inside a batch: how often bodies are put on disk and their manifest rows written

    @contextlib.contextmanager
    def batch(self) -> Iterator[RawStore]:
        """Many ``put`` and ``record`` calls made durable in groups: every ``FLUSH_S`` and when the
        batch ends (also by an exception), one flush of the file system puts the bodies written
        since the last one on disk, and only then are their manifest rows written. One flush for
        a group costs a fraction of an fsync per body (~0.5 ms of CPU each).

        So a manifest row never names a body that is not on disk, as with an fsync each: a crash
        of the machine may leave a body written since the last flush short or empty, but no row
        of it is on disk, so the next fetch of its URL downloads it again (no conditional
        request that a 304 would answer, no parsed reading taken for it), and ``put`` finds the
        damaged copy by its hash and replaces it. A killed process loses nothing written (its
        writes are in the kernel's cache), only the rows of its last group: those URLs are
        downloaded again. Rows are indexed at once, so this process sees them meanwhile."""
        if self._unsynced is not None:  # nested: the outer batch flushes
            yield self
            return
        with self._lock:
            self._unsynced, self._pending = [], []
        stop = threading.Event()

        def flush_every() -> None:
            while not stop.wait(self.FLUSH_S):
                self._flush()

        flusher = threading.Thread(target=flush_every, name="xxgk-rawstore-flush", daemon=True)
        flusher.start()
        try:
            yield self
        finally:
            stop.set()
            flusher.join()
            self._flush(last=True)

    def _flush(self, last: bool = False) -> None:
        """The bodies written since the last flush put on disk, then the rows recorded before it
        began; ``last``: the batch ends (what comes after is written as outside a batch)."""
        with self._flushing:
            with self._lock:
                if self._unsynced is None:
                    return
                written, rows = self._unsynced, self._pending
                self._unsynced, self._pending = (None, None) if last else ([], [])
            make_durable(self.objects, written)
            self._append(rows)

    def get(self, sha256: str) -> bytes:
        """The body named ``sha256``, verified; raises KeyError (DamagedObject when damaged)."""
        try:
            data = self.path_of(sha256).read_bytes()
        except FileNotFoundError:
            raise KeyError(f"no object {sha256} in raw store {self.root}") from None
        if sha256_hex(data) != sha256:
            self._set_aside(sha256)
            raise DamagedObject(f"object {sha256} in raw store {self.root} is damaged (its bytes hash to "
                                f"{sha256_hex(data)[:12]}); moved to {self.damaged}")
        return data

    def verify(self, sha256: str) -> bool:
        """Whether the object exists and its bytes hash to its name; a damaged one is moved aside."""
        path = self.file_of(sha256)
        h = hashlib.sha256()
        try:
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
        except FileNotFoundError:
            return False
        if h.hexdigest() == sha256:
            return True
        self._set_aside(sha256)
        return False

    def _set_aside(self, sha256: str) -> None:
        self.damaged.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.path_of(sha256), self.damaged / f"{sha256}.{os.getpid()}-{time.time_ns()}")

    def object_count(self) -> int:
        return sum(1 for p in self.objects.glob("??/*") if not p.name.startswith("."))  # not a temporary file (sources.files)

    # ------------------------------------------------------------------ manifest
    def record(self, row: dict[str, Any]) -> dict:
        """Append one manifest row (unknown keys are refused, missing ones are null)."""
        unknown = set(row) - set(MANIFEST_FIELDS)
        if unknown:
            raise ValueError(f"unknown manifest field(s): {', '.join(sorted(unknown))}")
        full = {k: row.get(k) for k in MANIFEST_FIELDS}
        for key in ("url", "final_url"):  # credentials in a URL are used, never written down
            full[key] = redact_url(full[key])
        line = (json.dumps(full, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")
        with self._lock:
            self._index(full)
            if self._pending is not None:  # inside batch(): written once its body is on disk
                self._pending.append(line)
                return full
        with self._flushing:  # after a batch's last flush still at work (its body may be in it)
            self._append([line])
        return full

    def _append(self, lines: list[bytes]) -> None:
        """Each row with a single ``write`` on an ``O_APPEND`` descriptor (see the module's notes)."""
        if not lines:
            return
        fd = os.open(self.manifest_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            for line in lines:
                os.write(fd, line)
        finally:
            os.close(fd)

    def rows(self) -> Iterator[dict]:
        """Every manifest row in order; a torn (crash-truncated) line is skipped."""
        try:
            f = self.manifest_path.open("rb")
        except FileNotFoundError:
            return
        with f:
            data = f.read()
        try:  # one parse of the whole manifest (a re-run reads 10,000 rows or more)
            rows = json.loads(b"[" + b",".join(ln for ln in data.split(b"\n") if ln.strip()) + b"]")
        except ValueError:  # a torn line somewhere: row by row, skipping it
            rows = []
            for raw in data.split(b"\n"):
                try:
                    rows.append(json.loads(raw))
                except ValueError:
                    continue
        yield from (row for row in rows if isinstance(row, dict))

    def _index(self, row: dict) -> None:
        url, digest = row.get("url"), row.get("sha256")
        # A 304 row carries the version it confirmed and possibly refreshed validators.
        if not url or row.get("status") not in ("fetched", "not_modified") or not digest:
            return
        self._latest[url] = row
        versions = self._versions.setdefault(url, [])
        if digest not in versions:
            versions.append(digest)

    def latest(self, url: str) -> dict | None:
        """The last row with a stored body for ``url`` (its etag/last_modified are the validators)."""
        with self._lock:
            row = self._latest.get(redact_url(url))
        return dict(row) if row else None

    def known(self, url: str) -> bool:
        """Whether a body of ``url`` is on record (``latest`` without copying its row)."""
        with self._lock:
            return redact_url(url) in self._latest

    def versions(self, url: str) -> list[str]:
        """Distinct bodies seen for ``url``, oldest first."""
        with self._lock:
            return list(self._versions.get(redact_url(url), ()))
