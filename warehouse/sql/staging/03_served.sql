-- When the site last served each version (UTC). The current version of an agency's report for
-- a year is the one served most recently: a version that comes back (a captcha morning ended,
-- a correction was withdrawn) is current again. Warehouses made before this column get it here.
ALTER TABLE stg_document ADD COLUMN IF NOT EXISTS served_at TIMESTAMP;
