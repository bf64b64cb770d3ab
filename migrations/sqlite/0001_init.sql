-- Booleans are BIGINT 0/1: sqlx's Any driver cannot carry SQLite's BOOLEAN.
-- The hub's schema on SQLite. Timestamps are Unix milliseconds (UTC) in BIGINT columns, JSON is
-- TEXT, so the same queries run on PostgreSQL (see ../postgres/0001_init.sql, same meaning).

-- Customers the operator configured. Secrets are stored encrypted (*_enc) and found by hash.
CREATE TABLE customer_configs (
    customer_id TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL DEFAULT '',
    domain TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'active',
    api_key_hash TEXT UNIQUE,
    api_key_enc TEXT,
    retrieval_password_enc TEXT,
    config_json TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The latest report of every customer that ever reported: the full JSON as it arrived, and the
-- denormalized numbers the fleet overview shows.
CREATE TABLE report_latest (
    customer_id TEXT PRIMARY KEY NOT NULL,
    hostname TEXT,
    controller_version TEXT,
    controller_url TEXT,
    health TEXT NOT NULL,
    monitoring_enabled BIGINT NOT NULL,
    reported_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    cpu_percent DOUBLE PRECISION,
    memory_percent DOUBLE PRECISION,
    disk_percent DOUBLE PRECISION,
    containers_running BIGINT,
    containers_total BIGINT,
    last_backup_at BIGINT,
    last_backup_ok BIGINT,
    report_json TEXT NOT NULL
);

-- Report history: only the compact numbers the charts draw, in tenths of a percent.
CREATE TABLE reports (
    customer_id TEXT NOT NULL,
    reported_at BIGINT NOT NULL,
    cpu_pm INTEGER,
    mem_pm INTEGER,
    disk_pm INTEGER,
    PRIMARY KEY (customer_id, reported_at)
) WITHOUT ROWID;

CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL DEFAULT '',
    details_json TEXT NOT NULL DEFAULT '{}',
    source TEXT NOT NULL DEFAULT 'controller',
    occurred_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX events_by_customer ON events (customer_id, id);
CREATE INDEX events_by_time ON events (received_at);

CREATE TABLE infra_backups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    size_bytes BIGINT NOT NULL,
    payload_enc TEXT NOT NULL
);
CREATE INDEX infra_backups_by_customer ON infra_backups (customer_id, id);

CREATE TABLE customer_notifications (
    customer_id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL,
    enabled_events_json TEXT NOT NULL DEFAULT '[]',
    cooldown_hours BIGINT NOT NULL DEFAULT 6,
    updated_at BIGINT NOT NULL
);

CREATE TABLE notification_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id TEXT NOT NULL,
    event_id BIGINT,
    event_type TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX notification_log_by_customer ON notification_log (customer_id, id);
CREATE INDEX notification_log_by_time ON notification_log (created_at);

-- Operator sessions: the signed cookie names a row here, which logout revokes.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);

-- Hub-wide values every replica shares (the session signing key when not configured).
CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

-- The scheduler: which replica leads, and which due time of which job was claimed and how it went.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE TABLE job_runs (
    job TEXT NOT NULL,
    due_at BIGINT NOT NULL,
    holder TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    ok BIGINT,
    message TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job, due_at)
);
