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
from contextlib import contextmanager
from pathlib import Path

from sources.serve import serve_samples


def serve_corpus(root: str | Path, port: int = 0):
    """sources.serve's server over ``root`` on a free port (its handler has Nagle's algorithm
    off: with it on, each keep-alive response waits ~40 ms for a delayed ACK)."""
    return serve_samples(root, port=port)


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
