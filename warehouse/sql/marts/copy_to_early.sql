-- The published dimensions and marts (not the facts) copied into the attached "early", from the
-- same built tables copy_to_pub.sql copies: what the report site reads while the facts are copied.
CREATE TABLE early.dim_agency AS SELECT * FROM out_dim_agency;
CREATE TABLE early.dim_report AS SELECT * FROM out_dim_report;
CREATE TABLE early.mart_agency_year AS SELECT * FROM out_mart_agency_year;
CREATE TABLE early.mart_region_year AS SELECT * FROM out_mart_region_year;
CREATE TABLE early.mart_quality AS SELECT * FROM out_mart_quality;
