//! hubsync's integration tests: one binary, the real app on port 0, a fresh database per
//! test, and the simulators in-process.

mod support;

mod admin_api;
mod admin_server;
mod backfill;
mod cli;
mod cli_journal;
mod config_loading;
mod connector_hubspot;
mod connector_salesforce;
mod dashboard;
mod demo;
mod http_listeners;
mod index_use;
mod journal_store;
mod migrations;
mod operate_conflicts;
mod operate_record;
mod operate_status;
mod outbox_claims;
mod pollers;
mod reconcile_stores;
mod redaction;
mod sim_command;
mod sync;
mod webhook_batches;
mod webhook_crash;
mod webhook_receiver;
