-- Documents re-parsed (or re-labelled by the registry): replace their staging rows and
-- forget their validation, which no longer describes what is stored.
DELETE FROM stg_cell WHERE report_id IN (SELECT report_id FROM load_batch WHERE action = 'updated');
DELETE FROM stg_finding WHERE report_id IN (SELECT report_id FROM load_batch WHERE action = 'updated');
DELETE FROM stg_narrative WHERE report_id IN (SELECT report_id FROM load_batch WHERE action = 'updated');
DELETE FROM stg_table WHERE report_id IN (SELECT report_id FROM load_batch WHERE action = 'updated');
DELETE FROM chk_result WHERE report_id IN (SELECT report_id FROM load_batch WHERE action = 'updated');
DELETE FROM report_status WHERE report_id IN (SELECT report_id FROM load_batch WHERE action = 'updated');
UPDATE stg_document AS d SET
    source_url = b.source_url,
    province = b.province,
    city = b.city,
    county = b.county,
    level = b.level,
    parent = b.parent,
    parent_agency_id = b.parent_agency_id,
    template_active_disclosure = b.template_active_disclosure,
    template_applications = b.template_applications,
    template_review_litigation = b.template_review_litigation,
    report_agency = b.report_agency,
    report_year = b.report_year,
    parser_version = b.parser_version,
    report_json = (SELECT p.report_json FROM in_payload AS p WHERE p.batch_pos = b.batch_pos),
    loaded_at = now()::TIMESTAMP
FROM load_batch AS b
WHERE d.report_id = b.report_id AND b.action = 'updated';
