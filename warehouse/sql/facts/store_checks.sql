-- Re-validation of a report replaces all of its previous check rows (in_check: the new rows).
DELETE FROM chk_result WHERE report_id IN (SELECT DISTINCT report_id FROM in_check);
INSERT INTO chk_result (report_id, check_id, scope, severity, status, expected, actual, detail, checked_at)
SELECT report_id, check_id, scope, severity, status, expected, actual, detail, now()::TIMESTAMP
FROM in_check;
