"""Great Expectations' import, without paying for modules the suites never use.

``import great_expectations`` imports every built-in expectation, and one of them
(expect_column_kl_divergence_to_be_less_than) pulls in altair and scipy.stats: ~0.8 of the
~2.3 CPU-seconds of the import, on the critical path of every small run. xxgk's suites never
use that expectation, so those two modules are loaded lazily (importlib.util.LazyLoader):
the import gives a module object that loads itself on its first attribute access. Nothing
changes if something does use them, only when they are loaded.

Python 3.11's lazy modules are not safe for two threads that touch the same one first at the
same moment; xxgk touches neither, and calls this in processes that validate.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import threading

DEFERRED = ("altair", "scipy.stats")
_LOCK = threading.Lock()


class _Deferred(importlib.abc.MetaPathFinder):
    """Finds DEFERRED modules with the other finders and wraps their loader in a LazyLoader."""

    def find_spec(self, name, path, target=None):
        if name not in DEFERRED:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = importlib.util.LazyLoader(spec.loader)
                return spec
        return None


def defer_unused_modules() -> None:
    """Install the deferral once per process (before great_expectations is imported)."""
    with _LOCK:
        if not any(isinstance(f, _Deferred) for f in sys.meta_path):
            sys.meta_path.insert(0, _Deferred())
