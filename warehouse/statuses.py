"""A report's status, named once: the gate's verdict the warehouse stores, what the publish says
of it, and the pipeline's outcomes (flows/outcomes.py) all use these. The marts' SQL reads
them from the arg_status table that warehouse.publish.build_marts registers; the staging
query previous_report.sql still spells 'passed' (the next step)."""

PASSED = "passed"  # passed the gate (stored by set_status; an outcome when the publish did not happen)
QUARANTINED = "quarantined"
PUBLISHED = "published"
NOT_CURRENT = "not_current"  # loaded, but another version or URL of the agency's report is current

GATE_STATUSES = (PASSED, QUARANTINED)
