-- 表二: every cell of the year's published reports, with the template's labels (export).
SELECT a.name AS agency, r.template_applications AS template, f.row_code, cr.label_zh AS row_label,
       f.applicant, cc.label_zh AS applicant_label, f.value
FROM fact_application AS f
JOIN dim_report AS r USING (report_id)
JOIN dim_agency AS a USING (agency_id)
LEFT JOIN dim_code AS cr
  ON cr.code = f.row_code AND cr.table_code = 'applications' AND cr.kind = 'row' AND cr.template = r.template_applications
LEFT JOIN dim_code AS cc
  ON cc.code = f.applicant AND cc.table_code = 'applications' AND cc.kind = 'column' AND cc.template = r.template_applications
WHERE r.year = $y
ORDER BY a.name, cr.sort, cc.sort;
