-- The current version of an agency's report of one year, if it passed the gate: its content hash
-- and contract object (evidence for runs of digits next year's report leaves open, flows/steps/evidence.py).
-- $passed is warehouse.statuses.PASSED.
SELECT d.content_sha256, d.report_json FROM stg_document AS d JOIN report_status AS s USING (report_id)
WHERE d.agency = $agency AND d.year = $year AND d.is_current AND s.status = $passed
ORDER BY d.load_seq DESC LIMIT 1
