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
