-- Every stored version of every report, numbered per agency and year.
CREATE OR REPLACE VIEW report_version AS
SELECT
    agency_id, agency, year, report_id, content_sha256, parser_version, fetched_at,
    row_number() OVER (PARTITION BY agency_id, year ORDER BY fetched_at NULLS FIRST, load_seq) AS version,
    is_current, loaded_at, superseded_at
FROM stg_document;
