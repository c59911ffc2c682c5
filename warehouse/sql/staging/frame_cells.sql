-- No ORDER BY: sorting a chunk's ~500,000 cells by four strings was ~0.25 CPU-s of every 2,500 reports
-- validated, four fifths of the query. Its one reader keys every cell by report and cell path
-- (expectations/validate.py, _Wide), and stg_cell holds one row per report and cell path.
SELECT c.report_id, c.table_name, c.item, c.measure, c.value, c.marker
FROM stg_cell AS c JOIN stg_document AS d USING (report_id)
WHERE CASE WHEN $current THEN d.is_current ELSE d.report_id IN (SELECT report_id FROM arg_ids) END;
