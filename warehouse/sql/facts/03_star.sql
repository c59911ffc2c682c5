-- Dimensions and facts of the warehouse, over every stored version (is_current tells which
-- one counts). The published copies (sql/marts/) keep current, non-quarantined reports only.
CREATE OR REPLACE VIEW dim_agency AS
SELECT agency_id, agency AS name, province, city, county, level, parent_agency_id
FROM stg_document
QUALIFY row_number() OVER (
    PARTITION BY agency_id ORDER BY is_current DESC, year DESC, fetched_at DESC NULLS LAST, load_seq DESC
) = 1;

CREATE OR REPLACE VIEW dim_report AS
SELECT
    d.report_id, d.agency_id, d.year, d.source_url, d.content_sha256, d.fetched_at,
    d.template_active_disclosure, d.template_applications,
    CASE WHEN NOT d.is_current THEN st.superseded ELSE coalesce(s.status, st.pending) END AS status,
    d.is_current, v.version, d.parser_version
FROM stg_document AS d
JOIN report_version AS v USING (report_id)
LEFT JOIN report_status AS s USING (report_id)
CROSS JOIN ref_status AS st;  -- the status words (warehouse/statuses.py)

-- A cell joined to its code for the template the report uses (cells with unknown codes stay
-- in staging only).
CREATE OR REPLACE VIEW fact_cell AS
SELECT c.report_id, c.table_name, c.item, c.measure, c.value, c.marker,
       coalesce(c.provenance, 'text') AS provenance, k.grp, k.ordinal
FROM stg_cell AS c
JOIN stg_document AS d USING (report_id)
JOIN dim_code AS k
  ON k.table_name = c.table_name AND k.item = c.item AND k.measure = c.measure
 AND k.template = CASE c.table_name
        WHEN 'active_disclosure' THEN d.template_active_disclosure
        WHEN 'applications' THEN d.template_applications
        ELSE k.template END;

CREATE OR REPLACE VIEW fact_active_disclosure AS
SELECT report_id, item, measure, value, marker, provenance FROM fact_cell WHERE table_name = 'active_disclosure';

CREATE OR REPLACE VIEW fact_application AS
SELECT report_id, item AS row_code, measure AS applicant, value, marker, provenance
FROM fact_cell WHERE table_name = 'applications';

CREATE OR REPLACE VIEW fact_review_litigation AS
SELECT report_id, item AS proceeding, measure AS outcome, value, marker, provenance
FROM fact_cell WHERE table_name = 'review_litigation';

CREATE OR REPLACE VIEW fact_check AS
SELECT report_id, check_id, scope, severity, status, expected, actual, detail FROM chk_result;
