//! Salesforce's error answers: a status and a JSON array `[{"message","errorCode","fields"}]`,
//! or per record in collections `{"statusCode","message","fields"}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// The content type Salesforce puts on every JSON answer.
pub const JSON_UTF8: &str = "application/json;charset=UTF-8";

/// One Salesforce error: HTTP status, error code, message and the fields it concerns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct SfError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub fields: Vec<String>,
}

impl SfError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        SfError { status, code, message: message.into(), fields: Vec::new() }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn with_fields(mut self, fields: &[&str]) -> Self {
        self.fields = fields.iter().map(|f| f.to_string()).collect();
        self
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", "The requested resource does not exist")
    }

    pub fn no_such_external_id_field(field: &str) -> Self {
        let message =
            format!("Provided external ID field does not exist or is not accessible: {field}");
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    pub fn invalid_field(object: &str, field: &str) -> Self {
        let message = format!(
            "No such column '{field}' on entity '{object}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name."
        );
        Self::bad_request("INVALID_FIELD", message)
    }

    pub fn invalid_type(object: &str) -> Self {
        Self::bad_request("INVALID_TYPE", format!("sObject type '{object}' is not supported."))
    }

    pub fn malformed_query(message: impl Into<String>) -> Self {
        Self::bad_request("MALFORMED_QUERY", message)
    }

    pub fn json_parser(message: impl Into<String>) -> Self {
        Self::bad_request("JSON_PARSER_ERROR", message)
    }

    pub fn invalid_session() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "INVALID_SESSION_ID", "Session expired or invalid")
    }

    pub fn request_limit_exceeded() -> Self {
        let message = "TotalRequests Limit exceeded.";
        Self::new(StatusCode::FORBIDDEN, "REQUEST_LIMIT_EXCEEDED", message)
    }

    /// The JSON array body of this error.
    pub fn body(&self) -> Value {
        json!([{ "message": self.message, "errorCode": self.code, "fields": self.fields }])
    }

    /// This error as one entry of a collections result's `errors`.
    pub fn item(&self) -> Value {
        json!({ "statusCode": self.code, "message": self.message, "fields": self.fields })
    }
}

impl IntoResponse for SfError {
    fn into_response(self) -> Response {
        json_response(self.status, &self.body())
    }
}

/// Middleware: a client error answered before any handler ran (a body over the size
/// limit, say) comes back as Salesforce's JSON error array, never as plain text.
pub async fn json_errors(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json || !status.is_client_error() {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "REQUEST_ENTITY_TOO_LARGE",
        StatusCode::NOT_FOUND => "NOT_FOUND",
        StatusCode::METHOD_NOT_ALLOWED => "METHOD_NOT_ALLOWED",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UNSUPPORTED_MEDIA_TYPE",
        _ => "INVALID_REQUEST",
    };
    let message = if text.is_empty() { status.to_string() } else { text };
    SfError::new(status, code, message).into_response()
}

/// A JSON answer with Salesforce's content type.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    let mut response = (status, bytes).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    response
}
