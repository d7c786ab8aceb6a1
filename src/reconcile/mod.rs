//! The reconciler: turns journalled changes into writes for the other side, applying the
//! sync rules, and dropping echoes and stale changes.

pub mod context;
pub mod decide;
pub mod error;
pub mod gather;
mod overtaken;
pub mod persist;
pub mod presettle;
pub mod row;
pub mod statistics;
pub mod worker;

pub use error::ReconcileError;
pub use worker::Reconciler;
