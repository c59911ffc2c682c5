"""What both optional compiled helpers share (transforms/_pdfcalls.c for pdfobjects, transforms/_htmltext.c
for html): CI builds them, an environment variable forces the Python path, and a missing or foreign
library is never loaded. Their answers against Python's are tested in test_pdfcalls and test_htmltext."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from compiled import HELPERS, ROOT


@pytest.fixture(params=sorted(HELPERS))
def helper(request):
    return HELPERS[request.param]


def test_the_helper_is_built_where_ci_runs(helper):
    """CI has a compiler and builds the helpers with the venv (make): a missing one fails here rather than
    quietly testing the Python path only. Elsewhere the helpers are optional."""
    assert helper.module.LOADED or not os.environ.get("CI"), f"CI: transforms/{helper.so} missing or not loadable"


def test_the_python_path_is_forced_by_the_environment(helper):
    code = f"from transforms import {helper.name} as m; print(m.LOADED, m.{helper.handle} is None)"
    env = {**os.environ, helper.env: "0", "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_a_missing_or_foreign_library_falls_back(helper, monkeypatch, tmp_path):
    monkeypatch.setattr(helper.module, helper.library, tmp_path / "absent.so")
    assert helper.load() is None
    foreign = tmp_path / "foreign.so"
    foreign.write_bytes(b"not a shared library")
    monkeypatch.setattr(helper.module, helper.library, foreign)
    assert helper.load() is None
