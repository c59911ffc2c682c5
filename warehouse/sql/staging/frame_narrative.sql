SELECT n.report_id, n.key, n.value
FROM stg_narrative AS n JOIN stg_document AS d USING (report_id)
WHERE CASE WHEN $current THEN d.is_current ELSE d.report_id IN (SELECT report_id FROM arg_ids) END
ORDER BY n.report_id, n.key;
