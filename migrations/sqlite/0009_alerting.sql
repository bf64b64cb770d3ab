-- Alerting an operator can live with (issue 17): maintenance windows, held events, open alerts
-- with reminders and acknowledgements, and when a node went silent (same meaning on SQLite and
-- PostgreSQL).

-- A maintenance window of one customer (customer_id) or of the whole fleet (NULL): once
-- (starts_at..ends_at, Unix ms) or recurring (daily, or weekly on days 'mon,tue,...'), from
-- start_time (HH:MM in server.timezone) for duration_minutes.
CREATE TABLE maintenance_windows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT,
    kind TEXT NOT NULL,
    starts_at BIGINT,
    ends_at BIGINT,
    days TEXT NOT NULL DEFAULT '',
    start_time TEXT NOT NULL DEFAULT '',
    duration_minutes BIGINT NOT NULL DEFAULT 0,
    reason TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Why an event was stored but sent to nobody (maintenance, suppressed, storm, flapping); NULL
-- when it went through the usual rules.
ALTER TABLE events ADD COLUMN held TEXT;

-- When the node went silent (its last report before it turned stale or down), kept after it
-- recovers together with the recovery time: events the node sends about that gap are held.
ALTER TABLE node_states ADD COLUMN silent_since BIGINT;
ALTER TABLE node_states ADD COLUMN recovered_at BIGINT;

-- Open alerts: one per customer and kind (node, backup, dbdump, fleet) until it resolves. The
-- operator was last told at notified_at (NULL: held so far); reminders repeat until it resolves
-- or is acknowledged.
CREATE TABLE alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    event_id BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    notified_at BIGINT,
    reminders BIGINT NOT NULL DEFAULT 0,
    resolved_at BIGINT,
    acked_at BIGINT,
    acked_by TEXT,
    ack_note TEXT
);
CREATE UNIQUE INDEX alerts_open ON alerts (customer_id, kind) WHERE resolved_at IS NULL;
CREATE INDEX alerts_by_customer ON alerts (customer_id, id);
