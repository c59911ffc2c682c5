-- The headline figures summed by year, province, city and level (one level per row, so a
-- city's own report and its counties' reports are never added together). Sums skip unknown
-- (NULL) figures; reports_complete counts the reports whose headline figures are all known.
-- Ratios are recomputed from the sums, NULL when the denominator is 0 or NULL. Sums of counts are
-- cast back to BIGINT (DuckDB's sum gives HUGEINT, which BI drivers read as a float or not at all).
CREATE OR REPLACE TEMP TABLE mart_series AS
WITH base AS (
    SELECT
        year, province, city, level,
        count(*) AS reports,
        count(*) FILTER (WHERE applications_received IS NOT NULL AND applications_processed IS NOT NULL
                          AND granted IS NOT NULL AND partially_granted IS NOT NULL AND denied IS NOT NULL
                          AND review_total IS NOT NULL AND litigation_total IS NOT NULL) AS reports_complete,
        CAST(sum(applications_received) AS BIGINT) AS applications_received,
        CAST(sum(applications_processed) AS BIGINT) AS applications_processed,
        CAST(sum(granted) AS BIGINT) AS granted,
        CAST(sum(partially_granted) AS BIGINT) AS partially_granted,
        CAST(sum(denied) AS BIGINT) AS denied,
        CAST(sum(review_total) AS BIGINT) AS review_total,
        CAST(sum(litigation_total) AS BIGINT) AS litigation_total,
        CAST(sum(cases_corrected) AS BIGINT) AS cases_corrected,
        CAST(sum(cases_decided) AS BIGINT) AS cases_decided,
        sum(fees_10k_yuan) AS fees_10k_yuan
    FROM out_mart_agency_year
    GROUP BY year, province, city, level
),
rated AS (
    SELECT *,
        (granted + partially_granted) / nullif(applications_processed, 0) AS disclosure_rate,
        cases_corrected / nullif(cases_decided, 0) AS correction_rate
    FROM base
)
SELECT
    year, make_date(year, 1, 1) AS year_start, province, city, level, reports, reports_complete,
    applications_received, applications_processed, granted, partially_granted, denied, disclosure_rate,
    review_total, litigation_total, cases_corrected, cases_decided, correction_rate, fees_10k_yuan,
    struct_pack(province := province, city := city, level := level) AS part_key  -- one series, for with_prev_delta
FROM rated;

CREATE OR REPLACE TEMP TABLE out_mart_region_year AS
SELECT *  -- the columns above, then prev_* and delta_* (00_prev_delta.sql)
FROM with_prev_delta('mart_series')
ORDER BY year, province, city, level;
