-- Headline figures per published report. Each figure is the sum of the cells below (codes
-- resolved through dim_code, so both templates are covered). A not-applicable cell ("/", "-")
-- counts as 0 (FORMAT.md §9.2); a blank, unreadable or missing cell makes the figure NULL.
CREATE OR REPLACE TEMP TABLE figure_cell AS
SELECT f.figure, k.table_name, k.template, k.item, k.measure
FROM (VALUES
    ('applications_received',  'applications',      'new_received',      NULL,     'total'),
    ('applications_processed', 'applications',      'total_processed',   NULL,     'total'),
    ('granted',                'applications',      'granted',           NULL,     'total'),
    ('partially_granted',      'applications',      'partially_granted', NULL,     'total'),
    ('denied',                 'applications',      NULL,                'denied', 'total'),
    ('review_total',           'review_litigation', 'admin_review',      NULL,     'total'),
    ('litigation_total',       'review_litigation', 'litigation_direct', NULL,     'total'),
    ('litigation_total',       'review_litigation', 'litigation_after_review', NULL, 'total'),
    ('cases_corrected',        'review_litigation', NULL,                NULL,     'corrected'),
    ('cases_decided',          'review_litigation', NULL,                NULL,     'upheld'),
    ('cases_decided',          'review_litigation', NULL,                NULL,     'corrected'),
    ('cases_decided',          'review_litigation', NULL,                NULL,     'other'),
    ('fees_10k_yuan',          'active_disclosure', 'fees',              NULL,     'amount_10k_yuan')
) AS f(figure, table_name, item, grp, measure)
JOIN dim_code AS k
  ON k.table_name = f.table_name AND k.measure = f.measure
 AND (f.item IS NULL OR k.item = f.item) AND (f.grp IS NULL OR k.grp = f.grp);

CREATE OR REPLACE TEMP TABLE report_figure AS
WITH wanted AS (   -- every cell each figure needs, for the templates the report uses
    SELECT d.report_id, fc.figure, fc.table_name, fc.item, fc.measure
    FROM stg_document AS d
    JOIN pub_scope AS p ON p.report_id = d.report_id AND p.status = (SELECT published FROM arg_status)
    JOIN figure_cell AS fc
      ON fc.template = CASE fc.table_name
            WHEN 'active_disclosure' THEN d.template_active_disclosure
            WHEN 'applications' THEN d.template_applications
            ELSE fc.template END
    JOIN stg_table AS t
      ON t.report_id = d.report_id AND t.table_name = fc.table_name AND t.status = 'present'
)
SELECT
    w.report_id, w.figure,
    CASE WHEN bool_or(c.value IS NULL AND coalesce(c.marker, '') <> 'na') THEN NULL
         ELSE sum(coalesce(c.value, 0)) END AS value
FROM wanted AS w
LEFT JOIN stg_cell AS c
  ON c.report_id = w.report_id AND c.table_name = w.table_name AND c.item = w.item AND c.measure = w.measure
GROUP BY w.report_id, w.figure;
