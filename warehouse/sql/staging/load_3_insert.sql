-- New documents, then the rows of new and updated documents (bulk, from the batch frames).
INSERT INTO stg_document (
    report_id, agency_id, agency, year, source_url, content_sha256, fetched_at,
    province, city, county, level, parent, parent_agency_id,
    template_active_disclosure, template_applications, template_review_litigation,
    report_agency, report_year, parser_version, report_json, load_seq, loaded_at, is_current
)
SELECT
    report_id, agency_id, agency, year, source_url, content_sha256, fetched_at,
    province, city, county, level, parent, parent_agency_id,
    template_active_disclosure, template_applications, template_review_litigation,
    report_agency, report_year, parser_version, p.report_json,
    (SELECT coalesce(max(load_seq), 0) FROM stg_document) + row_number() OVER (ORDER BY b.batch_pos),
    now()::TIMESTAMP,
    false
FROM load_batch AS b
LEFT JOIN in_payload AS p USING (batch_pos)
WHERE b.action = 'new';

INSERT INTO stg_table (report_id, table_name, template, status)
SELECT t.report_id, t.table_name, t.template, t.status
FROM in_table AS t JOIN load_batch AS b ON b.batch_pos = t.batch_pos
WHERE b.action IN ('new', 'updated');

INSERT INTO stg_cell (report_id, table_name, item, measure, value, marker, provenance)
SELECT b.report_id, c.table_name, c.item, c.measure, c.value, c.marker, c.provenance  -- in_cell has no report_id
FROM in_cell AS c JOIN load_batch AS b ON b.batch_pos = c.batch_pos
WHERE b.action IN ('new', 'updated');

INSERT INTO stg_finding (report_id, seq, code, severity, message, "where")
SELECT f.report_id, f.seq, f.code, f.severity, f.message, f."where"
FROM in_finding AS f JOIN load_batch AS b ON b.batch_pos = f.batch_pos
WHERE b.action IN ('new', 'updated');

INSERT INTO stg_narrative (report_id, key, value)
SELECT n.report_id, n.key, n.value
FROM in_narrative AS n JOIN load_batch AS b ON b.batch_pos = n.batch_pos
WHERE b.action IN ('new', 'updated');
