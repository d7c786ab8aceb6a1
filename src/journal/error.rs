//! Journal store errors, classified once for retries.

use crate::error_kind::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal query failed")]
    Query(#[from] sqlx::Error),
    #[error("journal row {0} has an unknown {1} `{2}`")]
    Corrupt(i64, &'static str, String),
}

impl JournalError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            JournalError::Query(err) => crate::db::DbError::query_kind(err),
            JournalError::Corrupt(..) => ErrorKind::NeedsOperator,
        }
    }
}
