//! Operator actions on journal rows: requeue and skip, by id or by filter.

use sqlx::{PgExecutor, PgPool, QueryBuilder};

use super::query::JournalFilter;
use crate::journal::{JournalError, Status};

/// Rows an operator can put back in the queue.
pub const REQUEUEABLE: [Status; 4] =
    [Status::Failed, Status::Dead, Status::Skipped, Status::Conflict];

/// Rows an operator can skip.
pub const SKIPPABLE: [Status; 4] =
    [Status::Pending, Status::Failed, Status::Dead, Status::Conflict];

/// Puts failed, dead, skipped or conflicting rows back in the queue with fresh attempts.
/// Returns the ids requeued.
pub async fn requeue<'e>(
    executor: impl PgExecutor<'e>,
    filter: &JournalFilter,
) -> Result<Vec<i64>, JournalError> {
    let set = "status = 'pending', attempts = 0, next_attempt_at = now(), \
               reason = 'operator_requeue', error_kind = null";
    transition(executor, filter, set, &REQUEUEABLE).await
}

/// Marks pending, failed, dead or conflicting rows as skipped: they will not be applied.
/// Returns the ids skipped.
pub async fn skip<'e>(
    executor: impl PgExecutor<'e>,
    filter: &JournalFilter,
) -> Result<Vec<i64>, JournalError> {
    let set = "status = 'skipped', reason = 'operator_skip'";
    transition(executor, filter, set, &SKIPPABLE).await
}

async fn transition<'e>(
    executor: impl PgExecutor<'e>,
    filter: &JournalFilter,
    set: &str,
    from: &[Status],
) -> Result<Vec<i64>, JournalError> {
    // a pending row under a live lease is being processed: it is not the operator's to move
    let mut sql = QueryBuilder::new(format!(
        "update hubsync.journal set {set}, claimed_by = null, lease_until = null, \
         updated_at = now() where (lease_until is null or lease_until < now()) \
         and status = any("
    ));
    sql.push_bind(from.iter().map(|s| s.as_str()).collect::<Vec<_>>()).push(")");
    filter.push_conditions(&mut sql);
    sql.push(" returning id");
    let mut ids: Vec<i64> = sql.build_query_scalar().fetch_all(executor).await?;
    ids.sort_unstable();
    Ok(ids)
}

/// What an operator asks of journal rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OperatorAction {
    Retry,
    Skip,
}

impl OperatorAction {
    pub fn verb(self) -> &'static str {
        match self {
            OperatorAction::Retry => "retry",
            OperatorAction::Skip => "skip",
        }
    }

    /// Statuses the action can move rows out of.
    pub fn movable(self) -> &'static [Status] {
        match self {
            OperatorAction::Retry => &REQUEUEABLE,
            OperatorAction::Skip => &SKIPPABLE,
        }
    }
}

/// Applies `action` to the rows `filter` selects and audits it as `actor`, in one
/// transaction. Returns the ids changed.
pub async fn act(
    pool: &PgPool,
    action: OperatorAction,
    filter: &JournalFilter,
    actor: &str,
) -> Result<Vec<i64>, JournalError> {
    let mut tx = pool.begin().await?;
    let changed = match action {
        OperatorAction::Retry => requeue(&mut *tx, filter).await?,
        OperatorAction::Skip => skip(&mut *tx, filter).await?,
    };
    let target = serde_json::json!({ "journal_ids": changed });
    let name = format!("journal.{}", action.verb());
    crate::store::audit::record(&mut *tx, actor, &name, target, serde_json::json!({})).await?;
    tx.commit().await?;
    Ok(changed)
}
