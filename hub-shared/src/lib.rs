//! The contract between the felhom hub, its web app and the controllers: wire types (DTOs) grouped
//! by resource, and the pure rules both sides must agree on (node status, id validation).
//!
//! This crate compiles for `wasm32-unknown-unknown`; it never depends on axum, sqlx or tokio.
//! OpenAPI derives sit behind the off-by-default `openapi` feature.

pub mod alert;
pub mod assets;
pub mod audit;
pub mod auth;
pub mod config;
pub mod config_diff;
pub mod controller;
pub mod credentials;
pub mod customer;
pub mod customer_list;
pub mod error;
pub mod event;
pub mod fleet;
pub mod history;
pub mod infra;
pub mod job;
pub mod lenient;
pub mod maintenance;
pub mod notification;
pub mod page;
pub mod report;
pub mod rollout;
pub mod status;
pub mod stream;
pub mod validate;

pub use error::ApiError;
pub use event::{EventType, Severity};
pub use status::{node_status, NodeStatus, StatusInput};
