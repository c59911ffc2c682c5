-- The current version of an agency's report of one year: its content hash and contract object
-- (the evidence step reads last year's report for runs of digits this year's leaves open).
SELECT content_sha256, report_json FROM stg_document WHERE agency = $agency AND year = $year AND is_current
ORDER BY load_seq DESC LIMIT 1
