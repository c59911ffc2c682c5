-- The headline figures summed by year, province, city and level (one level per row, so a
-- city's own report and its counties' reports are never added together). Sums skip unknown
-- (NULL) figures; reports_complete counts the reports whose headline figures are all known.
-- Ratios are recomputed from the sums, NULL when the denominator is 0 or NULL. Sums of counts are
-- cast back to BIGINT (DuckDB's sum gives HUGEINT, which BI drivers read as a float or not at all).
CREATE OR REPLACE TEMP TABLE out_mart_region_year AS
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
),
prev AS (
    SELECT r.*,
        lag(year) OVER w = year - 1 AS has_prev,
        lag(applications_received) OVER w AS l_applications_received,
        lag(applications_processed) OVER w AS l_applications_processed,
        lag(granted) OVER w AS l_granted,
        lag(partially_granted) OVER w AS l_partially_granted,
        lag(denied) OVER w AS l_denied,
        lag(disclosure_rate) OVER w AS l_disclosure_rate,
        lag(review_total) OVER w AS l_review_total,
        lag(litigation_total) OVER w AS l_litigation_total,
        lag(correction_rate) OVER w AS l_correction_rate,
        lag(fees_10k_yuan) OVER w AS l_fees_10k_yuan
    FROM rated AS r
    WINDOW w AS (PARTITION BY province, city, level ORDER BY year)
)
SELECT
    year, make_date(year, 1, 1) AS year_start, province, city, level, reports, reports_complete,
    applications_received, applications_processed, granted, partially_granted, denied, disclosure_rate,
    review_total, litigation_total, cases_corrected, cases_decided, correction_rate, fees_10k_yuan,
    CASE WHEN has_prev THEN l_applications_received END AS prev_applications_received,
    CASE WHEN has_prev THEN l_applications_processed END AS prev_applications_processed,
    CASE WHEN has_prev THEN l_granted END AS prev_granted,
    CASE WHEN has_prev THEN l_partially_granted END AS prev_partially_granted,
    CASE WHEN has_prev THEN l_denied END AS prev_denied,
    CASE WHEN has_prev THEN l_disclosure_rate END AS prev_disclosure_rate,
    CASE WHEN has_prev THEN l_review_total END AS prev_review_total,
    CASE WHEN has_prev THEN l_litigation_total END AS prev_litigation_total,
    CASE WHEN has_prev THEN l_correction_rate END AS prev_correction_rate,
    CASE WHEN has_prev THEN l_fees_10k_yuan END AS prev_fees_10k_yuan,
    CASE WHEN has_prev THEN applications_received - l_applications_received END AS delta_applications_received,
    CASE WHEN has_prev THEN applications_processed - l_applications_processed END AS delta_applications_processed,
    CASE WHEN has_prev THEN granted - l_granted END AS delta_granted,
    CASE WHEN has_prev THEN partially_granted - l_partially_granted END AS delta_partially_granted,
    CASE WHEN has_prev THEN denied - l_denied END AS delta_denied,
    CASE WHEN has_prev THEN disclosure_rate - l_disclosure_rate END AS delta_disclosure_rate,
    CASE WHEN has_prev THEN review_total - l_review_total END AS delta_review_total,
    CASE WHEN has_prev THEN litigation_total - l_litigation_total END AS delta_litigation_total,
    CASE WHEN has_prev THEN correction_rate - l_correction_rate END AS delta_correction_rate,
    CASE WHEN has_prev THEN fees_10k_yuan - l_fees_10k_yuan END AS delta_fees_10k_yuan
FROM prev
ORDER BY year, province, city, level;
