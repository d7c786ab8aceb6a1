//! Ingest errors, classified once for retries.

use crate::connector::ConnectorError;
use crate::error_kind::ErrorKind;
use crate::journal::JournalError;

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("reading changes failed")]
    Connector(#[from] ConnectorError),
    #[error("journalling changes failed")]
    Journal(#[from] JournalError),
    #[error("the stored cursor of {0} cannot be read")]
    Cursor(String, #[source] serde_json::Error),
}

impl IngestError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            IngestError::Connector(err) => err.kind(),
            IngestError::Journal(err) => err.kind(),
            IngestError::Cursor(..) => ErrorKind::NeedsOperator,
        }
    }
}

impl From<sqlx::Error> for IngestError {
    fn from(err: sqlx::Error) -> Self {
        IngestError::Journal(JournalError::from(err))
    }
}
