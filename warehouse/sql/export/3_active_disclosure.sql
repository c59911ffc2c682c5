-- 表一: every cell of the year's published reports, with the template's labels (export).
SELECT a.name AS agency, r.template_active_disclosure AS template, f.item, ci.label_zh AS item_label,
       f.measure, cm.label_zh AS measure_label, f.value
FROM fact_active_disclosure AS f
JOIN dim_report AS r USING (report_id)
JOIN dim_agency AS a USING (agency_id)
LEFT JOIN dim_code AS ci
  ON ci.code = f.item AND ci.table_code = 'active_disclosure' AND ci.kind = 'row' AND ci.template = r.template_active_disclosure
LEFT JOIN dim_code AS cm
  ON cm.code = f.measure AND cm.table_code = 'active_disclosure' AND cm.kind = 'column' AND cm.template = r.template_active_disclosure
WHERE r.year = $y
ORDER BY a.name, ci.sort, cm.sort;
