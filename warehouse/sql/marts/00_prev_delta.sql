-- The previous year's value and the change, for every headline figure of the marts, written
-- once: out_mart_agency_year and out_mart_region_year both call it on mart_series (tbl), the
-- figures with `year` and `part_key` (what one series is: an agency, or a province/city/level);
-- prev_* and delta_* are NULL unless the series has a row for the year before.
CREATE OR REPLACE TEMP MACRO with_prev_delta(tbl) AS TABLE
WITH prev AS (
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
    FROM query_table(tbl) AS r
    WINDOW w AS (PARTITION BY part_key ORDER BY year)
)
SELECT
    * EXCLUDE (part_key, has_prev, l_applications_received, l_applications_processed, l_granted,
               l_partially_granted, l_denied, l_disclosure_rate, l_review_total, l_litigation_total,
               l_correction_rate, l_fees_10k_yuan),
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
FROM prev;
