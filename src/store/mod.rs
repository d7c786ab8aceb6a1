//! The store: each hubsync table's one owner, holding every SQL statement on it. Stages and
//! operator surfaces call these typed functions, on a pool or inside their own transaction.

pub mod audit;
pub mod budget;
pub mod conflicts;
pub mod cursors;
pub mod journal;
pub mod links;
pub mod outbox;
pub mod paused;
pub mod quarantine;
pub mod read;
pub mod record_state;
pub mod server;
pub mod statistics;
