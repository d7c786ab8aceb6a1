//! Keeps the planner's statistics of the queue tables true to their contents. A claim
//! probes each candidate's earlier unsettled changes through the per-record index; planned
//! on statistics taken while the queue was empty, the probe becomes a scan per candidate
//! and a claim takes seconds. Autovacuum notices a burst (a backfill, a bulk import) only
//! after a minute, so the reconciler checks the queues itself and analyzes what went stale.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::store;

/// How often the queues are compared with their statistics.
const CHECK_EVERY: Duration = Duration::from_millis(500);

/// The queue tables' statistics, kept true to their contents.
pub struct Statistics;

impl Statistics {
    /// Refreshes the statistics every [`CHECK_EVERY`] until `shutdown`. It runs beside the
    /// reconciler's batches, not in them: an analyze of a large journal takes a tenth of a
    /// second, and the batch waiting for it would hold up every change queued behind.
    pub async fn keep_fresh(&self, pool: &PgPool, shutdown: &CancellationToken) {
        while !shutdown.is_cancelled() {
            if let Err(err) = self.refresh(pool).await {
                let error = crate::error_kind::report(&err);
                tracing::warn!(%error, "queue statistics not refreshed; will retry");
            }
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = tokio::time::sleep(CHECK_EVERY) => {}
            }
        }
    }

    /// Analyzes the stale tables; returns their names.
    pub async fn refresh(&self, pool: &PgPool) -> Result<Vec<&'static str>, sqlx::Error> {
        store::statistics::refresh(pool).await
    }
}
