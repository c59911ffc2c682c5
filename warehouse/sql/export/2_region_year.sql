-- 地区年度指标: the year's figures per province, city and level (export).
SELECT * FROM mart_region_year WHERE year = $y ORDER BY province, city, level;
