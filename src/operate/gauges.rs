//! Keeps the queue gauges current: journal depth, outbox depth and the oldest pending age.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::metrics::{JOURNAL_DEPTH, OLDEST_PENDING_AGE, OUTBOX_DEPTH};

/// Sets the gauges every `interval` until `shutdown`.
pub async fn refresh_gauges(pool: PgPool, interval: Duration, shutdown: CancellationToken) {
    loop {
        if let Err(err) = refresh_once(&pool).await {
            tracing::warn!(error = %crate::error_kind::report(&err), "cannot refresh queue gauges");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
    }
}

/// Reads the queues once and sets the gauges.
pub async fn refresh_once(pool: &PgPool) -> Result<(), sqlx::Error> {
    let (journal, outbox, oldest): (i64, i64, Option<f64>) = sqlx::query_as(
        "select
             (select count(*) from hubsync.journal where status in ('pending', 'processing')),
             (select count(*) from hubsync.outbox where status in ('pending', 'processing')),
             (select extract(epoch from now() - min(received_at))::float8
                  from hubsync.journal where status = 'pending')",
    )
    .fetch_one(pool)
    .await?;
    metrics::gauge!(JOURNAL_DEPTH).set(journal as f64);
    metrics::gauge!(OUTBOX_DEPTH).set(outbox as f64);
    metrics::gauge!(OLDEST_PENDING_AGE).set(oldest.unwrap_or(0.0).max(0.0));
    Ok(())
}
