"""The pipeline's names in one place, for the CLI, the benchmarks and the tests.

The plan of one year is flows/plan.py (its steps in flows/steps/); what became of each report
is flows/outcomes.py. Nothing is defined here: patch a name in the module that defines it.
"""

from flows.outcomes import (  # noqa: F401
    FETCH_FAILED,
    NOT_CURRENT,
    PARSE_FAILED,
    PASSED,
    PUBLISHED,
    QUARANTINED,
    NothingPublished,
    Progress,
    ReportOutcome,
    RunSummary,
)
from flows.plan import PLAN, YearRun, rebuild_if_missing, rebuild_years, run_plan, run_year  # noqa: F401
from flows.steps.attachments import fetch_attachment, follow_attachments  # noqa: F401
from flows.steps.documents import choose_one_url, documents, failed_report  # noqa: F401
from flows.steps.fetching import (  # noqa: F401
    discover_step,
    fetch_batch,
    load_sources,
    make_fetcher,
    needs_sample_server,
    raw_store,
    registry_path,
    samples_served,
    stored_years,
)
from flows.steps.loading import load_batch, warehouse, writer_lock  # noqa: F401
from flows.steps.parsing import (  # noqa: F401
    apply_parsed,
    parse_batch,
    parse_cache_key,
    parse_items,
    parse_one,
    parser_version,
    verify_bodies,
)
from flows.steps.publishing import build_data_docs, mark_published, note_kept_versions, publish_batch  # noqa: F401
from flows.steps.record import apply_record, forget_run, record_run, run_fingerprint, try_unchanged  # noqa: F401
from flows.steps.validating import (  # noqa: F401
    apply_gate,
    gate_allows_publish,
    quarantine_reasons,
    validate_batch,
    validation_chunks,
)
