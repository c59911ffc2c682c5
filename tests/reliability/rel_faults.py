"""Shared pieces of the drills for faults nobody had named (issue 18): settings for fast
pipeline runs over a loopback site, and what the marts publish per agency."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import duckdb

from flows.settings import Settings


def fast_settings(home: Path, sources: Path | None = None, **kw) -> Settings:
    """Pipeline settings for loopback drills: no politeness delay, short timeouts, parsing in-process."""
    opts = {"min_delay": 0.0, "timeout": 2.0, "retries": 1, "max_per_host": 4, "parse_timeout": 0, **kw}
    if sources is not None:
        opts["sources"] = str(sources)
    return Settings().with_overrides(home=home, **opts)


def published_sha(marts: Path, year: int) -> dict[str, str]:
    """agency name -> content_sha256 of its published report of ``year``."""
    with duckdb.connect(str(marts), read_only=True) as con:
        return dict(con.execute(
            "SELECT a.name, r.content_sha256 FROM dim_report r JOIN dim_agency a USING (agency_id) "
            "WHERE r.year = $y AND r.status = 'published'", {"y": year}).fetchall())


def published_count(marts: Path, year: int) -> int:
    with duckdb.connect(str(marts), read_only=True) as con:
        return con.execute("SELECT count(*) FROM dim_report WHERE year = $y AND status = 'published'",
                           {"y": year}).fetchone()[0]


class Silent:
    """Accepts every connection and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(conn)

    def close(self) -> None:
        for c in [*self.conns, self.sock]:
            c.close()
