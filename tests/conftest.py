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


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory):
    """The data directory of one `xxgk demo` (bundled samples, every year), run once per session.

    Read it, never write to it: the BI guide, export and site tests share it.
    """
    from flows.cli import main

    home = tmp_path_factory.mktemp("demo") / "data"
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("XXGK_")}
    try:
        assert main(["demo", "--home", str(home), "--quiet"]) == 0
    finally:
        os.environ.update(saved)
    return home
