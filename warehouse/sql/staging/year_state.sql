-- What the outcome of a run of year $y depends on in the warehouse: its own reports and
-- those of the year before (the cross-year checks). Any load, reload, new version or
-- re-validation of either year changes this result; runs of other years do not.
SELECT
    d.year,
    count(*)                                   AS documents,
    max(d.load_seq)                            AS last_load_seq,
    max(d.loaded_at)::VARCHAR                  AS last_loaded_at,
    count(*) FILTER (WHERE d.is_current)       AS current_documents,
    max(s.decided_at)::VARCHAR                 AS last_decided_at
FROM stg_document AS d
LEFT JOIN report_status AS s USING (report_id)
WHERE d.year IN ($y, $y - 1)
GROUP BY d.year
ORDER BY d.year;
