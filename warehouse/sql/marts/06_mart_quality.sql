-- Per current report: checks passed, warned (failed warning checks), failed (failed error
-- checks), skipped, the parser's findings, and why a report is quarantined.
CREATE OR REPLACE TEMP TABLE out_mart_quality AS
WITH chk AS (
    SELECT
        report_id,
        count(*) FILTER (WHERE status = st.check_pass) AS checks_passed,
        count(*) FILTER (WHERE status = st.check_fail AND severity <> st.severity_error) AS checks_warned,
        count(*) FILTER (WHERE status = st.check_fail AND severity = st.severity_error) AS checks_failed,
        count(*) FILTER (WHERE status IN (st.check_skipped_blank, st.check_skipped_missing)) AS checks_skipped,
        string_agg(check_id || CASE WHEN coalesce(scope, '') = '' THEN '' ELSE '[' || scope || ']' END, ', '
                   ORDER BY check_id, scope) FILTER (WHERE status = st.check_fail AND severity = st.severity_error) AS failed_checks,
        string_agg(check_id || CASE WHEN coalesce(scope, '') = '' THEN '' ELSE '[' || scope || ']' END, ', '
                   ORDER BY check_id, scope) FILTER (WHERE status = st.check_fail AND severity <> st.severity_error) AS warned_checks
    FROM chk_result CROSS JOIN arg_status AS st
    GROUP BY report_id
),
fnd AS (
    SELECT
        report_id,
        count(*) FILTER (WHERE severity = st.severity_error) AS findings_error,
        count(*) FILTER (WHERE severity <> st.severity_error AND severity <> st.severity_info OR severity IS NULL) AS findings_warning,
        count(*) FILTER (WHERE code = 'cell_ocr_unproved') AS cells_ocr_unproved
    FROM stg_finding CROSS JOIN arg_status AS st
    GROUP BY report_id
),
ocr AS (  -- cells read from pictures by OCR with a value the invariants proved
    SELECT report_id, count(value) AS cells_ocr
    FROM stg_cell
    WHERE provenance = 'ocr'
    GROUP BY report_id
)
SELECT
    d.report_id, d.agency_id, d.agency, d.year, make_date(d.year, 1, 1) AS year_start, p.status,
    coalesce(c.checks_passed, 0) AS checks_passed,
    coalesce(c.checks_warned, 0) AS checks_warned,
    coalesce(c.checks_failed, 0) AS checks_failed,
    coalesce(c.checks_skipped, 0) AS checks_skipped,
    coalesce(f.findings_error, 0) AS findings_error,
    coalesce(f.findings_warning, 0) AS findings_warning,
    coalesce(o.cells_ocr, 0) AS cells_ocr,
    coalesce(f.cells_ocr_unproved, 0) AS cells_ocr_unproved,
    c.failed_checks, c.warned_checks, p.reasons
FROM stg_document AS d
JOIN pub_scope AS p USING (report_id)
LEFT JOIN chk AS c USING (report_id)
LEFT JOIN fnd AS f USING (report_id)
LEFT JOIN ocr AS o USING (report_id)
ORDER BY d.agency_id, d.year;
