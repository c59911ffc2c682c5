"""Prefect's import without the modules a run never uses, until something asks for them.

``prefect.blocks``' ``__init__`` imports its three modules of blocks for its ``__all__``; ``prefect.main`` imports
the notification and system blocks again to register their types, but nothing a flow run imports needs the
webhook block (~40 ms of pydantic models, 5 % of Prefect's import). ``defer_unused_modules`` makes the
package's ``__init__`` leave its modules to first use: an attribute of ``prefect.blocks`` named after one of
them imports it then (PEP 562), as does ``import prefect.blocks.webhook``. Called before Prefect's import
(flows/commands/common.py ``import_etl``); a process that has imported Prefect already is left as it is.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading

PACKAGE = "prefect.blocks"
DEFERRED = ("notifications", "system", "webhook")  # what prefect/blocks/__init__.py imports, and all it does
_LOCK = threading.Lock()


class _DeferredBlocks(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``prefect.blocks`` where it is and runs, instead of its ``__init__``, the lazy version of it."""

    def find_spec(self, fullname, path, target=None):
        if fullname != PACKAGE:
            return None
        _remove_finder(self)  # once: the package is imported once
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.submodule_search_locations is None:
            return spec  # not the package it was: imported as it is
        spec.loader = self
        return spec

    def create_module(self, spec):
        return None  # the default module

    def exec_module(self, module) -> None:
        def __getattr__(name: str):
            if name in DEFERRED:
                return importlib.import_module(f"{PACKAGE}.{name}")
            raise AttributeError(f"module {PACKAGE!r} has no attribute {name!r}")

        module.__all__ = list(DEFERRED)
        module.__getattr__ = __getattr__


def _remove_finder(finder) -> None:
    with _LOCK:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)


def defer_unused_modules() -> None:
    """Before Prefect's import: ``prefect.blocks``' modules left to their first use (the webhook block's, in a run)."""
    with _LOCK:
        if "prefect" in sys.modules or any(isinstance(f, _DeferredBlocks) for f in sys.meta_path):
            return
        sys.meta_path.insert(0, _DeferredBlocks())
