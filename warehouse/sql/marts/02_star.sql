-- The published dimensions and facts (CONTRACT.md §2, exactly these columns). The four facts are
-- views: the copy into the published file computes each once (a table here was a second copy of
-- ~2.5 M rows at 10,000 reports), and the Parquet export reads the published tables.
CREATE OR REPLACE TEMP TABLE out_dim_report AS
SELECT
    d.report_id, d.agency_id, d.year, d.source_url, d.content_sha256, d.fetched_at,
    d.template_active_disclosure, d.template_applications, p.status
FROM stg_document AS d JOIN pub_scope AS p USING (report_id)
ORDER BY d.agency_id, d.year;

CREATE OR REPLACE TEMP TABLE out_dim_agency AS
SELECT agency_id, name, province, city, county, level, parent_agency_id
FROM (
    SELECT d.agency_id, d.agency AS name, d.province, d.city, d.county, d.level, d.parent_agency_id,
           d.year, d.fetched_at, d.load_seq
    FROM stg_document AS d JOIN pub_scope AS p USING (report_id)
)
-- an agency's attributes as its latest report's registry row gives them
QUALIFY row_number() OVER (PARTITION BY agency_id ORDER BY year DESC, fetched_at DESC NULLS LAST, load_seq DESC) = 1
ORDER BY agency_id;

-- The cell facts are published in (report_id, code) order: sorted by the reports' and codes'
-- positions in that order, two integers, not three strings (fact_application's 1.7 M rows at
-- 10,000 reports: ~0.25 CPU-s less). Every fact row's code is in dim_code (fact_cell joins it), so
-- the join drops none; report_id and (item, measure) are unique, so the order is the same.
CREATE OR REPLACE TEMP TABLE pub_report_order AS
SELECT report_id, row_number() OVER (ORDER BY report_id) AS report_pos
FROM pub_scope
WHERE status = (SELECT published FROM arg_status);

CREATE OR REPLACE TEMP TABLE pub_code_order AS
SELECT table_name, item, measure, row_number() OVER (PARTITION BY table_name ORDER BY item, measure) AS code_pos
FROM (SELECT DISTINCT table_name, item, measure FROM dim_code);

CREATE OR REPLACE TEMP VIEW out_fact_active_disclosure AS
SELECT f.report_id, f.item, f.measure, f.value, f.provenance
FROM fact_active_disclosure AS f
JOIN pub_report_order AS p USING (report_id)
JOIN pub_code_order AS k ON k.table_name = 'active_disclosure' AND k.item = f.item AND k.measure = f.measure
ORDER BY p.report_pos, k.code_pos;  -- report_id, item, measure

-- Table 2 and 3 cells are counts (H5 holds for every published report): integers for BI tools.
CREATE OR REPLACE TEMP VIEW out_fact_application AS
SELECT f.report_id, f.row_code, f.applicant, CAST(f.value AS BIGINT) AS value, f.provenance
FROM fact_application AS f
JOIN pub_report_order AS p USING (report_id)
JOIN pub_code_order AS k ON k.table_name = 'applications' AND k.item = f.row_code AND k.measure = f.applicant
ORDER BY p.report_pos, k.code_pos;  -- report_id, row_code, applicant

CREATE OR REPLACE TEMP VIEW out_fact_review_litigation AS
SELECT f.report_id, f.proceeding, f.outcome, CAST(f.value AS BIGINT) AS value, f.provenance
FROM fact_review_litigation AS f
JOIN pub_report_order AS p USING (report_id)
JOIN pub_code_order AS k ON k.table_name = 'review_litigation' AND k.item = f.proceeding AND k.measure = f.outcome
ORDER BY p.report_pos, k.code_pos;  -- report_id, proceeding, outcome

-- The check rows in (report_id, check_id, scope) order, sorted the same way as the cells: by the
-- positions of their report and of their (check_id, scope) among the few distinct ones (~70), two
-- integers, not three strings (~600 k rows at 10,000 reports: the string sort was ~1 CPU-s). The
-- positions follow ORDER BY's own rules (NULLS LAST), and NULL scopes meet with IS NOT DISTINCT FROM.
CREATE OR REPLACE TEMP TABLE pub_check_order AS
SELECT check_id, scope, row_number() OVER (ORDER BY check_id, scope) AS check_pos
FROM (SELECT DISTINCT check_id, scope FROM chk_result);

-- The contract has no scope column: the scope (e.g. column=total) leads the detail.
CREATE OR REPLACE TEMP VIEW out_fact_check AS
SELECT
    c.report_id, c.check_id, c.severity, c.status, c.expected, c.actual,
    CASE WHEN coalesce(c.scope, '') = '' THEN c.detail ELSE '[' || c.scope || '] ' || coalesce(c.detail, '') END
        AS detail
FROM chk_result AS c
JOIN pub_report_order AS p USING (report_id)
JOIN pub_check_order AS k ON k.check_id = c.check_id AND k.scope IS NOT DISTINCT FROM c.scope
ORDER BY p.report_pos, k.check_pos;  -- report_id, check_id, scope

-- Every code of the format with its Chinese label (arg_dim_code: warehouse/describe.py, from formatspec).
CREATE OR REPLACE TEMP TABLE out_dim_code AS
SELECT code, table_code, kind, label_zh, template, sort FROM arg_dim_code ORDER BY sort;
