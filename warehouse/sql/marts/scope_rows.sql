-- What a publish decided per current report (returned in PublishSummary.statuses).
SELECT report_id, status, reasons FROM pub_scope ORDER BY report_id;
