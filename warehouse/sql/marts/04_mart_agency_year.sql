-- One row per agency and year (published reports only), with the change on the previous year
-- (NULL when the agency has no published report for year - 1). Ratios are NULL when the
-- denominator is 0 or NULL. Counts are BIGINT (H5 holds for published reports); fees stay DOUBLE.
CREATE OR REPLACE TEMP TABLE mart_series AS
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
)
SELECT
    agency_id, agency, province, city, county, level, year, make_date(year, 1, 1) AS year_start, report_id, template_applications,
    applications_received, applications_processed, granted, partially_granted, denied, disclosure_rate,
    review_total, litigation_total, cases_corrected, cases_decided, correction_rate, fees_10k_yuan,
    agency_id AS part_key  -- one series, for with_prev_delta
FROM rated;

CREATE OR REPLACE TEMP TABLE out_mart_agency_year AS
SELECT *  -- the columns above, then prev_* and delta_* (00_prev_delta.sql)
FROM with_prev_delta('mart_series')
ORDER BY agency_id, year;
