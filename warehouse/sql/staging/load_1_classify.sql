-- Classify an incoming batch (in_document) against what is stored:
--   new        an unknown report_id (prior_version: the agency already has a report for the year)
--   unchanged  same report_id, same parser version and registry metadata: nothing to do
--   updated    same report_id, but re-parsed by another parser version or with changed metadata
CREATE OR REPLACE TEMP TABLE load_batch AS
WITH incoming AS (
    SELECT *, row_number() OVER (PARTITION BY report_id ORDER BY batch_pos) AS dup
    FROM in_document
)
SELECT
    i.* EXCLUDE (dup),
    CASE
        WHEN d.report_id IS NULL THEN 'new'
        WHEN d.parser_version IS NOT DISTINCT FROM i.parser_version
             AND d.source_url IS NOT DISTINCT FROM i.source_url
             AND d.province IS NOT DISTINCT FROM i.province
             AND d.city IS NOT DISTINCT FROM i.city
             AND d.county IS NOT DISTINCT FROM i.county
             AND d.level IS NOT DISTINCT FROM i.level
             AND d.parent IS NOT DISTINCT FROM i.parent THEN 'unchanged'
        ELSE 'updated'
    END AS action,
    d.report_id IS NULL AND (
        EXISTS (SELECT 1 FROM stg_document s WHERE s.agency_id = i.agency_id AND s.year = i.year)
        OR row_number() OVER (PARTITION BY i.agency_id, i.year, d.report_id IS NULL ORDER BY i.batch_pos) > 1
    ) AS prior_version
FROM incoming i
LEFT JOIN stg_document d ON d.report_id = i.report_id
WHERE i.dup = 1;
