-- Reports for validation: the current ones ($current), or exactly those in arg_ids.
SELECT
    report_id, agency_id, agency, year, province, city, county, level, parent,
    template_active_disclosure, template_applications, template_review_litigation,
    is_current, source_url, content_sha256, fetched_at, parser_version
FROM stg_document
WHERE CASE WHEN $current THEN is_current ELSE report_id IN (SELECT report_id FROM arg_ids) END
ORDER BY agency_id, year, report_id;
