"""The two optional compiled helpers as the tests see them (transforms/_pdfcalls.c for pdfobjects,
transforms/_htmltext.c for html): how each is switched, loaded and, where the tree has none, built."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import lxml
import pytest

from transforms import html, pdfobjects

ROOT = Path(__file__).resolve().parents[2]

HELPERS = {
    "pdfcalls": SimpleNamespace(module=pdfobjects, name="pdfobjects", env="XXGK_PDF_NATIVE", handle="_CALLS",
                                library="_CALLS_LIBRARY", load=pdfobjects._load_calls, use=pdfobjects.use_compiled_calls,
                                source="_pdfcalls.c", so="_pdfcalls.so", includes=()),
    "htmltext": SimpleNamespace(module=html, name="html", env="XXGK_HTML_NATIVE", handle="_TEXT_LIB",
                                library="_TEXT_LIBRARY", load=html._load_text_library, use=html.use_compiled_renderer,
                                source="_htmltext.c", so="_htmltext.so", includes=tuple(lxml.get_include())),
}


def use_built(name: str, monkeypatch, tmp_path):
    """Switch the helper on: the built one, or one compiled here when the tree has none and a compiler
    is there (CI must have it built: make). Yields nothing; switches it back on afterwards."""
    h = HELPERS[name]
    if not h.module.LOADED:
        assert not os.environ.get("CI"), f"CI: transforms/{h.so} missing or not loadable"
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            pytest.skip(f"no C compiler: the Python path is all there is to test without {h.so}")
        built = tmp_path / h.so
        subprocess.run([cc, "-O2", "-shared", "-fPIC", *(f"-I{p}" for p in h.includes), "-o", str(built),
                        str(ROOT / "transforms" / h.source)], check=True)
        monkeypatch.setattr(h.module, h.library, built)
        monkeypatch.delenv(h.env, raising=False)
    assert h.use(True)
    yield
    h.use(True)
