//! Errors of the operator surfaces: bad requests named precisely, and database failures.

use crate::error_kind::ErrorKind;

#[derive(Debug, thiserror::Error)]
pub enum OperateError {
    #[error("unknown sync `{name}`; configured: {known}")]
    UnknownSync { name: String, known: String },
    #[error("conflict {0} not found")]
    ConflictNotFound(i64),
    #[error("conflict {id} is {status}, not open; only open conflicts can be resolved")]
    ConflictNotOpen { id: i64, status: String },
    #[error("conflict {0} has no linked record pair; resolve it after the records are linked")]
    ConflictUnlinked(i64),
    #[error("no record matches `{0}` (looked in links, journal record ids, keys and emails)")]
    RecordNotFound(String),
    #[error("{0}")]
    BadInput(String),
    #[error("operator query failed")]
    Query(#[from] sqlx::Error),
}

impl OperateError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            OperateError::Query(err) => crate::db::DbError::query_kind(err),
            _ => ErrorKind::Permanent,
        }
    }
}
