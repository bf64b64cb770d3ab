-- Events, the dead man's switch and notifications (same meaning on SQLite and PostgreSQL).

-- Each event is handed to the notification dispatcher exactly once: a replica claims it by
-- setting dispatched_at with an atomic UPDATE ... WHERE dispatched_at IS NULL.
ALTER TABLE events ADD COLUMN dispatched_at BIGINT;
-- Events stored before this migration are history, not news: never mail them.
UPDATE events SET dispatched_at = received_at;
CREATE INDEX events_undispatched ON events (id) WHERE dispatched_at IS NULL;
-- The deadline checker and the 24 h badges look events up by customer, type and time.
CREATE INDEX events_by_customer_type ON events (customer_id, event_type, occurred_at);

-- Cooldowns are read from the log: the last sent mail per customer, type and channel.
CREATE INDEX notification_log_cooldown ON notification_log (customer_id, event_type, channel, created_at);

-- The staleness checker's last known state of each customer (ok, stale, down), so a restart
-- or a leader change never repeats a transition's event.
CREATE TABLE node_states (
    customer_id TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL,
    changed_at BIGINT NOT NULL
);
