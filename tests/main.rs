//! hubsync's integration tests: one binary, the real app on port 0, a fresh database per
//! test, and the simulators in-process.

mod sim_hubspot;
mod sim_salesforce;
mod support;

mod admin_api;
mod admin_server;
mod cli;
mod cli_journal;
mod config_loading;
mod journal_store;
mod migrations;
mod reconcile_stores;
