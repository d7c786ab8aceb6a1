//! hubsync: keeps a HubSpot portal and another CRM in two-way sync during a migration.

pub mod admin;
pub mod app;
pub mod audit;
pub mod cli;
pub mod config;
pub mod connector;
pub mod db;
pub mod demo;
pub mod error_kind;
pub mod ingest;
pub mod journal;
pub mod metrics;
pub mod operate;
pub mod reconcile;
pub mod shutdown;
pub mod sim;
pub mod telemetry;
pub mod writer;
