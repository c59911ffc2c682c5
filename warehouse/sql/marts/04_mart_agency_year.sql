-- One row per agency and year (published reports only), with the change on the previous year
-- (NULL when the agency has no published report for year - 1). Ratios are NULL when the
-- denominator is 0 or NULL. Counts are BIGINT (H5 holds for published reports); fees stay DOUBLE.
CREATE OR REPLACE TEMP TABLE out_mart_agency_year AS
WITH base AS (
    SELECT
        d.agency_id, d.agency, d.province, d.city, d.county, d.level, d.year, d.report_id,
        d.template_applications,
        CAST(max(f.value) FILTER (WHERE f.figure = 'applications_received') AS BIGINT)  AS applications_received,
        CAST(max(f.value) FILTER (WHERE f.figure = 'applications_processed') AS BIGINT) AS applications_processed,
        CAST(max(f.value) FILTER (WHERE f.figure = 'granted') AS BIGINT)                AS granted,
        CAST(max(f.value) FILTER (WHERE f.figure = 'partially_granted') AS BIGINT)      AS partially_granted,
        CAST(max(f.value) FILTER (WHERE f.figure = 'denied') AS BIGINT)                 AS denied,
        CAST(max(f.value) FILTER (WHERE f.figure = 'review_total') AS BIGINT)           AS review_total,
        CAST(max(f.value) FILTER (WHERE f.figure = 'litigation_total') AS BIGINT)       AS litigation_total,
        CAST(max(f.value) FILTER (WHERE f.figure = 'cases_corrected') AS BIGINT)        AS cases_corrected,
        CAST(max(f.value) FILTER (WHERE f.figure = 'cases_decided') AS BIGINT)          AS cases_decided,
        max(f.value) FILTER (WHERE f.figure = 'fees_10k_yuan')          AS fees_10k_yuan
    FROM stg_document AS d
    JOIN pub_scope AS p ON p.report_id = d.report_id AND p.status = (SELECT published FROM arg_status)
    LEFT JOIN report_figure AS f ON f.report_id = d.report_id
    GROUP BY ALL
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
    WINDOW w AS (PARTITION BY agency_id ORDER BY year)
)
SELECT
    agency_id, agency, province, city, county, level, year, make_date(year, 1, 1) AS year_start, report_id, template_applications,
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
ORDER BY agency_id, year;
