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
    /// The token endpoint refused us; `revoked` when it said the grant itself is gone.
    #[error("{api} authentication failed: {message}")]
    Auth { api: &'static str, message: String, revoked: bool },
    /// The connector's credentials were refused earlier and the next probe is not due: the
    /// call was not sent.
    #[error("{api} credentials are refused ({reason}); waiting for them to work again")]
    CredentialsRefused { api: &'static str, reason: &'static str, retry_in: Duration },
    #[error("{api} answered something hubsync cannot read: {message}")]
    Malformed { api: &'static str, message: String },
    /// A 2xx answer whose body does not parse, or lacks what it must hold (an HTML page
    /// from a proxy, truncated JSON, a read without its results): the outcome is unknown,
    /// so it is retried and never taken as success or as proof of anything.
    #[error("{api} answered {status} with a body hubsync cannot read ({what}); outcome unknown")]
    Unreadable { api: &'static str, status: u16, what: String },
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
            // an answer hubsync cannot read leaves the outcome unknown: retried, never final
            ConnectorError::Network { .. }
            | ConnectorError::Timeout { .. }
            | ConnectorError::Malformed { .. }
            | ConnectorError::Unreadable { .. } => ErrorKind::Transient,
            ConnectorError::Api { status, code, .. } => classify(*status, code),
            ConnectorError::RateLimited { .. } | ConnectorError::OutOfDailyBudget { .. } => {
                ErrorKind::RateLimited
            }
            ConnectorError::Auth { .. }
            | ConnectorError::CredentialsRefused { .. }
            | ConnectorError::Setup(_) => ErrorKind::NeedsOperator,
            ConnectorError::Unsupported { .. } => ErrorKind::Permanent,
        }
    }

    /// How long the API asked us to wait, if it did.
    pub fn wait_hint(&self) -> Option<Duration> {
        match self {
            ConnectorError::Api { wait, .. } | ConnectorError::RateLimited { wait, .. } => *wait,
            ConnectorError::OutOfDailyBudget { until, .. } => {
                (*until - Utc::now()).to_std().ok().or(Some(Duration::ZERO))
            }
            ConnectorError::CredentialsRefused { retry_in, .. } => Some(*retry_in),
            _ => None,
        }
    }

    /// Whether this failure says the connector's credentials are refused, and how: a
    /// revoked grant, or a token or client the API rejects (401 after any refresh).
    pub fn rejection(&self) -> Option<super::credentials::Rejection> {
        use super::credentials::Rejection;
        match self {
            ConnectorError::Auth { revoked: true, .. } => Some(Rejection::TokenRevoked),
            ConnectorError::Auth { .. } | ConnectorError::Api { status: 401, .. } => {
                Some(Rejection::CredentialsRejected)
            }
            _ => None,
        }
    }

    /// An answer that could not be read, counted once where it is found.
    pub fn unreadable(api: &'static str, status: u16, what: impl Into<String>) -> Self {
        ::metrics::counter!(crate::metrics::CONNECTOR_UNREADABLE, "connector" => api).increment(1);
        ConnectorError::Unreadable { api, status, what: what.into() }
    }

    /// The API's own error code, if it named one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ConnectorError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// A 2xx body: JSON, or nothing at all (204, HubSpot's `batch/archive`, Salesforce's
/// `PATCH`). Anything else (a proxy's HTML page, truncated JSON) leaves the outcome
/// unknown: an error to retry, never a success. The parser's message is left out, as it
/// may quote the body.
pub fn success_body(
    api: &'static str,
    status: u16,
    bytes: &[u8],
) -> Result<serde_json::Value, ConnectorError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(bytes).map_err(|err| {
        let what = match err.classify() {
            serde_json::error::Category::Eof => "truncated JSON",
            _ => "not JSON",
        };
        ConnectorError::unreadable(api, status, what)
    })
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

    #[test]
    fn an_empty_success_is_null_and_a_page_or_a_cut_body_is_unreadable() {
        assert_eq!(success_body("t", 204, b"").unwrap(), serde_json::Value::Null);
        assert_eq!(success_body("t", 200, b"{\"a\":1}").unwrap()["a"], 1);
        for body in [&b"<html>proxy</html>"[..], b"{\"results\": [", b"nul"] {
            let err = success_body("t", 200, body).unwrap_err();
            assert!(matches!(err, ConnectorError::Unreadable { .. }), "{err}");
        }
    }

    #[test]
    fn an_unreadable_answer_is_retried_never_final() {
        let err = ConnectorError::Unreadable { api: "test", status: 200, what: "html".into() };
        assert_eq!(err.kind(), ErrorKind::Transient);
        let err = ConnectorError::Malformed { api: "test", message: "no result".into() };
        assert_eq!(err.kind(), ErrorKind::Transient);
    }
}
