//! Admin API errors: JSON bodies with a stable code and a message that leaks no SQL.

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("a bearer token is required")]
    Unauthorized,
    #[error("this token's scope does not allow {0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("the request body is larger than {0} bytes")]
    TooLarge(usize),
    #[error("the request body did not arrive within {0:?}")]
    Timeout(std::time::Duration),
    #[error("{0}")]
    Conflict(String),
    #[error("the database is unavailable; try again")]
    Unavailable(#[source] crate::journal::JournalError),
    #[error("the database is unavailable; try again")]
    Store(#[source] crate::operate::OperateError),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "read_timeout"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Unavailable(_) | ApiError::Store(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
        }
    }
}

impl From<crate::journal::JournalError> for ApiError {
    fn from(err: crate::journal::JournalError) -> Self {
        ApiError::Unavailable(err)
    }
}

impl From<crate::operate::OperateError> for ApiError {
    fn from(err: crate::operate::OperateError) -> Self {
        use crate::operate::OperateError as E;
        match err {
            E::UnknownSync { .. } | E::BadInput(_) => ApiError::BadRequest(err.to_string()),
            E::ConflictNotFound(id) => ApiError::NotFound(format!("conflict {id}")),
            // the key can be an email: the caller knows it, the answer need not repeat it
            E::RecordNotFound(_) => ApiError::NotFound("a record with that key".into()),
            E::ConflictNotOpen { .. } | E::ConflictUnlinked(_) => {
                ApiError::Conflict(err.to_string())
            }
            E::Query(_) => ApiError::Store(err),
        }
    }
}

/// The rejection's kind, never its text: serde quotes the values it could not read.
impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        let problem = match rejection {
            JsonRejection::BytesRejection(_) => return ApiError::TooLarge(0),
            JsonRejection::JsonDataError(_) => "the JSON body does not have the expected fields",
            JsonRejection::JsonSyntaxError(_) => "the body is not valid JSON",
            JsonRejection::MissingJsonContentType(_) => "the body must be application/json",
            _ => "the JSON body cannot be read",
        };
        ApiError::BadRequest(problem.into())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(_: QueryRejection) -> Self {
        ApiError::BadRequest("the query string has an unknown parameter or a bad value".into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::Unavailable(err) = &self {
            tracing::warn!(error = %crate::error_kind::report(err), "admin api database error");
        }
        if let ApiError::Store(err) = &self {
            tracing::warn!(error = %crate::error_kind::report(err), "admin api database error");
        }
        let mut response =
            (status, Json(json!({ "error": { "code": code, "message": self.to_string() } })))
                .into_response();
        if matches!(self, ApiError::Unauthorized) {
            let challenge = axum::http::HeaderValue::from_static("Bearer");
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}
