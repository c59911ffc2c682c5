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
# Modules every package but the pure transforms may import, whatever their package: whole-file
# writes (sources/files.py imports nothing of ours), so no package keeps its own copy.
SHARED = {"sources.files"}
MAX_FLOWS_LINES = 400


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def imported_packages(path: Path, shared: set[str] = frozenset()) -> set[str]:
    """Our top-level packages that ``path`` imports, at module level or inside functions (not
    counting the modules of ``shared``)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        names = [n for n in names if n not in shared]
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
        for other in sorted(imported_packages(path, set() if package == "transforms" else SHARED) - allowed):
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
# warehouse/statuses.py's "pending" is a status (no verdict yet), not the review/litigation column.
CODES_ALLOWED = {
    "warehouse/statuses.py": {"pending"},
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


def spelled_outside(words: set[str], definers: set[str], allowed: dict[str, set[str]]) -> dict[str, list[str]]:
    """{module: words it spells as literals} over the pipeline's modules, but the ``definers``
    and the ``allowed`` words of a module."""
    seen = {}
    for package in PIPELINE:
        for path in modules(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel not in definers and (extra := code_literals(path, words) - allowed.get(rel, set())):
                seen[rel] = sorted(extra)
    return seen


def test_format_codes_are_spelled_only_in_formatspec():
    seen = spelled_outside(format_codes(), {RULE_BOOK}, CODES_ALLOWED)
    assert not seen, f"format codes spelled outside {RULE_BOOK} (read them from formatspec): {seen}"


def test_the_code_checker_sees_literals(tmp_path):
    path = tmp_path / "m.py"
    path.write_text('"""granted in prose."""\nA = "applications.granted.total"\nB = "the other cells"\n'
                    'C = ("regulations", "x")\n', encoding="utf-8")
    assert code_literals(path, format_codes()) == {"applications", "granted", "total", "regulations"} & format_codes()


# ---------------------------------------------------------------- statuses, named once (issue #19)
STATUS_MODULE = "warehouse/statuses.py"
# The pure layer names the words its own results carry: check outcomes and severities.
STATUS_DEFINERS = {STATUS_MODULE, "transforms/evaluator.py", "transforms/formatspec.py"}
# Literals that are the same word but not a status: counters and keys of the run's summary.
STATUS_ALLOWED = {
    "flows/outcomes.py": {"quarantined", "passed", "published", "not_current"},  # RunSummary.counts keys
    "flows/runrecord.py": {"published"},  # the run record's key of RunSummary.published
    "flows/steps/record.py": {"published"},  # the same key read back
    "transforms/imagetable.py": {"pass", "fail"},  # its own per-picture verdicts, not check results
    "transforms/listing.py": {"published"},  # a listing page's date column
    "flows/commands/running.py": {"published", "quarantined"},  # RunSummary.counts keys
    "flows/etl.py": {"published", "quarantined"},  # RunSummary.counts keys
    "flows/commands/published.py": {"published"},  # the name of a SQL parameter
    "flows/cli.py": {"published"},  # the module flows.commands.published, imported when its command runs
    "flows/steps/evidence.py": {"passed"},  # the name of a SQL parameter
    "expectations/datadocs.py": {"fail"},  # a CSS class
}
SEVERITY_WORDS = {"error", "warning", "info"}


def status_words() -> set[str]:
    from warehouse import statuses as st

    return {st.PASSED, st.QUARANTINED, st.PUBLISHED, st.NOT_CURRENT, st.SUPERSEDED, st.PENDING, *st.CHECK_STATUSES}


def test_status_words_are_spelled_only_in_statuses():
    seen = spelled_outside(status_words(), STATUS_DEFINERS, STATUS_ALLOWED)
    assert not seen, f"status words spelled outside {STATUS_MODULE} (import them from there): {seen}"


def test_no_sql_file_spells_a_status():
    import re

    words = status_words() | SEVERITY_WORDS
    seen = {}
    for path in sorted((ROOT / "warehouse" / "sql").rglob("*.sql")):
        sql = "\n".join(line.split("--")[0] for line in path.read_text(encoding="utf-8").splitlines())
        spelled = set(re.findall(r"'([a-z_]+)'", sql)) & words
        if spelled:
            seen[path.relative_to(ROOT).as_posix()] = sorted(spelled)
    assert not seen, f"statuses spelled in SQL (read them from arg_status or a $parameter): {seen}"


def test_the_shared_writes_import_nothing_of_ours():
    assert imported_packages(ROOT / "sources" / "files.py") == set()


# ---------------------------------------------------------------- the demo tooling stays outside (issue #19)
def strings_naming(path: Path, name: str) -> list[str]:
    """String constants of ``path`` (docstrings too) that name ``name``: an import by name
    (importlib, "module:function") is an import all the same."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [n.value for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and name in n.value]


def test_no_pipeline_module_imports_or_names_the_demo_tooling():
    wrong = []
    for package in PIPELINE:
        for path in modules(package):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(ENTRY_POINTS):
                continue
            if "testkit" in imported_packages(path):
                wrong.append(f"{rel} imports testkit")
            wrong += [f"{rel} names testkit in {s[:60]!r}" for s in strings_naming(path, "testkit")]
    assert not wrong, "the pipeline reaches the demo tooling:\n" + "\n".join(wrong)


def test_the_name_checker_sees_strings(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text('import importlib\nSERVER = "testkit.serve:serve_samples"\n', encoding="utf-8")
    assert strings_naming(probe, "testkit") == ["testkit.serve:serve_samples"]


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
