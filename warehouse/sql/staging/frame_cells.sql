SELECT c.report_id, c.table_name, c.item, c.measure, c.value, c.marker
FROM stg_cell AS c JOIN stg_document AS d USING (report_id)
WHERE CASE WHEN $current THEN d.is_current ELSE d.report_id IN (SELECT report_id FROM arg_ids) END
ORDER BY c.report_id, c.table_name, c.item, c.measure;
