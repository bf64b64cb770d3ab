//! One module per route of the app.

pub mod configs;
pub mod customer;
pub mod dashboard;
pub mod login;
