-- The status words (in_status, built by warehouse/statuses.py:status_table) stored for the
-- warehouse's views: a view cannot read the temporary arg_status of a publish. Run before the
-- schema files so dim_report finds it (never a second list of words here).
CREATE OR REPLACE TABLE ref_status AS SELECT * FROM in_status;
