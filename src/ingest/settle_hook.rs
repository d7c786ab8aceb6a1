//! The hook through which a stage above ingest settles changes as they are journalled: a
//! poller or the webhook receiver asks it which changes of a page are settled already, and
//! journals those with its verdict instead of pending. Ingest knows nothing of how it decides.

use async_trait::async_trait;
use sqlx::PgPool;

use crate::journal::{Completion, NewChange};

/// A change settled as it is journalled: the status and the reason.
pub type Settled = (Completion, &'static str);

/// Decides, for the changes a page is about to journal, which are settled already.
#[async_trait]
pub trait PreSettle: Send + Sync {
    /// One verdict per change, in order: `Some` for a change that is settled already. A hook
    /// that cannot decide now answers `None` for every change, so all are journalled pending.
    async fn settled(&self, pool: &PgPool, changes: &[NewChange]) -> Vec<Option<Settled>>;
}

/// Which changes are settled already, by `hook`. Without one, every change is pending.
pub async fn settled(
    hook: Option<&dyn PreSettle>,
    pool: &PgPool,
    changes: &[NewChange],
) -> Vec<Option<Settled>> {
    match hook {
        Some(hook) => hook.settled(pool, changes).await,
        None => vec![None; changes.len()],
    }
}
