"""Status words, named once: the gate's verdict the warehouse stores, what the publish says of a
report, the pipeline's outcomes (flows/outcomes.py), and the words a check result carries.

The SQL reads them from the one-row ``arg_status`` table (``status_table()``, registered by
warehouse.publish.marts_built), from its stored copy ``ref_status`` (refreshed by db.init_schema, for
the warehouse's views) or as query parameters (``$passed`` in previous_report.sql); no
.sql file spells a status (tests/test_architecture.py holds it)."""

from __future__ import annotations

# What a check result says (transforms/evaluator.py defines them: the pure layer defines its own words)
# and how grave a failure is (transforms/formatspec.py, per invariant).
from transforms.evaluator import FAIL, PASS, SKIPPED_BLANK, SKIPPED_MISSING  # noqa: F401 - re-exported
from transforms.formatspec import ERROR, INFO, WARNING  # noqa: F401 - re-exported

PASSED = "passed"  # passed the gate (stored by set_status; an outcome when the publish did not happen)
QUARANTINED = "quarantined"
PUBLISHED = "published"
NOT_CURRENT = "not_current"  # loaded, but another version or URL of the agency's report is current
SUPERSEDED = "superseded"  # dim_report: a stored version that is no longer the agency's current one
PENDING = "pending"  # no verdict yet: a loaded report before the gate, an outcome before its step

GATE_STATUSES = (PASSED, QUARANTINED)
CHECK_STATUSES = (PASS, FAIL, SKIPPED_BLANK, SKIPPED_MISSING)
SKIPPED = (SKIPPED_BLANK, SKIPPED_MISSING)


def status_table():
    """The words as the SQL reads them: one row, a column per word (``st.published``, ``st.check_fail``...)."""
    import pyarrow as pa  # here: the command line reads the words without loading pyarrow

    words = {
        "passed": PASSED, "quarantined": QUARANTINED, "published": PUBLISHED, "not_current": NOT_CURRENT,
        "superseded": SUPERSEDED, "pending": PENDING,
        "check_pass": PASS, "check_fail": FAIL, "check_skipped_blank": SKIPPED_BLANK,
        "check_skipped_missing": SKIPPED_MISSING,
        "severity_error": ERROR, "severity_warning": WARNING, "severity_info": INFO,
    }
    return pa.table({name: [word] for name, word in words.items()})
