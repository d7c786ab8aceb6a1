//! Operator actions on journal rows: requeue and skip, by id or by filter.

use sqlx::{PgExecutor, QueryBuilder};

use super::error::JournalError;
use super::query::JournalFilter;

/// Puts failed, dead, skipped or conflicting rows back in the queue with fresh attempts.
/// Returns the ids requeued.
pub async fn requeue<'e>(
    executor: impl PgExecutor<'e>,
    filter: &JournalFilter,
) -> Result<Vec<i64>, JournalError> {
    let set = "status = 'pending', attempts = 0, next_attempt_at = now(), \
               reason = 'operator_requeue', error_kind = null";
    transition(executor, filter, set, &["failed", "dead", "skipped", "conflict"]).await
}

/// Marks pending, failed, dead or conflicting rows as skipped: they will not be applied.
/// Returns the ids skipped.
pub async fn skip<'e>(
    executor: impl PgExecutor<'e>,
    filter: &JournalFilter,
) -> Result<Vec<i64>, JournalError> {
    let set = "status = 'skipped', reason = 'operator_skip'";
    transition(executor, filter, set, &["pending", "failed", "dead", "conflict"]).await
}

async fn transition<'e>(
    executor: impl PgExecutor<'e>,
    filter: &JournalFilter,
    set: &str,
    from: &[&str],
) -> Result<Vec<i64>, JournalError> {
    let mut sql = QueryBuilder::new(format!(
        "update hubsync.journal set {set}, claimed_by = null, lease_until = null, \
         updated_at = now() where status = any("
    ));
    sql.push_bind(from.iter().map(|s| s.to_string()).collect::<Vec<_>>()).push(")");
    filter.push_conditions(&mut sql);
    sql.push(" returning id");
    let mut ids: Vec<i64> = sql.build_query_scalar().fetch_all(executor).await?;
    ids.sort_unstable();
    Ok(ids)
}
