SELECT report_json FROM stg_document WHERE report_id = $report_id;
