//! Pruning settled journal rows past their retention age, in batches. Failed and dead rows
//! stay until an operator acts on them.

use std::time::Duration;

use sqlx::{PgExecutor, PgPool};
use tokio_util::sync::CancellationToken;

use crate::journal::JournalError;

/// Deletes at most `batch` settled rows received more than `age` ago. Returns how many.
pub async fn prune_batch<'e>(
    executor: impl PgExecutor<'e>,
    age: Duration,
    batch: i64,
) -> Result<u64, JournalError> {
    // a row's attempts go with it, and the outbox forgets it: neither has a foreign key,
    // to keep settling and queueing cheap
    let deleted: i64 = sqlx::query_scalar(
        "with gone as (
             delete from hubsync.journal where id = any(array(
                 select id from hubsync.journal
                 where status in ('applied', 'echo', 'stale', 'skipped')
                   and received_at < now() - make_interval(secs => $1)
                 order by id limit $2
                 for update skip locked))
             returning id),
         attempts as (
             delete from hubsync.journal_attempts
             where journal_id = any(array(select id from gone))),
         unreferenced as (
             update hubsync.outbox set journal_id = null
             where journal_id = any(array(select id from gone)))
         select count(*) from gone",
    )
    .bind(age.as_secs_f64())
    .bind(batch)
    .fetch_one(executor)
    .await?;
    Ok(u64::try_from(deleted).unwrap_or_default())
}

/// Prunes until nothing is left to prune, then sleeps `interval`; stops on `shutdown`.
pub async fn run(
    pool: PgPool,
    age: Duration,
    batch: i64,
    interval: Duration,
    shutdown: CancellationToken,
) {
    while !shutdown.is_cancelled() {
        match prune_all(&pool, age, batch, &shutdown).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(pruned, "pruned settled journal rows"),
            Err(err) => tracing::warn!(error = %err, "journal pruning failed; will retry"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

async fn prune_all(
    pool: &PgPool,
    age: Duration,
    batch: i64,
    shutdown: &CancellationToken,
) -> Result<u64, JournalError> {
    let mut total = 0;
    while !shutdown.is_cancelled() {
        let pruned = prune_batch(pool, age, batch).await?;
        total += pruned;
        if pruned < batch as u64 {
            break;
        }
    }
    Ok(total)
}
