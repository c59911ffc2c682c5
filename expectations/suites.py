"""GX expectation suites built from the format description (``transforms.formatspec``).

One suite per table family and template; every expectation carries its invariant id in
``meta`` (and in its description). The suites run on *wide* frames built by
``expectations.validate``: one row per report, one column per cell path, so a whole run
is validated with one GX call per suite, not one per report.

Families (suite names):

* ``applications.F2021``/``applications.F2019``: H1, H2, H3, H6, H5 (table 2)
* ``active_disclosure.F2021``/``active_disclosure.F2019``: S3/S4/S5/S7, S2, H5 (table 1)
* ``review_litigation.standard``: H4, H5 (table 3)
* ``cross_year.applications.*``/``cross_year.active_disclosure.F2021``: X1, X2 (``prev:`` columns
  hold the same agency's previous-year cells, same template only: X4)
* ``report``: H7 (shape, per table)
* ``narrative``: S1 (``narrative.<key>`` columns against the cells)
* ``hierarchy``: XH (``children:<path>`` columns hold the sum over a region's child reports)

Run ``python -m expectations.suites`` to print docs/CHECKS.md.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from transforms import evaluator, narrative
from transforms import formatspec as fs

ZERO = "__zero__"  # a constant 0 column: GX multicolumn expectations need two columns or more

# S2: levels of bodies without rule-making power, defined once in formatspec.
NO_RULEMAKING_LEVELS = fs.NO_RULEMAKING_LEVELS
# XH: the headline cells compared between a region's report and its children's.
HIERARCHY_PATHS = (
    f"{fs.APPLICATIONS}.{fs.NEW_RECEIVED}.{fs.TOTAL}",
    f"{fs.APPLICATIONS}.{fs.TOTAL_PROCESSED}.{fs.TOTAL}",
)
CHILDREN = "children:"
NARRATIVE = "narrative."
DOMAIN_BY_VTYPE = {fs.COUNT: "count", fs.SIGNED: "signed", fs.DECIMAL: "nonnegative", fs.AMOUNT: "nonnegative"}
DOMAIN_TEXT = {
    "count": "an integer >= 0",
    "signed": "an integer",
    "nonnegative": "a number >= 0",
}


@dataclass(frozen=True)
class Rule:
    """One expectation: a sum rule or a domain rule over the columns of a family frame.

    A sum rule is a ``formatspec.Check`` (an expanded invariant, or one of the other checks
    written in the same form), read only by ``transforms.evaluator``."""

    check_id: str
    severity: str
    scope: str
    family: str
    kind: str  # "sum" or "domain"
    check: fs.Check | None = None  # sum rules
    domain: str | None = None
    columns: tuple[str, ...] = ()  # domain rules: the cells checked
    table: str | None = None  # the table whose presence the rule needs

    @property
    def name(self) -> str:
        return f"{self.check_id}[{self.scope}]" if self.scope else self.check_id

    @property
    def op(self) -> str:
        return self.check.op if self.check is not None else "=="

    @property
    def paths(self) -> tuple[str, ...]:
        """The frame columns the rule reads (cell paths, ``prev:`` paths, ...), in term order."""
        if self.kind == "domain":
            return self.columns
        return tuple(evaluator.cells_of(self.check))

    @property
    def weights(self) -> tuple[tuple[str, int], ...]:
        return evaluator.linear(self.check).weights

    @property
    def constant(self) -> float:
        return float(evaluator.linear(self.check).constant)

    def statement(self) -> str:
        """The rule with the cells named, e.g. ``a + b == c + d``."""
        if self.kind == "domain":
            return f"every cell of {self.scope.removeprefix('table=')} is {DOMAIN_TEXT[self.domain]}"
        return evaluator.rule_text(self.check)


def _sum_rule(check: fs.Check, family: str, table: str | None = None) -> Rule:
    return Rule(check.id, check.severity, check.scope, family, "sum", check, table=table)


def _other_rule(check_id: str, scope: str, family: str, lhs: tuple[str, ...], rhs: tuple[str, ...], op: str,
                table: str | None = None) -> Rule:
    """A check of ``formatspec.OTHER_CHECKS`` written as a sum rule over the family's columns."""
    return _sum_rule(fs.Check(check_id, fs.OTHER_CHECKS[check_id][0], scope, lhs, rhs, op), family, table)


def _domain_rules(family: str, table: str, paths: list[str], template_ad: str | None) -> list[Rule]:
    by_domain: dict[str, list[str]] = {}
    for p in paths:
        by_domain.setdefault(DOMAIN_BY_VTYPE[fs.vtype_of(p, template_ad)], []).append(p)
    sev = fs.OTHER_CHECKS["H5"][0]
    return [
        Rule("H5", sev, f"table={table}", family, "domain", domain=d, columns=tuple(cols), table=table)
        for d, cols in by_domain.items()
    ]


@functools.cache
def rules() -> dict[str, tuple[Rule, ...]]:
    """Every rule, by family (suite name). Derived from formatspec only."""
    out: dict[str, list[Rule]] = {}
    for tpl in fs.TEMPLATES:
        fam = f"{fs.APPLICATIONS}.{tpl}"
        out[fam] = [_sum_rule(c, fam, fs.APPLICATIONS) for c in fs.checks_for(None, tpl)
                    if evaluator.table_of(c) == fs.APPLICATIONS]
        out[fam] += _domain_rules(fam, fs.APPLICATIONS,
                                  [p for p in fs.cell_paths(None, tpl) if p.startswith(fs.APPLICATIONS)], None)

        fam = f"{fs.ACTIVE_DISCLOSURE}.{tpl}"
        out[fam] = [_sum_rule(c, fam, fs.ACTIVE_DISCLOSURE) for c in fs.checks_for(tpl, None)
                    if evaluator.table_of(c) == fs.ACTIVE_DISCLOSURE]
        regs = [f"{fs.ACTIVE_DISCLOSURE}.{fs.REGULATIONS}.{m}"
                for it in fs.AD_ITEMS[tpl] if it.key == fs.REGULATIONS for m in it.measures]
        out[fam].append(_other_rule("S2", f"item={fs.REGULATIONS}", fam, tuple(regs), ("0",), "<=",
                                    fs.ACTIVE_DISCLOSURE))
        out[fam] += _domain_rules(fam, fs.ACTIVE_DISCLOSURE,
                                  [p for p in fs.cell_paths(tpl, None) if p.startswith(fs.ACTIVE_DISCLOSURE)], tpl)

        for table, args in ((fs.APPLICATIONS, (None, tpl)), (fs.ACTIVE_DISCLOSURE, (tpl, None))):
            fam = f"cross_year.{table}.{tpl}"
            cross = [_sum_rule(c, fam, table) for c in fs.checks_for(*args, cross_year=True) if evaluator.table_of(c) == table]
            if cross:
                out[fam] = cross

    fam = f"{fs.REVIEW_LITIGATION}.{fs.STANDARD}"
    out[fam] = [_sum_rule(c, fam, fs.REVIEW_LITIGATION) for c in fs.checks_for(None, None)
                if evaluator.table_of(c) == fs.REVIEW_LITIGATION]
    out[fam] += _domain_rules(fam, fs.REVIEW_LITIGATION,
                              [p for p in fs.cell_paths(None, None) if p.startswith(fs.REVIEW_LITIGATION)], None)

    out["report"] = [_other_rule("H7", f"table={t}", "report", (f"h7.{t}.expected",), (f"h7.{t}.found",), "==")
                     for t in fs.TABLES]
    out["narrative"] = [_other_rule("S1", f"figure={key}", "narrative", (NARRATIVE + key,), tuple(paths), "==")
                        for key, paths in narrative.CELLS.items()]
    out["hierarchy"] = [_other_rule("XH", f"cell={p}", "hierarchy", (p,), (CHILDREN + p,), ">=")
                        for p in HIERARCHY_PATHS]
    return {k: tuple(v) for k, v in out.items()}


@dataclass(frozen=True)
class Group:
    """The rules one GX expectation evaluates: all scopes of one check id in one family."""

    check_id: str
    severity: str
    kind: str  # "sum" or "domain"
    rule_indices: tuple[int, ...]
    column_list: tuple[str, ...]
    rules: tuple[tuple[tuple[int, float], ...], ...] = ()  # sum: (column index, weight) per rule
    constants: tuple[float, ...] = ()
    op: str = "=="
    domain: str | None = None

    @property
    def missing_fails(self) -> bool:
        # H7 compares a count with its expected value: a missing table (no expected value) fails.
        return self.check_id == "H7"


@functools.cache
def groups() -> dict[str, tuple[Group, ...]]:
    """Per family, the expectations to run: one per check id (H5: one per value domain)."""
    out = {}
    for family, family_rules in rules().items():
        keyed: dict[tuple, list[int]] = {}
        for i, r in enumerate(family_rules):
            key = (r.check_id, r.op) if r.kind == "sum" else (r.check_id, r.domain)
            keyed.setdefault(key, []).append(i)
        fam_groups = []
        for indices in keyed.values():
            first = family_rules[indices[0]]
            cols = list(dict.fromkeys(p for i in indices for p in family_rules[i].paths))
            if len(cols) < 2:  # GX multicolumn expectations need two columns
                cols.append(ZERO)
            pos = {c: j for j, c in enumerate(cols)}
            if first.kind == "domain":
                fam_groups.append(Group(first.check_id, first.severity, "domain", tuple(indices), tuple(cols),
                                        domain=first.domain))
                continue
            group_rules = tuple(tuple((pos[c], float(w)) for c, w in family_rules[i].weights) for i in indices)
            constants = tuple(float(family_rules[i].constant) for i in indices)
            fam_groups.append(Group(first.check_id, first.severity, "sum", tuple(indices), tuple(cols),
                                    group_rules, constants, first.op))
        out[family] = tuple(fam_groups)
    return out


def _expectation(family: str, index: int, group: Group):
    from expectations import custom

    scopes = [rules()[family][i].scope for i in group.rule_indices]
    meta = {"check_id": group.check_id, "severity": group.severity, "family": family, "group_index": index,
            "scopes": scopes}
    statement = fs.INVARIANTS_BY_ID[group.check_id].statement if group.check_id in fs.INVARIANTS_BY_ID \
        else fs.OTHER_CHECKS[group.check_id][1]
    description = f"{group.check_id} ({group.severity}): {statement}"
    if group.kind == "domain":
        return custom.ExpectMulticolumnValuesInDomain(
            column_list=list(group.column_list), domain=group.domain, meta=meta, description=description,
        )
    return custom.ExpectMulticolumnSumRules(
        column_list=list(group.column_list), rules=custom.encode_rules(group.rules),
        constants=" ".join(repr(c) for c in group.constants), op=group.op, missing_fails=group.missing_fails,
        meta=meta, description=description,
    )


def build_suites() -> dict:
    """``{suite name: gx.ExpectationSuite}``, one per family; expectation i has ``meta.group_index == i``."""
    import great_expectations as gx

    suites = {}
    for family, fam_groups in groups().items():
        suite = gx.ExpectationSuite(name=family)
        for i, group in enumerate(fam_groups):
            suite.add_expectation(_expectation(family, i, group))
        suites[family] = suite
    return suites


# --------------------------------------------------------------------------- docs


def describe_checks() -> str:
    """docs/CHECKS.md as markdown, generated from formatspec and the rules above."""
    counts: dict[str, int] = {}
    for fam_rules in rules().values():
        for r in fam_rules:
            counts[f"{r.check_id}|{r.family}"] = counts.get(f"{r.check_id}|{r.family}", 0) + 1
    families: dict[str, list[str]] = {}
    for key in counts:
        cid, fam = key.split("|")
        families.setdefault(cid, []).append(f"{fam} ({counts[key]})")

    lines = [
        "# Checks",
        "",
        "<!-- Generated by `python -m expectations.suites > docs/CHECKS.md` from",
        "     transforms/formatspec.py; do not edit by hand. -->",
        "",
        "Every parsed report is validated before publishing by Great Expectations suites built in",
        "code from `transforms/formatspec.py` (`expectations/suites.py`). Each result row lands in",
        "`fact_check` as (report_id, check_id, scope, severity, status, expected, actual, detail);",
        "`detail` names the cells and their values, e.g.",
        "`applications.new_received.total + applications.carried_over.total == "
        "applications.total_processed.total + applications.carried_forward.total: 842 + 13 != 840 + 16`.",
        "",
        "## Sum rules",
        "",
        "| id | severity | table | statement | rule | expectations (suite: count per template) |",
        "|---|---|---|---|---|---|",
    ]
    for inv in fs.INVARIANTS:
        rule = evaluator.rule_text(inv)
        each = f" (for each {inv.each})" if inv.each else ""
        lines.append(
            f"| {inv.id} | {inv.severity} | {inv.table} | {inv.statement} | `{rule}`{each} "
            f"| {', '.join(families.get(inv.id, []))} |"
        )
    lines += [
        "",
        "## Other checks",
        "",
        "| id | severity | statement | how | expectations |",
        "|---|---|---|---|---|",
    ]
    how = {
        "H5": "per table: every cell in the domain of its value type (count: integer >= 0; signed: integer; "
              "decimal/amount: >= 0)",
        "H7": "per table: the table is present and has every standard cell of its template ("
              + "; ".join(f"{t}: " + ", ".join(f"{k} {n}" for k, n in v.items()) for t, v in fs.SHAPE.items())
              + ")",
        "S1": "per figure stated in the narrative (`transforms.narrative.extract`): "
              + "; ".join(f"{k} = {' + '.join(v)}" for k, v in narrative.CELLS.items()),
        "S2": f"level in {', '.join(NO_RULEMAKING_LEVELS)}: the sum of the 规章 row <= 0",
        "XH": "a report whose agency is the `parent` of other reports of the same year: "
              + ", ".join(HIERARCHY_PATHS) + " >= the sum over the children (all children readable)",
    }
    for cid, (sev, statement) in fs.OTHER_CHECKS.items():
        lines.append(f"| {cid} | {sev} | {statement} | {how.get(cid, '')} | {', '.join(families.get(cid, []))} |")
    lines += [
        "",
        "## Blank, not-applicable and missing cells (FORMAT.md §9.3)",
        "",
        "* A not-applicable cell (`/`, `-`, marker `na`) counts as 0, and `detail` says so",
        "  (\"not-applicable cells counted as 0: ...\").",
        "* A blank, unreadable or ambiguous cell without a value makes the check `skipped_blank`:",
        "  never a silent pass. `detail` names the blank cells.",
        "* A cell the parser derived (marker `derived`) has a value and is checked like a printed one.",
        "* A table the report does not contain makes its checks `skipped_missing`; H7 then fails for",
        "  that table (error), so the report is quarantined.",
        "* Cross-year checks X1/X2 run only when the same agency's previous-year report is present",
        "  (in the same run or in `prev_frames`) and uses the same template for that table (X4).",
        "  Otherwise no row is written.",
        "* S1 rows exist only for the figures the narrative states; XH rows only for reports with",
        "  children in the same run; S2 rows only for levels " + ", ".join(NO_RULEMAKING_LEVELS) + ".",
        "",
        "Statuses: `pass`, `fail`, `skipped_blank`, `skipped_missing`.",
        "",
        "## The gate (`expectations.gate.decide`)",
        "",
        "* A report failing any `error` check is quarantined: kept in the warehouse, listed in",
        "  `mart_quality` with its reasons (e.g. `H1[column=total]: 842 + 13 != 840 + 16`), left out",
        "  of the published facts and marts. Warnings never quarantine.",
        "* If more than `max_fail_share` (default 50%) of the run's reports are quarantined, nothing",
        "  is published and the previous marts stay in place.",
        "",
        "## Data Docs",
        "",
        "`expectations.datadocs.build_docs(checks, directory, reports=..., gate=..., gx_results=...)`",
        "writes a static site under `$XXGK_HOME/data_docs/<year>/`: `index.html` (per check id: statement,",
        "severity, counts by status, the gate's decision), `checks/<id>.html` (failing and skipped",
        "reports with the cells and values), `quarantine.html`, and GX's own Data Docs under `gx/`",
        "(suites and validation results) when the run's GX results are passed",
        "(`validate(frames, gx_results=[])`).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(describe_checks(), end="")
