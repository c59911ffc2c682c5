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


# ---------------------------------------------------------------- one rule book (issue #19)
RULE_BOOK = "transforms/formatspec.py"
PIPELINE = ("transforms", "sources", "warehouse", "expectations", "reportsite", "flows")  # not testkit
# Row/column/group codes still spelled outside formatspec: the next step is to read each from
# formatspec (a named code or a lookup) as was done for narrative, digits, parse, evidence, suites.
# imagetable.py and ocr.py were being changed by the OCR work at the same time (none spelled
# a code when this check was written; a merge that adds some will show here).
# flows/outcomes.py's "pending" is an outcome status, not the review/litigation column.
CODES_ALLOWED = {
    "flows/outcomes.py": {"pending"},
    # headline figures named like the rows/group they sum (sql/marts/03_figures.sql)
    "reportsite/build.py": {"granted", "partially_granted", "denied"},
    "warehouse/describe.py": {"granted", "partially_granted", "denied"},
}


def format_codes() -> set[str]:
    from transforms import formatspec as fs

    codes = {r.key for r in fs.APP_ROWS} | {g.key for g in (*fs.APP_GROUPS, *fs.RL_GROUPS)}
    codes |= {c.key for c in (*fs.APPLICANT_COLUMNS, *fs.RL_OUTCOMES)}
    codes |= {it.key for t in fs.TEMPLATES for it in fs.AD_ITEMS[t]}
    return codes | {m for t in fs.TEMPLATES for m in fs.AD_MEASURES[t]}


def code_literals(path: Path, codes: set[str]) -> set[str]:
    """Codes a module spells as a string literal: the whole literal, or a segment of a dotted
    cell path ("applications.granted.total"); docstrings and prose are not looked at."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and n.body and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    found = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in docstrings:
            continue
        text = node.value
        parts = {text} if not text or any(ch.isspace() for ch in text) else {text, *text.split(".")}
        found |= parts & codes
    return found


def test_format_codes_are_spelled_only_in_formatspec():
    codes = format_codes()
    seen = {}
    for package in PIPELINE:
        for path in modules(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel == RULE_BOOK:
                continue
            extra = code_literals(path, codes) - CODES_ALLOWED.get(rel, set())
            if extra:
                seen[rel] = sorted(extra)
    assert not seen, f"format codes spelled outside {RULE_BOOK} (read them from formatspec): {seen}"


def test_the_code_checker_sees_literals(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('"""granted in prose."""\nA = "applications.granted.total"\nB = "the other cells"\n'
                    'C = ("regulations", "x")\n', encoding="utf-8")
    assert code_literals(path, format_codes()) == {"applications", "granted", "total", "regulations"} & format_codes()


# ---------------------------------------------------------------- one evaluator (issue #19)
EVALUATOR = "transforms/evaluator.py"
# Names of evidence, not sums: the solver's evidence cites the rule whose figures it uses.
RULE_IDS_ALLOWED = {"transforms/evidence.py": {"X1", "X2"}}


def restated_rules(rel: str, tree: ast.AST) -> list[str]:
    """Where a module reads a rule's terms (``.lhs``/``.rhs``: parsing "-" terms, constants or
    ``prev:`` itself) or names an invariant of the rule book (restating H1, S3, ... by hand)."""
    from transforms import formatspec as fs

    ids = {inv.id for inv in fs.INVARIANTS} - RULE_IDS_ALLOWED.get(rel, set())
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("lhs", "rhs"):
            out.append(f"{rel}:{node.lineno} .{node.attr}")
        if isinstance(node, ast.Constant) and node.value in ids:
            out.append(f"{rel}:{node.lineno} {node.value!r}")
    return out


def test_only_the_evaluator_reads_the_rules():
    """Parser findings, GX expectations and the digit solver evaluate the invariants through
    transforms/evaluator.py only (docs/ARCHITECTURE.md)."""
    seen = []
    for package in PIPELINE:
        for path in modules(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in (RULE_BOOK, EVALUATOR):
                seen += restated_rules(rel, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    assert not seen, f"rules read outside {RULE_BOOK} and {EVALUATOR}: {seen}"


def test_the_rule_checker_sees_a_restated_rule():
    restated = ast.parse('EQS = [("H1", check.lhs)]  # H1: new + carried_over == ...')
    assert len(restated_rules("transforms/digits.py", restated)) == 2
