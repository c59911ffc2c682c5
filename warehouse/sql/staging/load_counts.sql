-- What the batch does, for LoadSummary: inserted, unchanged, revised, updated.
SELECT
    count(*) FILTER (WHERE action = 'new' AND NOT prior_version) AS inserted,
    count(*) FILTER (WHERE action = 'unchanged') AS unchanged,
    count(*) FILTER (WHERE action = 'new' AND prior_version) AS revised,
    count(*) FILTER (WHERE action = 'updated') AS updated
FROM load_batch;
