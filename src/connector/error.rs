//! What can go wrong talking to a CRM, each failure classified once with `kind()`.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::error_kind::ErrorKind;

/// A connector call that failed as a whole (per-item failures are [`super::ItemResult`]s).
#[derive(Debug, thiserror::Error)]
pub enum ConnectorError {
    #[error("cannot reach {api}")]
    Network {
        api: &'static str,
        #[source]
        source: reqwest::Error,
    },
    #[error("{api} did not answer within {timeout:?}")]
    Timeout { api: &'static str, timeout: Duration },
    /// `message` is the API's own text, which can quote the values it refused: compared
    /// and kept in memory, never shown (the code names the problem).
    #[error("{api} answered {status}: {code}")]
    Api { api: &'static str, status: u16, code: String, message: String, wait: Option<Duration> },
    #[error("{api} rate limit `{policy}` reached")]
    RateLimited { api: &'static str, policy: String, wait: Option<Duration> },
    #[error("{api} daily budget is spent until {until}")]
    OutOfDailyBudget { api: &'static str, until: DateTime<Utc> },
    #[error("{api} authentication failed: {message}")]
    Auth { api: &'static str, message: String },
    #[error("{api} answered something hubsync cannot read: {message}")]
    Malformed { api: &'static str, message: String },
    #[error("invalid connector setup: {0}")]
    Setup(String),
    #[error("{api} does not support {what}")]
    Unsupported { api: &'static str, what: String },
}

impl ConnectorError {
    /// A failed request or response body, without the URL reqwest would show: a SOQL query
    /// or a record id in it can be personal data.
    pub fn network(api: &'static str, source: reqwest::Error) -> Self {
        ConnectorError::Network { api, source: crate::redact::http_error(source) }
    }

    /// The one classification retries follow.
    pub fn kind(&self) -> ErrorKind {
        match self {
            ConnectorError::Network { .. } | ConnectorError::Timeout { .. } => ErrorKind::Transient,
            ConnectorError::Api { status, code, .. } => classify(*status, code),
            ConnectorError::RateLimited { .. } | ConnectorError::OutOfDailyBudget { .. } => {
                ErrorKind::RateLimited
            }
            ConnectorError::Auth { .. } | ConnectorError::Setup(_) => ErrorKind::NeedsOperator,
            ConnectorError::Malformed { .. } | ConnectorError::Unsupported { .. } => {
                ErrorKind::Permanent
            }
        }
    }

    /// How long the API asked us to wait, if it did.
    pub fn wait_hint(&self) -> Option<Duration> {
        match self {
            ConnectorError::Api { wait, .. } | ConnectorError::RateLimited { wait, .. } => *wait,
            ConnectorError::OutOfDailyBudget { until, .. } => {
                (*until - Utc::now()).to_std().ok().or(Some(Duration::ZERO))
            }
            _ => None,
        }
    }

    /// The API's own error code, if it named one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ConnectorError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// Status codes and the API error codes that change their meaning.
fn classify(status: u16, code: &str) -> ErrorKind {
    match (status, code) {
        (_, "UNABLE_TO_LOCK_ROW" | "SERVER_UNAVAILABLE") => ErrorKind::Transient,
        (_, "REQUEST_LIMIT_EXCEEDED") => ErrorKind::RateLimited,
        (_, "DELETES_PURGED") => ErrorKind::NeedsOperator,
        (401, _) | (403, "MISSING_SCOPES") => ErrorKind::NeedsOperator,
        (408 | 423 | 477, _) | (500..=599, _) => ErrorKind::Transient,
        (429, _) => ErrorKind::RateLimited,
        _ => ErrorKind::Permanent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(status: u16, code: &str) -> ConnectorError {
        ConnectorError::Api {
            api: "test",
            status,
            code: code.into(),
            message: String::new(),
            wait: None,
        }
    }

    #[test]
    fn server_errors_locks_and_migrations_are_transient_other_client_errors_are_not() {
        for status in [500, 502, 503, 504, 423, 477] {
            assert_eq!(api(status, "").kind(), ErrorKind::Transient, "{status}");
        }
        for status in [400, 404, 409, 414] {
            assert_eq!(api(status, "VALIDATION_ERROR").kind(), ErrorKind::Permanent, "{status}");
        }
        assert_eq!(api(400, "UNABLE_TO_LOCK_ROW").kind(), ErrorKind::Transient);
        assert_eq!(api(403, "REQUEST_LIMIT_EXCEEDED").kind(), ErrorKind::RateLimited);
        assert_eq!(api(401, "INVALID_AUTHENTICATION").kind(), ErrorKind::NeedsOperator);
    }
}
