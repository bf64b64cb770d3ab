-- Rows imported from the original Go hub's database by `felhom-hub import-legacy`, one line per
-- old row, so that a second run adds nothing. target_id is the new row's id where it has one
-- (events), so the imported notification log can point at the imported events.
CREATE TABLE legacy_imports (
    source_table TEXT NOT NULL,
    legacy_key TEXT NOT NULL,
    target_id BIGINT,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (source_table, legacy_key)
);
