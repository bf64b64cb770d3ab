-- Deliveries to the configured channels (notifications.channels) are logged beside the emails,
-- under the channel's name; an email's row has an empty name.
ALTER TABLE notification_log ADD COLUMN channel_name TEXT NOT NULL DEFAULT '';

-- What the live stream (GET /api/v1/stream) sends: status changes, new events and job runs,
-- written first and read back by every replica, so a stream on one replica shows what
-- happened on another. The id is the stream's event id (Last-Event-ID); old rows are pruned.
CREATE TABLE stream_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    customer_id TEXT,
    data_json TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX stream_log_by_time ON stream_log (created_at);
