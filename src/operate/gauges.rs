//! Keeps the queue gauges current: journal depth, outbox depth, the oldest pending age and
//! the failures open.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::metrics::{FAILURES_OPEN, JOURNAL_DEPTH, OLDEST_PENDING_AGE, OUTBOX_DEPTH};
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
    /// Journal rows failed or dead (a failed write fails its row): each waits for an operator.
    pub failures_open: i64,
}

impl QueueDepths {
    pub async fn read(pool: &PgPool) -> Result<QueueDepths, sqlx::Error> {
        let (journal, outbox, oldest, failures_open) = queues::depths(pool).await?;
        let oldest_pending_age = oldest.unwrap_or(0.0).max(0.0);
        Ok(QueueDepths { journal, outbox, oldest_pending_age, failures_open })
    }

    /// Sets the gauges on the installed recorder.
    pub fn set_gauges(&self) {
        metrics::gauge!(JOURNAL_DEPTH).set(self.journal as f64);
        metrics::gauge!(OUTBOX_DEPTH).set(self.outbox as f64);
        metrics::gauge!(OLDEST_PENDING_AGE).set(self.oldest_pending_age);
        metrics::gauge!(FAILURES_OPEN).set(self.failures_open as f64);
    }
}
