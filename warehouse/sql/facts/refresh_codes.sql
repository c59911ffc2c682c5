-- dim_code from the format description (in_code, built by db.code_table from formatspec).
DELETE FROM dim_code;
INSERT INTO dim_code SELECT * FROM in_code;
