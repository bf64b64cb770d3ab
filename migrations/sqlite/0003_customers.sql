-- Customer management and disaster recovery (see ../postgres/0003_customers.sql, same meaning).

-- The retrieval password is kept twice: a keyed hash (HMAC under a key derived from the
-- encryption key) to verify it in constant time, and encrypted to reveal it to the operator.
-- The per-customer session secret of the generated controller.yaml and the infrastructure
-- tokens are encrypted too. config_json holds the non-secret overrides.
ALTER TABLE customer_configs ADD COLUMN retrieval_password_hash TEXT;
ALTER TABLE customer_configs ADD COLUMN session_secret_enc TEXT;
ALTER TABLE customer_configs ADD COLUMN infra_tokens_enc TEXT;

-- Infra backups are numbered per customer; the last ten are kept.
ALTER TABLE infra_backups ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
UPDATE infra_backups SET version = id;
CREATE UNIQUE INDEX infra_backups_by_version ON infra_backups (customer_id, version);

-- Every operator change and every use of a retrieval password. Summaries never hold a secret.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    customer_id TEXT,
    summary TEXT NOT NULL DEFAULT '',
    client_ip TEXT
);
CREATE INDEX audit_log_by_customer ON audit_log (customer_id, id);

-- Failed retrieval-password attempts, per customer ('customer:<id>') and per client address
-- ('ip:<addr>'), shared by every replica. locked_until grows with the failures.
CREATE TABLE recovery_attempts (
    subject TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_customer_id TEXT
);

-- The last good controller.yaml.example fetched from registry.template_url.
CREATE TABLE controller_templates (
    name TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    fetched_at BIGINT NOT NULL
);
