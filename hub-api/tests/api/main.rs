//! Integration tests: each starts the real hub on 127.0.0.1:0 with a fresh database (SQLite in a
//! temporary directory, or a fresh PostgreSQL database when `HUB_TEST_POSTGRES_URL` is set) and
//! talks HTTP to it. One test binary, so it links once.

mod alerting;
mod assets;
mod auth;
mod channels;
mod cli;
mod configs;
mod controllers;
mod credentials;
mod drift;
mod email_confirm;
mod events;
mod fleet;
mod fleet_list;
mod helpers;
mod hub_backup;
mod infra;
mod jobs;
mod legacy;
mod metrics;
mod notifications;
mod openapi;
mod postgres;
mod recovery;
mod registry;
mod report;
mod rollouts;
mod rotate;
mod security;
mod stream;
