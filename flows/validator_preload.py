"""Imported by the validators' fork server (flows/validator.py) before it forks a validator: GX imported,
its context and suites built, here, once; every validator is a copy of this process. Any failure only
costs time: a validator then starts GX itself."""

import atexit
import contextlib

from flows import validator
from flows.commands.common import exit_now

# The server's last act when the run's process has gone: no teardown of GX's modules (~0.6 CPU-s).
atexit.register(exit_now, 0)
with contextlib.suppress(Exception):
    validator.prepare_gx()
    validator.GX_PRELOADED = validator._warm()
