"""Project-wide test setup: keep Prefect away from the user's ~/.prefect and the network.

Set at import time, before any test module imports prefect, so that every Prefect
setting (database, storage, profiles) lives in one temporary folder per test session.
"""

import os
import tempfile

_PREFECT_HOME = tempfile.mkdtemp(prefix="xxgk-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["DO_NOT_TRACK"] = "1"
os.environ.pop("PREFECT_API_URL", None)  # never talk to a server the developer has configured
os.environ.pop("PREFECT_PROFILE", None)
