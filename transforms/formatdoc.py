"""docs/FORMAT_CODES.md, generated from the format description (pure).

Regenerate with ``.venv/bin/python -m transforms.formatdoc > docs/FORMAT_CODES.md``; a
test fails when the committed file and the description disagree.
"""

from __future__ import annotations

from transforms import formatspec as fs


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def format_codes_markdown() -> str:
    lines = [
        "# Codes of the format (generated)",
        "",
        "Generated from `transforms/formatspec.py` by `python -m transforms.formatdoc`; do not edit.",
        "The same description drives the parser, the warehouse codes and the expectation suites.",
        "",
    ]
    for tpl in fs.TEMPLATES:
        lines += [f"## active_disclosure ({tpl}, {fs.SHAPE[fs.ACTIVE_DISCLOSURE][tpl]} cells)", ""]
        ms = fs.AD_MEASURES[tpl]
        lines += _table(
            ["item", "label", "block", "measures"],
            [[f"`{it.key}`", it.label, it.block, ", ".join(f"`{m}` ({ms[m].label}, {ms[m].vtype})" for m in it.measures)]
             for it in fs.AD_ITEMS[tpl]],
        )
    lines += ["## applications: columns", ""]
    lines += _table(["column", "label"], [[f"`{c.key}`", c.label] for c in fs.APPLICANT_COLUMNS])
    lines += ["## applications: rows", ""]
    lines += _table(
        ["row", "label", "group", "H3 leaf", "templates"],
        [[f"`{r.key}`", r.label, r.group or "", "yes" if r.leaf else "", ", ".join(sorted(r.templates))]
         for r in fs.APP_ROWS],
    )
    lines += ["## review_litigation", ""]
    lines += _table(["proceeding", "label"], [[f"`{g.key}`", g.label] for g in fs.RL_GROUPS])
    lines += _table(["outcome", "label"], [[f"`{o.key}`", o.label] for o in fs.RL_OUTCOMES])
    lines += ["## Invariants", ""]
    rows = [[inv.id, inv.severity, inv.table, inv.statement, inv.each or "", ", ".join(sorted(inv.templates)),
             "yes" if inv.cross_year else ""] for inv in fs.INVARIANTS]
    rows += [[cid, sev, "", text, "", "", ""] for cid, (sev, text) in fs.OTHER_CHECKS.items()]
    lines += _table(["id", "severity", "table", "statement", "for each", "templates", "cross-year"],
                    sorted(rows, key=lambda r: (r[0][0] != "H", r[0])))
    lines += ["## Finding codes", ""]
    lines += _table(["code", "default severity"], [[f"`{c}`", s] for c, s in fs.FINDINGS.items()])
    return "\n".join(lines)


if __name__ == "__main__":
    print(format_codes_markdown(), end="")
