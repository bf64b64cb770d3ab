-- A customer's preference address is confirmed by its owner before the customer channel mails it
-- (issue 15). `confirmed_email` is the last address its owner confirmed: the customer channel
-- sends only while it equals `email`. `confirm_token_hash` is the SHA-256 (hex) of the one
-- pending confirmation link, sent at `confirm_sent_at` (both cleared when the address changes or
-- the link is followed). `confirm_window_start`/`confirm_window_sent` count the confirmation
-- emails of the customer's current day-long window (a cap against a mail cannon). `version`
-- grows with every write, so a link is issued by compare-and-set, once across replicas.
ALTER TABLE customer_notifications ADD COLUMN confirmed_email TEXT;
ALTER TABLE customer_notifications ADD COLUMN confirm_token_hash TEXT;
ALTER TABLE customer_notifications ADD COLUMN confirm_sent_at BIGINT;
ALTER TABLE customer_notifications ADD COLUMN confirm_window_start BIGINT;
ALTER TABLE customer_notifications ADD COLUMN confirm_window_sent BIGINT NOT NULL DEFAULT 0;
ALTER TABLE customer_notifications ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX customer_notifications_by_confirm_token ON customer_notifications (confirm_token_hash);

-- Addresses in use before this migration stay confirmed for customers with a config; the others
-- (set with the global key for ids the operator never configured) wait for a confirmation.
UPDATE customer_notifications SET confirmed_email = email
WHERE customer_id IN (SELECT customer_id FROM customer_configs);
