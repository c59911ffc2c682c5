"""Same answers: parse every PDF and HTML page with this tree's readers and with a git ref's.

    .venv/bin/python -m benchmarks.compare_parse [--ref main] [--corpus benchmarks/out/corpus]

The PDF and HTML readers (transforms/pdf.py with its pdfobjects.py and pdftables.py,
transforms/html.py) of ``--ref`` are loaded from git beside this tree's; each document goes
through ``transforms.parse.parse_document`` once with each pair, and the parse output (the
report: values, templates, findings; the page text) is compared byte for byte. Documents: the bundled samples, the test fixtures,
every PDF and HTML page of the corpus folder, and each PDF again with every page rotated
by 90, 180 and 270 degrees. Prints the count of documents that differ (exit 1 if any) and
the per-core time of both readers.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import io
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from transforms import parse as parse_mod

ROOT = Path(__file__).resolve().parent.parent


def _module_at(ref: str, path: str, name: str, tmp: Path):
    src = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    file = tmp / f"{name}.py"
    file.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def documents(corpus: Path | None, rotate: bool = True) -> list[tuple[str, bytes]]:
    files = sorted(p for p in [*(ROOT / "sources" / "samples").iterdir(), *(ROOT / "tests" / "fixtures").rglob("*")]
                   if p.suffix.lower() in (".pdf", ".html", ".htm"))
    if corpus is not None and corpus.is_dir():
        files += sorted(p for p in corpus.rglob("*") if p.suffix in (".pdf", ".html"))
    docs = [(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p), p.read_bytes()) for p in files]
    if rotate:
        import pypdfium2 as pdfium

        for name, data in [d for d in docs if d[0].endswith(".pdf")][:40]:
            for angle in (90, 180, 270):
                doc = pdfium.PdfDocument(data)
                for i in range(len(doc)):
                    doc[i].set_rotation(angle)
                buf = io.BytesIO()
                doc.save(buf)
                doc.close()
                docs.append((f"{name} (rotated {angle})", buf.getvalue()))
    return docs


def _parse(data: bytes, pdf_mod, html_mod) -> tuple[str, float]:
    saved_pdf, saved_html = sys.modules.get("transforms.pdf"), parse_mod.html_to_text
    sys.modules["transforms.pdf"] = pdf_mod
    parse_mod.html_to_text = html_mod.html_to_text
    try:
        t0 = time.process_time()
        res = parse_mod.parse_document(data, agency="对比", year=2024)
        cpu = time.process_time() - t0
    finally:
        if saved_pdf is not None:
            sys.modules["transforms.pdf"] = saved_pdf
        parse_mod.html_to_text = saved_html
    return json.dumps({"report": res.report, "text": res.text}, ensure_ascii=False, sort_keys=True, indent=0), cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.compare_parse", description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="main")
    ap.add_argument("--corpus", default=str(ROOT / "benchmarks" / "out" / "corpus"))
    ap.add_argument("--no-rotate", action="store_true")
    args = ap.parse_args(argv)
    import transforms.html as html_new
    import transforms.pdf as pdf_new

    with tempfile.TemporaryDirectory() as tmp:
        # the ref's PDF reader with the ref's PDFium objects and table finder (its ``from
        # transforms.pdfobjects import ...`` would otherwise take this tree's)
        import transforms.pdfobjects as objects_new
        import transforms.pdftables as tables_new

        try:
            sys.modules["transforms.pdfobjects"] = _module_at(
                args.ref, "transforms/pdfobjects.py", "pdfobjects_at_ref", Path(tmp))
            sys.modules["transforms.pdftables"] = _module_at(
                args.ref, "transforms/pdftables.py", "pdftables_at_ref", Path(tmp))
            pdf_ref = _module_at(args.ref, "transforms/pdf.py", "pdf_at_ref", Path(tmp))
        finally:
            sys.modules["transforms.pdfobjects"] = objects_new
            sys.modules["transforms.pdftables"] = tables_new
        html_ref = _module_at(args.ref, "transforms/html.py", "html_at_ref", Path(tmp))
        docs = documents(Path(args.corpus), rotate=not args.no_rotate)
        differ, cpu = [], {"ref": {"pdf": 0.0, "html": 0.0}, "tree": {"pdf": 0.0, "html": 0.0}}
        counts = {"pdf": 0, "html": 0}
        for name, data in docs:
            kind = "pdf" if b"%PDF-" in data[:1024] else "html"
            counts[kind] += 1
            old, t_old = _parse(data, pdf_ref, html_ref)
            new, t_new = _parse(data, pdf_new, html_new)
            cpu["ref"][kind] += t_old
            cpu["tree"][kind] += t_new
            if old != new:
                differ.append(name)
                if len(differ) <= 3:
                    print(f"DIFFERS: {name}")
                    print("\n".join(list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm=""))[:40]))
    summary = {"ref": args.ref, "documents": counts, "differ": len(differ), "differing": differ[:50],
               "cpu_s": {k: {kk: round(vv, 2) for kk, vv in v.items()} for k, v in cpu.items()}}
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
