"""Jobs for the parse-pool tests (importable by the worker processes)."""

import os
import time


def echo(x):
    return x


def sleep_then(x, seconds):
    time.sleep(seconds)
    return x


def die(x):
    os._exit(3)  # a worker killed under it, as the kernel's OOM killer would


def boom(x):
    raise ValueError(f"bad {x}")


def die_on(x, dies):
    if dies:
        os._exit(3)
    return x


def unpicklable_on(x, bad):
    """A result the pool cannot hand back (a lock does not pickle) for one document."""
    import threading

    return threading.Lock() if bad else x


def pandas_after_arrow(x):
    """Whether the worker has pandas after building an Arrow array from a list (as the staging rows do)."""
    import sys

    import pyarrow as pa

    pa.array([(x, 1.0)], pa.struct([("k", pa.string()), ("v", pa.float64())]))
    return "pandas" in sys.modules


def stamp(x):
    """First stage: x and when its first stage ran (monotonic)."""
    return x, time.monotonic()


def second(x, first):
    """Second stage: fails on "bad"; else (x, first stage's time, its own)."""
    if x == "bad":
        raise ValueError("bad in the second stage")
    if x == "hang":
        time.sleep(60)
    return x, first, time.monotonic()
