//! Waking journal consumers: an in-process signal and a debounced LISTEN/NOTIFY for other
//! replicas, with a polling interval so a lost notification only costs latency.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How often, at most, a process sends NOTIFY. Each NOTIFY takes Postgres's notify-queue
/// lock at commit, so one per append would serialize ingest.
const NOTIFY_EVERY: Duration = Duration::from_millis(25);

/// Rung by writers after their appends commit. Clones ring the same bell.
#[derive(Clone)]
pub struct Doorbell {
    pool: PgPool,
    channel: &'static str,
    local: Arc<Notify>,
    queued: Arc<AtomicBool>,
    /// Once cancelled, queued notifications are dropped: consumers poll after a restart.
    shutdown: CancellationToken,
    /// The queued notifications, so shutdown can wait for them.
    pending: TaskTracker,
}

impl Doorbell {
    /// The journal's doorbell.
    pub fn new(pool: PgPool) -> Self {
        Doorbell::on(pool, super::CHANNEL)
    }

    /// A doorbell on another Postgres channel, e.g. the outbox's.
    pub fn on(pool: PgPool, channel: &'static str) -> Self {
        let (local, queued) = (Arc::new(Notify::new()), Arc::new(AtomicBool::new(false)));
        let (shutdown, pending) = (CancellationToken::new(), TaskTracker::new());
        Doorbell { pool, channel, local, queued, shutdown, pending }
    }

    /// The same bell, whose queued notifications stop when `shutdown` fires.
    pub fn stopping_on(mut self, shutdown: &CancellationToken) -> Self {
        self.shutdown = shutdown.clone();
        self
    }

    /// Waits until no notification is queued or being sent. After shutdown, that is at once.
    pub async fn quiet(&self) {
        self.pending.close();
        self.pending.wait().await;
        self.pending.reopen();
    }

    /// Wakes this process's consumers now, and other replicas' within [`NOTIFY_EVERY`].
    pub fn ring(&self) {
        self.local.notify_waiters();
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        let (pool, queued, channel) = (self.pool.clone(), self.queued.clone(), self.channel);
        let shutdown = self.shutdown.clone();
        self.pending.spawn(async move {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(NOTIFY_EVERY) => {}
            }
            queued.store(false, Ordering::Release);
            let sent = crate::store::journal::notify(&pool, channel);
            tokio::select! {
                _ = shutdown.cancelled() => {}
                sent = sent => if let Err(err) = sent {
                    tracing::debug!(error = %err, "journal notify failed; consumers will poll");
                }
            }
        });
    }
}

/// Waits for new journal rows: on this process's doorbell, on another replica's NOTIFY,
/// or after the poll interval at the latest.
pub struct Waker {
    pool: PgPool,
    channel: &'static str,
    local: Arc<Notify>,
    listener: Option<PgListener>,
    /// False for a waker that only polls and hears this process's doorbell: a listener
    /// holds a pool connection for good.
    listens: bool,
    poll_interval: Duration,
}

impl Waker {
    /// Starts listening at once, so no append after this returns goes unnoticed.
    pub async fn connect(doorbell: &Doorbell, poll_interval: Duration) -> Self {
        let pool = doorbell.pool.clone();
        let local = doorbell.local.clone();
        let channel = doorbell.channel;
        let mut waker =
            Waker { pool, channel, local, listener: None, listens: true, poll_interval };
        waker.listener = waker.listen().await;
        waker
    }

    /// A waker without a Postgres listener: it wakes on this process's doorbell or after
    /// the poll interval, and holds no connection.
    pub fn polling(doorbell: &Doorbell, poll_interval: Duration) -> Self {
        let (pool, local, channel) =
            (doorbell.pool.clone(), doorbell.local.clone(), doorbell.channel);
        Waker { pool, channel, local, listener: None, listens: false, poll_interval }
    }

    /// Returns when rows may be waiting, or at once if `shutdown` fires.
    pub async fn wait(&mut self, shutdown: &CancellationToken) {
        if self.listens && self.listener.is_none() {
            self.listener = self.listen().await;
        }
        let local = self.local.clone();
        let poll = tokio::time::sleep(self.poll_interval);
        let Some(listener) = self.listener.as_mut() else {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                _ = local.notified() => {}
                _ = poll => {}
            }
            return;
        };
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = local.notified() => {}
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
        listener.listen(self.channel).await.ok()?;
        Some(listener)
    }
}
