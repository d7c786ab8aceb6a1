//! Ingest: pollers, the webhook receiver and backfill, which only ever append to the
//! journal, and the poll cursors that move in the same transaction.

pub mod backfill;
mod error;
pub mod hubspot_events;
pub mod plan;
pub mod poller;
pub mod quarantine;
pub mod settle_hook;
pub mod sweep;
pub mod webhook;

pub use error::IngestError;
