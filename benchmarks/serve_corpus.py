"""Serve a corpus folder on loopback from its own process (the benchmark's web site).

    .venv/bin/python -m benchmarks.serve_corpus benchmarks/out/corpus [--port 0]

Prints the base URL on the first line of stdout, then serves until stdin is closed or
the process is terminated. The handler is sources.serve's (threaded, keep-alive, ETag and
Last-Modified, 304 answers to conditional requests), with Nagle's algorithm off. Running it in a process of its
own keeps the server's CPU out of the processes being measured, and gives the bare loop
and the pipeline the same server.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

from sources.serve import _handler_for


@contextmanager
def serve_corpus(root: str | Path, port: int = 0) -> Iterator[str]:
    """sources.serve's handler over ``root``, with Nagle's algorithm off.

    http.server writes the headers and the body in two sends; with Nagle on, the second
    waits for the client's delayed ACK (~40 ms per keep-alive request on Linux), which
    would make the benchmark measure TCP timers instead of the pipeline.
    """
    base_dir = Path(root).resolve()
    if not base_dir.is_dir():
        raise FileNotFoundError(f"corpus directory {base_dir} does not exist")
    handler = type("CorpusHandler", (_handler_for(base_dir),), {"disable_nagle_algorithm": True})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="xxgk-bench-corpus", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.serve_corpus")
    ap.add_argument("root")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    with serve_corpus(args.root, port=args.port) as base:
        print(base, flush=True)
        sys.stdin.read()  # until the parent closes our stdin (or goes away)
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
