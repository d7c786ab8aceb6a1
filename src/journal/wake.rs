//! Waking journal consumers: LISTEN/NOTIFY for speed, a polling interval for correctness.

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio_util::sync::CancellationToken;

/// Waits for new journal rows. A lost notification or a dropped listener connection only
/// costs latency: every wait ends after `poll_interval` at the latest.
pub struct Waker {
    pool: PgPool,
    listener: Option<PgListener>,
    poll_interval: Duration,
}

impl Waker {
    /// Starts listening at once, so no append after this returns goes unnoticed.
    pub async fn connect(pool: PgPool, poll_interval: Duration) -> Self {
        let mut waker = Waker { pool, listener: None, poll_interval };
        waker.listener = waker.listen().await;
        waker
    }

    /// Returns when rows may be waiting: on a notification, after the poll interval, or
    /// at once if `shutdown` fires.
    pub async fn wait(&mut self, shutdown: &CancellationToken) {
        if self.listener.is_none() {
            self.listener = self.listen().await;
        }
        let poll = tokio::time::sleep(self.poll_interval);
        let Some(listener) = self.listener.as_mut() else {
            tokio::select! { _ = shutdown.cancelled() => {}, _ = poll => {} }
            return;
        };
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = poll => {}
            received = listener.recv() => {
                if let Err(err) = received {
                    tracing::warn!(error = %err, "journal listener lost; polling until it is back");
                    self.listener = None;
                }
            }
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect_with(&self.pool).await.ok()?;
        listener.listen(super::CHANNEL).await.ok()?;
        Some(listener)
    }
}
