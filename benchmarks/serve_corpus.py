"""Serve a corpus folder on loopback from its own process (the benchmark's web site).

    .venv/bin/python -m benchmarks.serve_corpus benchmarks/out/corpus [--port 0]

Prints the base URL on the first line of stdout, then serves until stdin is closed or
the process is terminated. It answers as testkit.serve does (ETag and Last-Modified, 304
to conditional requests, 404, the page's own charset) from one asyncio loop, keep-alive,
Nagle's algorithm off. Running it in a process of its own keeps the server's CPU out of
the processes being measured, and gives the bare loop and the pipeline the same server.
``serve_corpus`` is the threaded testkit.serve server in this process, for tests.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from testkit.serve import serve_samples


def serve_corpus(root: str | Path, port: int = 0):
    """testkit.serve's server over ``root`` on a free port (its handler has Nagle's algorithm
    off: with it on, each keep-alive response waits ~40 ms for a delayed ACK)."""
    return serve_samples(root, port=port)


async def _serve_async(root: Path, port: int) -> None:
    """The benchmark's web site: testkit.serve's answers (ETag, Last-Modified, 304, 404,
    the page's charset) from one asyncio loop. ``http.server`` spent ~0.6 ms of CPU per
    request, a third of the 2-core machine during the 10,000 conditional requests of a
    re-run, CPU taken from the processes being measured; a real site runs elsewhere."""
    import asyncio
    import email.utils

    from testkit.serve import _Entry

    root = root.resolve()
    cache: dict[str, _Entry | None] = {}

    def entry(rel: str) -> _Entry | None:
        if rel not in cache:
            target = (root / unquote(rel)).resolve()
            ok = root in target.parents and target.is_file() and not target.name.startswith(".")
            cache[rel] = _Entry(target) if ok else None
        return cache[rel]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, target, _version = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                e = entry(urlsplit(target).path.lstrip("/"))
                if e is None:
                    body = b"not found\n"
                    writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(body) + (body if method == "GET" else b""))
                else:
                    inm, ims = headers.get("if-none-match"), headers.get("if-modified-since")
                    if inm is not None:
                        fresh = e.etag in [t.strip() for t in inm.split(",")] or inm == "*"
                    else:
                        try:
                            fresh = bool(ims) and e.mtime <= email.utils.parsedate_to_datetime(ims).timestamp()
                        except (TypeError, ValueError):
                            fresh = False
                    common = f"ETag: {e.etag}\r\nLast-Modified: {e.last_modified}\r\n"
                    if fresh:
                        writer.write(f"HTTP/1.1 304 Not Modified\r\n{common}Content-Length: 0\r\n\r\n".encode())
                    else:
                        writer.write(f"HTTP/1.1 200 OK\r\n{common}Content-Type: {e.ctype}\r\n"
                                     f"Content-Length: {len(e.body)}\r\n\r\n".encode()
                                     + (e.body if method == "GET" else b""))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=256)
    print(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", flush=True)
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    # Until the parent closes our stdin (or goes away).
    loop.add_reader(sys.stdin.fileno(), lambda: stop.done() or (sys.stdin.read(), stop.set_result(None)))
    async with server:
        await stop


def main(argv: list[str] | None = None) -> int:
    import asyncio

    ap = argparse.ArgumentParser(prog="python -m benchmarks.serve_corpus")
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    asyncio.run(_serve_async(Path(args.root), args.port))
    return 0


@contextmanager
def serve_in_process(root: str | Path, python: str = sys.executable):
    """Start the server process; yields its base URL; stops it on exit."""
    root_dir = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([python, "-m", "benchmarks.serve_corpus", str(root)], cwd=root_dir,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().strip()
        if not base.startswith("http://"):
            raise RuntimeError(f"corpus server did not start (said {base!r})")
        yield base
    finally:
        proc.stdin.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    sys.exit(main())
