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
# GX's optional SQL support (sqlalchemy is no requirement of GX: a pandas-only install has none); xxgk
# validates pandas frames. Importing it cost ~0.25 of the validator's ~2 CPU-s of start-up.
SQL_SUPPORT = "sqlalchemy"
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


class _Absent(importlib.abc.MetaPathFinder):
    """Answers the import of SQL_SUPPORT (and its submodules) as a module that is not installed."""

    def find_spec(self, name, path, target=None):
        if name == SQL_SUPPORT or name.startswith(SQL_SUPPORT + "."):
            raise ModuleNotFoundError(f"No module named {name!r} (xxgk's validator: GX without SQL)", name=name)
        return None


def without_sql_support() -> bool:
    """GX as installed without sqlalchemy, in a process that only validates pandas frames (the validator
    workers: never in a process that runs Prefect, which needs sqlalchemy). Before GX's import; nothing
    changes when sqlalchemy is already imported (False then)."""
    with _LOCK:
        if any(m == SQL_SUPPORT or m.startswith(SQL_SUPPORT + ".") for m in sys.modules):
            return False
        if not any(isinstance(f, _Absent) for f in sys.meta_path):
            sys.meta_path.insert(0, _Absent())
        return True


def without_config_copies(context) -> None:
    """An ephemeral GX context keeps its configuration in memory, and after every change also writes
    all of it as YAML to an in-memory store that nothing reads back (``_save_project_config``: nothing
    is saved, the docstring says, for an ephemeral context). xxgk's private context makes ~22 changes
    (assets, batch definitions, suites) when it starts: ~0.07 CPU-s of every validator's start-up. Only
    for an ephemeral context; the configuration itself is kept as before."""
    from great_expectations.data_context import EphemeralDataContext

    if isinstance(context, EphemeralDataContext):
        context._save_project_config = lambda: None


_PLAIN_EDGES = "\"[]`"


def fast_column_lookup() -> None:
    """GX looks up every column an expectation names by walking the frame's columns and
    case-folding each (``metrics.util._verify_column_names_exist_and_get_normalized_typed_column_names_map``):
    columns × names per expectation, ~0.2 CPU-s of each suite run over xxgk's wide frames. For
    plain names (no quotes, brackets or backticks at either end; every frame column a plain ``str``)
    its answer is the first column whose case-folded name is the same, which a dict gives at once;
    anything else goes to GX's own function. Installed once per process, after GX's import."""
    from great_expectations.expectations.metrics import util

    original = getattr(util, "_verify_column_names_exist_and_get_normalized_typed_column_names_map", None)
    if original is None or getattr(original, "_xxgk_fast", False):
        return  # another GX without that function: its own lookup, unchanged (slower, same answers)

    def lookup(column_names, batch_columns_list, error_message_template=None, verify_only=False):
        names = column_names if isinstance(column_names, list) else [column_names]
        index: dict[str, str] = {}
        for typed in batch_columns_list:
            if type(typed) is not str or typed[:1] == "`":
                index = None
                break
            index.setdefault(typed.casefold(), typed)
        found = []
        if index is not None:
            for name in names:
                typed = index.get(name.casefold()) if type(name) is str and name and \
                    name[0] not in _PLAIN_EDGES and name[-1] not in _PLAIN_EDGES else None
                if typed is None:
                    break
                found.append((name, typed))
        if index is None or len(found) < len(names):
            kwargs = {} if error_message_template is None else {"error_message_template": error_message_template}
            return original(column_names, batch_columns_list, verify_only=verify_only, **kwargs)
        return None if verify_only else found

    lookup._xxgk_fast = True
    lookup._xxgk_original = original  # GX's own (tests compare the two)
    util._verify_column_names_exist_and_get_normalized_typed_column_names_map = lookup
