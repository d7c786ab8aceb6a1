//! hubsync's integration tests: one binary, the real app on port 0, a fresh database per
//! test, and the simulators in-process.

mod sim_hubspot;
mod sim_salesforce;
mod support;

mod admin_server;
mod cli;
mod config_loading;
mod connector_hubspot;
mod connector_salesforce;
mod migrations;
