-- The latest report's JSON moves out of `report_latest` into its own table (issue 18): the scans
-- of the whole fleet (the overview's snapshot, the staleness job every minute) read only the
-- narrow summary rows instead of a page of JSON per customer. A body is replaced under the same
-- rule as its summary row (never by an older report), in the same transaction, so the two always
-- describe the same report.
CREATE TABLE report_bodies (
    customer_id TEXT PRIMARY KEY NOT NULL,
    reported_at BIGINT NOT NULL,
    report_json TEXT NOT NULL
);
INSERT INTO report_bodies (customer_id, reported_at, report_json)
SELECT customer_id, reported_at, report_json FROM report_latest;
ALTER TABLE report_latest DROP COLUMN report_json;
