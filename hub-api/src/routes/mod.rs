//! HTTP handlers, one module per resource. Handlers are thin: extract, authorize, call the store,
//! map to a DTO. Every handler carries `#[utoipa::path]` with its auth and its error responses.

pub mod assets;
pub mod audit;
pub mod auth;
pub mod config_actions;
pub mod configs;
pub mod controllers;
pub mod customers;
pub mod events;
pub mod fleet;
pub mod health;
pub mod infra;
pub mod jobs;
pub mod metrics;
pub mod notifications;
pub mod recovery;
pub mod report;
pub mod rollouts;
