//! The reconciler's and writer's errors, classified once for retries.

use crate::connector::ConnectorError;
use crate::error_kind::ErrorKind;
use crate::journal::JournalError;

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("reading from {connector}")]
    Connector {
        connector: String,
        #[source]
        source: ConnectorError,
    },
    #[error("database")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("sync block {sync}: {message}")]
    Schema { sync: String, message: String },
}

impl ReconcileError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            ReconcileError::Connector { source, .. } => source.kind(),
            ReconcileError::Database(err) => crate::db::DbError::query_kind(err),
            ReconcileError::Journal(err) => err.kind(),
            ReconcileError::Schema { .. } => ErrorKind::NeedsOperator,
        }
    }

    /// How long the failing API asked us to wait, if it did.
    pub fn wait_hint(&self) -> Option<std::time::Duration> {
        match self {
            ReconcileError::Connector { source, .. } => source.wait_hint(),
            _ => None,
        }
    }

    pub(crate) fn connector(connector: &str) -> impl FnOnce(ConnectorError) -> Self + '_ {
        move |source| ReconcileError::Connector { connector: connector.to_string(), source }
    }
}
