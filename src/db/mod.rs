//! The Postgres pool and hubsync's schema: connecting, waiting for the server, migrating.

use std::time::Duration;

use sqlx::Connection;
use sqlx::migrate::MigrateError;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use tokio_util::sync::CancellationToken;

use crate::config::DatabaseSettings;
use crate::error_kind::ErrorKind;

pub mod lock;
mod migrate;

pub use migrate::{
    MIGRATOR, MigrationReport, MigrationStatus, latest_embedded, migrate, migration_status,
};

/// The schema hubsync owns; all its tables live here.
pub const SCHEMA: &str = "hubsync";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database url: {0}")]
    Url(#[source] sqlx::Error),
    #[error("database unreachable after {attempts} attempts")]
    Unreachable {
        attempts: u32,
        #[source]
        source: sqlx::Error,
    },
    #[error("stopped while waiting for the database")]
    Cancelled,
    #[error("database query failed")]
    Query(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] MigrateError),
}

impl DbError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            DbError::Url(_) | DbError::Migrate(_) => ErrorKind::NeedsOperator,
            DbError::Unreachable { .. } | DbError::Cancelled => ErrorKind::Transient,
            DbError::Query(err) => Self::query_kind(err),
        }
    }

    /// How a failed query should be retried. Anything that says the server or the link to
    /// it is in trouble is transient: an outage delays work, it never fails it. Only an
    /// error about the statement or its data is permanent.
    pub fn query_kind(err: &sqlx::Error) -> ErrorKind {
        match err {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed => ErrorKind::Transient,
            sqlx::Error::Database(db) => {
                db.code().map_or(ErrorKind::Permanent, |c| sqlstate_kind(&c))
            }
            _ => ErrorKind::Permanent,
        }
    }
}

/// A Postgres SQLSTATE by its class: connection exceptions (08), transaction rollbacks
/// such as serialization failures and deadlocks (40), insufficient resources (53), lock not
/// available (55P03), operator intervention such as shutdowns, restarts and cancelled
/// statements (57) and system errors (58) pass; data and constraint errors (22, 23) and
/// everything else are about the statement itself.
pub fn sqlstate_kind(code: &str) -> ErrorKind {
    match code.get(..2) {
        Some("08" | "40" | "53" | "57" | "58") => ErrorKind::Transient,
        _ if code == "55P03" => ErrorKind::Transient,
        _ => ErrorKind::Permanent,
    }
}

/// Connection options with the session settings every hubsync connection carries.
pub fn connect_options(settings: &DatabaseSettings) -> Result<PgConnectOptions, DbError> {
    let options: PgConnectOptions = settings.url.parse().map_err(DbError::Url)?;
    let millis = |d: Duration| format!("{}ms", d.as_millis());
    Ok(options.application_name(&settings.application_name).options([
        ("statement_timeout", millis(settings.statement_timeout)),
        ("lock_timeout", millis(settings.lock_timeout)),
    ]))
}

/// A pool that connects on first use, so the process can start before Postgres does.
pub fn lazy_pool(settings: &DatabaseSettings) -> Result<PgPool, DbError> {
    Ok(PgPoolOptions::new()
        .max_connections(settings.max_connections.get())
        .acquire_timeout(settings.acquire_timeout)
        .connect_lazy_with(connect_options(settings)?))
}

/// Opens a connection until one succeeds, `startup_attempts` times at most, logging each
/// failure with its real cause (refused, authentication, missing database).
pub async fn wait_until_reachable(
    settings: &DatabaseSettings,
    shutdown: &CancellationToken,
) -> Result<(), DbError> {
    let options = connect_options(settings)?;
    let attempts = settings.startup_attempts.get();
    for attempt in 1..=attempts {
        let err = match try_connect(&options, settings.acquire_timeout).await {
            Ok(()) => return Ok(()),
            Err(err) => err,
        };
        if attempt == attempts {
            return Err(DbError::Unreachable { attempts, source: err });
        }
        tracing::warn!(attempt, attempts, error = %err, "database not reachable yet, retrying");
        tokio::select! {
            _ = shutdown.cancelled() => return Err(DbError::Cancelled),
            _ = tokio::time::sleep(settings.startup_retry_delay) => {}
        }
    }
    unreachable!("the loop returns on its last attempt")
}

/// Checks every `every` that the database answers, until `shutdown`: logs once when it
/// stops answering and once when it is back, counting each return in
/// `hubsync_db_reconnects_total`. Work meanwhile waits; nothing is failed for the outage.
pub async fn watch(pool: PgPool, every: Duration, shutdown: CancellationToken) {
    let mut up = true;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let probe = sqlx::query("select 1").execute(&pool);
        let answered = matches!(
            tokio::time::timeout(every.max(Duration::from_secs(2)), probe).await,
            Ok(Ok(_))
        );
        match (up, answered) {
            (true, false) => {
                tracing::warn!("the database stopped answering; work waits until it is back");
                metrics::gauge!(crate::metrics::DATABASE_READY).set(0.0);
            }
            (false, true) => {
                tracing::info!("the database answers again; work resumes");
                metrics::gauge!(crate::metrics::DATABASE_READY).set(1.0);
                metrics::counter!(crate::metrics::DB_RECONNECTS).increment(1);
            }
            _ => {}
        }
        up = answered;
    }
}

async fn try_connect(options: &PgConnectOptions, timeout: Duration) -> Result<(), sqlx::Error> {
    let connect = PgConnection::connect_with(options);
    let mut conn = match tokio::time::timeout(timeout, connect).await {
        Ok(result) => result?,
        Err(_) => return Err(sqlx::Error::PoolTimedOut),
    };
    sqlx::query("select 1").execute(&mut conn).await?;
    conn.close().await
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// A server error with a SQLSTATE, as Postgres sends it.
    #[derive(Debug, thiserror::Error)]
    #[error("server error {0}")]
    struct ServerError(&'static str);

    impl sqlx::error::DatabaseError for ServerError {
        fn message(&self) -> &str {
            "server error"
        }
        fn code(&self) -> Option<Cow<'_, str>> {
            Some(Cow::Borrowed(self.0))
        }
        fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
            self
        }
        fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
            self
        }
        fn kind(&self) -> sqlx::error::ErrorKind {
            sqlx::error::ErrorKind::Other
        }
    }

    fn kind_of(code: &'static str) -> ErrorKind {
        DbError::query_kind(&sqlx::Error::Database(Box::new(ServerError(code))))
    }

    #[test]
    fn a_server_starting_full_shut_down_or_unreachable_is_transient() {
        // starting up, too many connections, disk full, out of memory, admin and crash
        // shutdown, connection failures, I/O errors, serialization, deadlock, lock timeout
        let outage = [
            "57P03", "53300", "53100", "53200", "57P01", "57P02", "57014", "08000", "08003",
            "08006", "08001", "08P01", "58030", "40001", "40P01", "55P03",
        ];
        for code in outage {
            assert_eq!(kind_of(code), ErrorKind::Transient, "{code}");
        }
        let lost = [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::Protocol("connection closed mid-message".into()),
            sqlx::Error::Io(std::io::ErrorKind::UnexpectedEof.into()),
        ];
        for err in lost {
            assert_eq!(DbError::query_kind(&err), ErrorKind::Transient, "{err}");
        }
    }

    #[test]
    fn data_and_statement_errors_are_permanent() {
        // invalid text, unique and check violations, undefined table, syntax error
        for code in ["22P02", "22021", "23505", "23514", "42P01", "42601"] {
            assert_eq!(kind_of(code), ErrorKind::Permanent, "{code}");
        }
    }
}
