-- The codes of the fact tables, one row per cell of each template. Filled from
-- transforms/formatspec.py by db.init_schema (never a second list here).
CREATE TABLE IF NOT EXISTS dim_code (
    table_name     VARCHAR NOT NULL,
    template       VARCHAR NOT NULL,   -- F2019 | F2021 | standard
    item           VARCHAR NOT NULL,   -- table 1 item, table 2 row, table 3 proceeding
    measure        VARCHAR NOT NULL,   -- table 1 measure, table 2 applicant column, table 3 outcome
    item_label     VARCHAR,
    measure_label  VARCHAR,
    grp            VARCHAR,            -- table 2 result group (denied, unavailable, ...)
    leaf           BOOLEAN,            -- table 2 result leaf row (summed by H3)
    vtype          VARCHAR,            -- count | signed | decimal | amount
    ordinal        INTEGER,            -- position in the template
    PRIMARY KEY (table_name, template, item, measure)
);
