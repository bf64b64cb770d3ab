-- Notification delivery at least once: an event is claimed (dispatched_at) and, once every
-- decision about it is logged, marked notified (notified_at). A claim that never finished (its
-- replica died) is taken again after a while by the leading replica.
ALTER TABLE events ADD COLUMN notified_at BIGINT;
UPDATE events SET notified_at = dispatched_at WHERE dispatched_at IS NOT NULL;
CREATE INDEX events_unnotified ON events (id) WHERE notified_at IS NULL;
