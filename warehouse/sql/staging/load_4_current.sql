-- Every version in the batch was served by its site at its fetched_at: remember the latest time.
UPDATE stg_document AS d SET served_at = b.served_at
FROM (SELECT report_id, max(fetched_at) AS served_at FROM in_document GROUP BY report_id) AS b
WHERE d.report_id = b.report_id AND b.served_at IS NOT NULL
  AND (d.served_at IS NULL OR d.served_at < b.served_at);

-- For every agency and year in the batch, the version served most recently is current, the
-- others are history. Any version in the batch, new or known, counts: the site serving an older
-- version again (a withdrawn correction) makes it current again. Fetch times have whole seconds:
-- on a tie the version of this batch wins, then the one loaded last.
CREATE OR REPLACE TEMP TABLE load_current AS
SELECT
    d.report_id,
    row_number() OVER (PARTITION BY d.agency_id, d.year
                       ORDER BY coalesce(d.served_at, d.fetched_at) DESC NULLS LAST,
                                d.report_id IN (SELECT report_id FROM in_document) DESC,
                                d.load_seq DESC) = 1
        AS should_be_current
FROM stg_document AS d
WHERE EXISTS (
    SELECT 1 FROM load_batch AS b
    WHERE b.agency_id = d.agency_id AND b.year = d.year
);

UPDATE stg_document AS d SET
    is_current = c.should_be_current,
    superseded_at = CASE WHEN c.should_be_current THEN NULL ELSE coalesce(d.superseded_at, now()::TIMESTAMP) END
FROM load_current AS c
WHERE d.report_id = c.report_id
  AND (d.is_current <> c.should_be_current OR (NOT c.should_be_current AND d.superseded_at IS NULL));
