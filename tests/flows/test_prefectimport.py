"""flows/prefectimport.py: Prefect imported without the webhook block, which stays importable on demand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = r'''
import sys
from flows.prefectimport import defer_unused_modules
defer_unused_modules()
from flows.commands.common import import_etl
etl = import_etl()
assert callable(etl.etl_year)
assert "prefect.blocks.webhook" not in sys.modules, "the webhook block was imported"
assert not any(type(f).__name__ == "_DeferredBlocks" for f in sys.meta_path), "the finder stayed"
import prefect.blocks
assert prefect.blocks.__all__ == ["notifications", "system", "webhook"]
from prefect.blocks.notifications import SlackWebhook   # imported by prefect.main, as before
assert prefect.blocks.webhook.Webhook.__name__ == "Webhook"  # first use: imported then
assert "prefect.blocks.webhook" in sys.modules
from prefect.blocks.core import Block
assert Block.get_block_class_from_key("webhook").__name__ == "Webhook"
try:
    prefect.blocks.nothing
except AttributeError as e:
    assert "nothing" in str(e)
else:
    raise AssertionError("an unknown attribute of prefect.blocks")
print("ok")
'''


def test_prefect_imported_without_the_webhook_block_which_comes_on_first_use():
    out = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]


def test_nothing_deferred_once_prefect_is_imported():
    child = ("import sys, prefect\nfrom flows.prefectimport import defer_unused_modules\ndefer_unused_modules()\n"
             "assert not any(type(f).__name__ == '_DeferredBlocks' for f in sys.meta_path)\n"
             "assert 'prefect.blocks.webhook' in sys.modules\nprint('ok')")
    out = subprocess.run([sys.executable, "-c", child], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-2000:]
