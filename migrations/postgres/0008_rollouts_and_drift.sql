-- Staged rollouts of a controller version. A rollout is running, paused, stopped (by itself, on a
-- failed node), aborted or done; `active` is 1 while it is running, paused or stopped and NULL
-- after, so at most one rollout is unfinished at a time (NULLs never collide in a unique index).
CREATE TABLE rollouts (
    id BIGSERIAL PRIMARY KEY,
    version TEXT NOT NULL,
    state TEXT NOT NULL,
    active BIGINT UNIQUE,
    wait_ms BIGINT NOT NULL,
    batch_size BIGINT NOT NULL,
    update_timeout_ms BIGINT NOT NULL,
    reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    finished_at BIGINT
);

-- Each node of a rollout (no foreign key, like every table here: data moves table by table) and
-- its step: pending, updating (asked at requested_at), soaking
-- (reported the version OK at arrived_at), done, skipped or failed (why in message).
CREATE TABLE rollout_nodes (
    rollout_id BIGINT NOT NULL,
    customer_id TEXT NOT NULL,
    canary BIGINT NOT NULL,
    position BIGINT NOT NULL,
    step TEXT NOT NULL,
    from_version TEXT,
    requested_at BIGINT,
    arrived_at BIGINT,
    finished_at BIGINT,
    message TEXT,
    PRIMARY KEY (rollout_id, customer_id)
);

-- The last drift check of each managed node: the number of keys its live config differs from
-- the hub's in, or that it could not be reached (why in message).
CREATE TABLE drift_checks (
    customer_id TEXT PRIMARY KEY NOT NULL,
    checked_at BIGINT NOT NULL,
    reachable BIGINT NOT NULL,
    keys BIGINT NOT NULL,
    message TEXT
);
