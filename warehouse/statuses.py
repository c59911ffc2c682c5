"""A report's status, named once: the gate's verdict the warehouse stores, what the publish says
of it, and the pipeline's outcomes (flows/outcomes.py) all use these. The marts' SQL spells
the same words (warehouse/sql/marts/)."""

PASSED = "passed"  # passed the gate (stored by set_status; an outcome when the publish did not happen)
QUARANTINED = "quarantined"
PUBLISHED = "published"
NOT_CURRENT = "not_current"  # loaded, but another version or URL of the agency's report is current

GATE_STATUSES = (PASSED, QUARANTINED)
