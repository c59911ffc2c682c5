-- What this publish contains: the current version of every report, published or quarantined.
-- Quarantined: named by the gate (arg_quarantined), set so by checks.set_status, or holding a
-- failed error-severity check (CONTRACT.md §2: only reports that passed every error check reach
-- the facts and marts). The gate (expectations/gate.py) decides the same from the same checks;
-- the failed-check rule is kept here too because this is the boundary of the published files:
-- a publish whose caller skipped or overrode the gate still cannot publish a failing report.
-- The status words come from warehouse/statuses.py (arg_status, registered by build_marts).
CREATE OR REPLACE TEMP TABLE pub_scope AS
WITH failed AS (
    SELECT
        report_id,
        string_agg(check_id || CASE WHEN coalesce(scope, '') = '' THEN '' ELSE '[' || scope || ']' END, ', '
                   ORDER BY check_id, scope) AS failed_checks
    FROM chk_result CROSS JOIN arg_status AS st
    WHERE status = st.check_fail AND severity = st.severity_error
    GROUP BY report_id
)
SELECT
    d.report_id,
    CASE WHEN q.report_id IS NOT NULL OR s.status = st.quarantined OR f.report_id IS NOT NULL
         THEN st.quarantined ELSE st.published END AS status,
    nullif(concat_ws('; ',
        CASE WHEN s.status = st.quarantined THEN coalesce(s.reasons, 'quarantined by the gate') END,
        CASE WHEN q.report_id IS NOT NULL AND coalesce(s.status, '') <> st.quarantined THEN 'quarantined by the gate' END,
        CASE WHEN f.report_id IS NOT NULL THEN 'failed: ' || f.failed_checks END
    ), '') AS reasons
FROM stg_document AS d
CROSS JOIN arg_status AS st
LEFT JOIN (SELECT DISTINCT report_id FROM arg_quarantined) AS q USING (report_id)
LEFT JOIN report_status AS s USING (report_id)
LEFT JOIN failed AS f USING (report_id)
WHERE d.is_current;
