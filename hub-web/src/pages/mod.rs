//! One module per route of the app.

pub mod assets;
pub mod audit;
pub mod config_form;
pub mod configs;
pub mod customer;
pub mod dashboard;
pub mod events;
pub mod jobs;
pub mod login;
pub mod maintenance;
pub mod rollouts;
