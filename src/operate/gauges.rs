//! Keeps the queue gauges current: journal depth, outbox depth and the oldest pending age.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::metrics::{JOURNAL_DEPTH, OLDEST_PENDING_AGE, OUTBOX_DEPTH};
use crate::store::read::queues;

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
    QueueDepths::read(pool).await?.set_gauges();
    Ok(())
}

/// The queue sizes the gauges show.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QueueDepths {
    pub journal: i64,
    pub outbox: i64,
    /// Seconds; 0 when nothing is pending.
    pub oldest_pending_age: f64,
}

impl QueueDepths {
    pub async fn read(pool: &PgPool) -> Result<QueueDepths, sqlx::Error> {
        let (journal, outbox, oldest) = queues::depths(pool).await?;
        let oldest_pending_age = oldest.unwrap_or(0.0).max(0.0);
        Ok(QueueDepths { journal, outbox, oldest_pending_age })
    }

    /// Sets the gauges on the installed recorder.
    pub fn set_gauges(&self) {
        metrics::gauge!(JOURNAL_DEPTH).set(self.journal as f64);
        metrics::gauge!(OUTBOX_DEPTH).set(self.outbox as f64);
        metrics::gauge!(OLDEST_PENDING_AGE).set(self.oldest_pending_age);
    }
}
