-- 表三: every cell of the year's published reports, with the labels (export).
SELECT a.name AS agency, f.proceeding, cp.label_zh AS proceeding_label, f.outcome, co.label_zh AS outcome_label,
       f.value
FROM fact_review_litigation AS f
JOIN dim_report AS r USING (report_id)
JOIN dim_agency AS a USING (agency_id)
LEFT JOIN dim_code AS cp ON cp.code = f.proceeding AND cp.table_code = 'review_litigation' AND cp.kind = 'group'
LEFT JOIN dim_code AS co ON co.code = f.outcome AND co.table_code = 'review_litigation' AND co.kind = 'column'
WHERE r.year = $y
ORDER BY a.name, cp.sort, co.sort;
