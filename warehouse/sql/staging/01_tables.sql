-- Staging: what the parser produced, one row per fetched document version.
-- A report_id is deterministic from (agency, year, content_sha256); a new content hash for the
-- same agency and year is a new version, and the newest fetched version is the current one.
CREATE TABLE IF NOT EXISTS stg_document (
    report_id                   VARCHAR PRIMARY KEY,
    agency_id                   VARCHAR NOT NULL,
    agency                      VARCHAR NOT NULL,
    year                        INTEGER NOT NULL,
    source_url                  VARCHAR,
    content_sha256              VARCHAR NOT NULL,
    fetched_at                  TIMESTAMP,           -- UTC
    province                    VARCHAR,
    city                        VARCHAR,
    county                      VARCHAR,
    level                       VARCHAR,
    parent                      VARCHAR,
    parent_agency_id            VARCHAR,
    template_active_disclosure  VARCHAR,
    template_applications       VARCHAR,
    template_review_litigation  VARCHAR,
    report_agency               VARCHAR,             -- what the document itself says
    report_year                 INTEGER,
    parser_version              VARCHAR,
    report_json                 VARCHAR,             -- the contract object as loaded
    load_seq                    BIGINT NOT NULL,     -- order of loading, ties broken by it
    loaded_at                   TIMESTAMP NOT NULL,
    is_current                  BOOLEAN NOT NULL DEFAULT false,
    superseded_at               TIMESTAMP
);

CREATE TABLE IF NOT EXISTS stg_table (
    report_id   VARCHAR NOT NULL,
    table_name  VARCHAR NOT NULL,
    template    VARCHAR,
    status      VARCHAR NOT NULL,                    -- present | missing
    PRIMARY KEY (report_id, table_name)
);

-- No primary key: a report's cells are unique by construction (the keys of its contract object),
-- and the loader stores a report's rows once (new) or after deleting them (updated); the key's
-- index cost 40 % of loading 10,000 reports. Warehouses made before keep theirs.
CREATE TABLE IF NOT EXISTS stg_cell (
    report_id   VARCHAR NOT NULL,
    table_name  VARCHAR NOT NULL,
    item        VARCHAR NOT NULL,
    measure     VARCHAR NOT NULL,
    value       DOUBLE,                              -- as printed; NULL when blank, n/a or unreadable
    marker      VARCHAR,                             -- NULL, blank, na, unreadable, derived, ambiguous
    provenance  VARCHAR                              -- text | derived (run-together digits split) | ocr
);
-- warehouses made before cells had a provenance
ALTER TABLE stg_cell ADD COLUMN IF NOT EXISTS provenance VARCHAR;

CREATE TABLE IF NOT EXISTS stg_finding (
    report_id   VARCHAR NOT NULL,
    seq         INTEGER NOT NULL,
    code        VARCHAR,
    severity    VARCHAR,
    message     VARCHAR,
    "where"     VARCHAR,
    PRIMARY KEY (report_id, seq)
);

CREATE TABLE IF NOT EXISTS stg_narrative (
    report_id   VARCHAR NOT NULL,
    key         VARCHAR NOT NULL,
    value       BIGINT,
    PRIMARY KEY (report_id, key)
);
