//! hubsync: keeps a HubSpot portal and another CRM in two-way sync during a migration.

pub mod admin;
pub mod app;
pub mod cli;
pub mod config;
pub mod connector;
pub mod db;
pub mod demo;
pub mod error_kind;
pub mod failpoint;
pub mod ingest;
pub mod journal;
pub mod metrics;
pub mod operate;
pub mod reconcile;
pub mod redact;
pub mod rules;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod writer;

/// Every hubsync process (the daemon, the CLI, the benches and tests that run it in-process)
/// allocates through mimalloc: the sync loop builds and drops many short-lived JSON values
/// and strings, and glibc's allocator spent about a third of the process's CPU on them.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
