-- 质量: every current report of the year, published or quarantined, and why (export).
SELECT * EXCLUDE (agency_id, report_id) FROM mart_quality WHERE year = $y ORDER BY status, agency;
