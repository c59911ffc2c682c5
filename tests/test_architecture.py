"""The house's import directions (docs/ARCHITECTURE.md), read from every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("transforms", "sources", "warehouse", "expectations", "reportsite", "flows", "testkit")

# Which of our packages each package may import (itself always). flows wires everything but the
# demo/test tooling; only the command line (flows/cli.py, flows/commands/) may start the demo server.
ALLOWED = {
    "transforms": set(),
    "sources": {"transforms"},
    "warehouse": {"transforms"},
    "expectations": {"transforms", "warehouse"},
    "reportsite": {"transforms", "warehouse"},
    "flows": {"transforms", "sources", "warehouse", "expectations", "reportsite"},
    "testkit": {"transforms", "sources", "warehouse", "expectations", "reportsite", "flows"},
}
ENTRY_POINTS = ("flows/cli.py", "flows/commands/")  # may also import testkit
MAX_FLOWS_LINES = 400


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_packages(path: Path) -> set[str]:
    """Our top-level packages that ``path`` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found |= {n.split(".")[0] for n in names} & set(PACKAGES)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_import_directions(package):
    assert modules(package), f"{package}/ has no module"
    wrong = []
    for path in modules(package):
        rel = path.relative_to(ROOT).as_posix()
        allowed = ALLOWED[package] | {package}
        if rel.startswith(ENTRY_POINTS):
            allowed = allowed | {"testkit"}
        for other in sorted(imported_packages(path) - allowed):
            wrong.append(f"{rel} imports {other}")
    assert not wrong, "imports against docs/ARCHITECTURE.md:\n" + "\n".join(wrong)


def test_the_checker_sees_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("import os\nfrom flows.plan import run_year\n\ndef f():\n    import testkit.serve\n",
                     encoding="utf-8")
    assert imported_packages(probe) == {"flows", "testkit"}


def test_no_flows_module_is_long():
    long = {p.relative_to(ROOT).as_posix(): n for p in modules("flows")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_FLOWS_LINES}
    assert not long, f"flows modules over {MAX_FLOWS_LINES} lines: {long}"
