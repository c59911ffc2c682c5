-- Copy the built tables into the attached publish database "pub" (CONTRACT.md §2 tables).
CREATE TABLE pub.dim_agency AS SELECT * FROM out_dim_agency;
CREATE TABLE pub.dim_report AS SELECT * FROM out_dim_report;
CREATE TABLE pub.dim_code AS SELECT * FROM out_dim_code;
CREATE TABLE pub.fact_active_disclosure AS SELECT * FROM out_fact_active_disclosure;
CREATE TABLE pub.fact_application AS SELECT * FROM out_fact_application;
CREATE TABLE pub.fact_review_litigation AS SELECT * FROM out_fact_review_litigation;
CREATE TABLE pub.fact_check AS SELECT * FROM out_fact_check;
CREATE TABLE pub.mart_agency_year AS SELECT * FROM out_mart_agency_year;
CREATE TABLE pub.mart_region_year AS SELECT * FROM out_mart_region_year;
CREATE TABLE pub.mart_quality AS SELECT * FROM out_mart_quality;
