-- The controller address the hub calls: the first controller_url a customer reported, kept
-- until the operator accepts a different one (report_latest.controller_url is the latest
-- report's). Set by the report upsert itself, so ingest writes no extra statement.
ALTER TABLE report_latest ADD COLUMN accepted_controller_url TEXT;
UPDATE report_latest SET accepted_controller_url = controller_url;

-- The latest controller update the operator (or a rollout) asked for, per customer: updating
-- until a report carries the version (arrived) or deadline_at passes (failed). Earlier ones are
-- in the audit log.
CREATE TABLE controller_updates (
    customer_id TEXT PRIMARY KEY NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    finished_at BIGINT,
    actor TEXT NOT NULL
);
CREATE INDEX controller_updates_status ON controller_updates (status);
