//! One poller per (connector, object) across replicas: a Postgres session advisory lock,
//! held on a connection of its own. When the holder dies its connection closes, the lock
//! is released, and another replica takes over on its next try.

use sqlx::{PgConnection, PgPool};

pub struct PollerLock {
    pool: PgPool,
    name: String,
    held: Option<PgConnection>,
}

impl PollerLock {
    pub fn new(pool: PgPool, connector: &str, object: &str) -> Self {
        PollerLock::named(pool, format!("hubsync-poller:{connector}:{object}"))
    }

    /// A lock for any one-replica-at-a-time task, by name.
    pub fn named(pool: PgPool, name: String) -> Self {
        PollerLock { pool, name, held: None }
    }

    /// Whether this replica holds the lock now: keeps it if its connection is alive, else
    /// tries to take it.
    pub async fn hold(&mut self) -> bool {
        if let Some(conn) = self.held.as_mut() {
            if sqlx::query("select 1").execute(&mut *conn).await.is_ok() {
                return true;
            }
            tracing::warn!(lock = %self.name, "lost the lock's connection");
            self.held = None;
        }
        self.try_take().await
    }

    async fn try_take(&mut self) -> bool {
        let Ok(mut conn) = self.pool.acquire().await else { return false };
        let taken: Result<bool, _> =
            sqlx::query_scalar("select pg_try_advisory_lock(hashtext($1))")
                .bind(&self.name)
                .fetch_one(&mut *conn)
                .await;
        if taken.unwrap_or(false) {
            tracing::info!(lock = %self.name, "this replica now holds the lock and runs its task");
            self.held = Some(conn.detach());
            return true;
        }
        false
    }

    /// The connection that holds the lock, while it is held. Work committed on it commits
    /// only while the lock is held: if the connection died, so did the lock, and the commit
    /// fails instead of racing the replica that took over.
    pub fn connection(&mut self) -> Option<&mut PgConnection> {
        self.held.as_mut()
    }

    /// Gives the lock up, e.g. on shutdown, so another replica takes over at once.
    pub async fn release(&mut self) {
        if let Some(mut conn) = self.held.take() {
            let _ = sqlx::query("select pg_advisory_unlock(hashtext($1))")
                .bind(&self.name)
                .execute(&mut conn)
                .await;
        }
    }

    /// The backend pid holding the lock on this replica, for operators and tests.
    pub async fn backend_pid(&mut self) -> Option<i32> {
        let conn = self.held.as_mut()?;
        sqlx::query_scalar("select pg_backend_pid()").fetch_one(&mut *conn).await.ok()
    }
}
