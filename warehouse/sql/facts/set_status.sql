-- The gate's decision per report (in_status), replacing an earlier one.
INSERT OR REPLACE INTO report_status (report_id, status, reasons, decided_at)
SELECT report_id, status, reasons, now()::TIMESTAMP FROM in_status;
