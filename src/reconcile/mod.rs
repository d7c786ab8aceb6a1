//! The reconciler: turns journalled changes into writes for the other side, applying the
//! sync rules, and dropping echoes and stale changes.

pub mod decide;
pub mod filter;
pub mod links;
pub mod state;
pub mod transform;
pub mod context;
pub mod error;
pub mod gather;
pub mod persist;
pub mod row;
pub mod rules;
pub mod schema;
pub mod worker;

pub use error::ReconcileError;
pub use worker::Reconciler;
