//! Ingest: pollers, the webhook receiver and backfill, which only ever append to the
//! journal, and the poll cursors that move in the same transaction.

pub mod cursor;
pub mod hubspot_events;
pub mod webhook;
