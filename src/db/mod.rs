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

    /// How a failed query should be retried: connection trouble and lock contention are transient.
    pub fn query_kind(err: &sqlx::Error) -> ErrorKind {
        match err {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                ErrorKind::Transient
            }
            sqlx::Error::Database(db) => match db.code().as_deref() {
                // serialization failure, deadlock, lock timeout, query cancelled, admin shutdown
                Some("40001" | "40P01" | "55P03" | "57014" | "57P01") => ErrorKind::Transient,
                _ => ErrorKind::Permanent,
            },
            _ => ErrorKind::Permanent,
        }
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

async fn try_connect(options: &PgConnectOptions, timeout: Duration) -> Result<(), sqlx::Error> {
    let connect = PgConnection::connect_with(options);
    let mut conn = match tokio::time::timeout(timeout, connect).await {
        Ok(result) => result?,
        Err(_) => return Err(sqlx::Error::PoolTimedOut),
    };
    sqlx::query("select 1").execute(&mut conn).await?;
    conn.close().await
}
