-- 机关年度指标: the year's headline figures per agency (export, $y the year).
SELECT * EXCLUDE (agency_id, report_id) FROM mart_agency_year WHERE year = $y ORDER BY province, city, agency;
