-- Validation results (one row per expanded check of a report) and the gate's decision.
CREATE TABLE IF NOT EXISTS chk_result (
    report_id   VARCHAR NOT NULL,
    check_id    VARCHAR NOT NULL,
    scope       VARCHAR,
    severity    VARCHAR NOT NULL,     -- error | warning
    status      VARCHAR NOT NULL,     -- pass | fail | skipped_*
    expected    DOUBLE,
    actual      DOUBLE,
    detail      VARCHAR,
    checked_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS report_status (
    report_id   VARCHAR PRIMARY KEY,
    status      VARCHAR NOT NULL,     -- passed | quarantined
    reasons     VARCHAR,
    decided_at  TIMESTAMP NOT NULL
);
