SELECT f.report_id, f.code, f.severity, f.message, f."where"
FROM stg_finding AS f JOIN stg_document AS d USING (report_id)
WHERE CASE WHEN $current THEN d.is_current ELSE d.report_id IN (SELECT report_id FROM arg_ids) END
ORDER BY f.report_id, f.seq;
