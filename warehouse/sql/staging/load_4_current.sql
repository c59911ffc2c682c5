-- For every agency and year touched by new versions: the newest fetched version is current
-- (load order breaks ties), the others are history.
CREATE OR REPLACE TEMP TABLE load_current AS
SELECT
    d.report_id,
    row_number() OVER (PARTITION BY d.agency_id, d.year ORDER BY d.fetched_at DESC NULLS LAST, d.load_seq DESC) = 1
        AS should_be_current
FROM stg_document AS d
WHERE EXISTS (
    SELECT 1 FROM load_batch AS b
    WHERE b.action = 'new' AND b.agency_id = d.agency_id AND b.year = d.year
);

UPDATE stg_document AS d SET
    is_current = c.should_be_current,
    superseded_at = CASE WHEN c.should_be_current THEN NULL ELSE coalesce(d.superseded_at, now()::TIMESTAMP) END
FROM load_current AS c
WHERE d.report_id = c.report_id
  AND (d.is_current <> c.should_be_current OR (NOT c.should_be_current AND d.superseded_at IS NULL));
