//! The change journal: every change observed on either side, durable before it is
//! acknowledged, and the operator's record of what happened to it. This is its vocabulary;
//! its SQL lives in [`crate::store::journal`].

mod change;
mod error;
mod parse;
mod wake;

pub use change::{
    Arrival, ChangeKind, Completion, JournalRow, NewChange, PRIVACY_DELETION, PropertyChange,
    Status,
};
pub use error::JournalError;
pub use parse::{parse_side, parse_status, parse_when};
pub use wake::{Doorbell, Waker};

/// The Postgres channel `append` notifies when new rows arrive.
pub const CHANNEL: &str = "hubsync_journal";
