//! A simulated fleet of felhom controllers: the nodes and their reports (`node`), the fleet run
//! against a hub (`fleet`, `hub`, `original`), the controller side the hub calls (`controller`,
//! also started by the hub's integration tests), and the benchmark tools (`load`, `filldb`).

pub mod controller;
pub mod demo;
pub mod filldb;
pub mod fleet;
pub mod hub;
pub mod load;
pub mod node;
pub mod original;
