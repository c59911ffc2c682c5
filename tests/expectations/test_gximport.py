"""GX's import without altair and scipy.stats (expectations/gximport.py): deferred, not removed."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from expectations.gximport import defer_unused_modules
defer_unused_modules()
from expectations import validate as vx
vx._runtime()
lazy = {m: type(sys.modules[m]).__name__ for m in ("altair", "scipy.stats")}
from scipy import stats  # a use loads the real module
assert stats.norm.cdf(0) == 0.5
print(lazy["altair"], lazy["scipy.stats"], type(sys.modules["scipy.stats"]).__name__)
"""


def test_gx_imports_with_altair_and_scipy_stats_deferred_until_used():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "GX_ANALYTICS_ENABLED": "false", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["_LazyModule", "_LazyModule", "module"]


def test_fast_column_lookup_answers_as_gx_does():
    import pytest

    from expectations import validate as vx
    from expectations.gximport import fast_column_lookup

    vx._runtime()  # installs the fast lookup after GX's import
    from great_expectations import exceptions as gx_exceptions
    from great_expectations.expectations.metrics import util

    fast = util._verify_column_names_exist_and_get_normalized_typed_column_names_map
    assert getattr(fast, "_xxgk_fast", False)
    fast_column_lookup()  # once only: still the same function
    assert util._verify_column_names_exist_and_get_normalized_typed_column_names_map is fast
    original = fast._xxgk_original
    columns = ["applications.total.natural", "Mixed.Case", "mixed.case", '"quoted"', "`tick`", "zero"]
    for names in (["applications.total.natural", "zero"], "MIXED.case", ["mixed.case"], ['"quoted"'], ["tick"],
                  ["zero", "Mixed.Case", "applications.total.natural"], ["`tick`"], ['"zero"'], ["[zero]"]):
        assert fast(names, columns) == original(names, columns), names
        assert fast(names, columns, verify_only=True) is None
    for missing in (["absent"], ["zero", "absent"]):
        with pytest.raises(gx_exceptions.InvalidMetricAccessorDomainKwargsKeyError):
            fast(missing, columns)
    plain = ["b.x", "a.y", "B.X"]
    assert fast(["B.x", "a.y"], plain) == [("B.x", "b.x"), ("a.y", "a.y")] == original(["B.x", "a.y"], plain)


def test_validator_worker_runs_gx_without_sql_support_with_the_same_answers():
    """The validator processes (flows/validator.py) import GX as installed without sqlalchemy; their
    check rows are this process's, and a worker let go by the pool has ended."""
    import importlib.util

    import pytest
    from xp_cases import CASES

    from expectations.frames import frames_from_reports
    from expectations.validate import validate
    from flows.steps.validating import check_part
    from flows.validator import ValidatorPool

    frames = frames_from_reports(CASES)
    pool = ValidatorPool(1)
    try:
        worker, _pending = pool._workers[0]
        part = pool.submit(frames).result(timeout=600)
        with pytest.raises(ModuleNotFoundError, match="without SQL"):
            worker.submit(importlib.util.find_spec, "sqlalchemy").result(timeout=60)
        processes = list(worker._processes.values())
    finally:
        pool.close()
    assert processes and all(p.exitcode == 0 for p in processes)
    mine = check_part(validate(frames))
    assert part.reports == mine.reports == len(CASES)
    assert part.passed == mine.passed
    assert part.rows.reset_index(drop=True).equals(mine.rows.reset_index(drop=True))
    assert part.table.equals(mine.table)
