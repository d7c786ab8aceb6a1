//! HubSpot's error bodies: the top-level `Error` envelope, batch `StandardError` items, and
//! the 429 `RATE_LIMIT` body, each with the status it goes with.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// One detail inside an error's `errors` array.
#[derive(Debug, Clone, PartialEq)]
pub struct Detail {
    pub message: String,
    pub code: String,
    pub property: Option<String>,
}

/// An answer that is not a success. Renders as HubSpot's error envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    pub category: &'static str,
    pub sub_category: Option<String>,
    pub message: String,
    pub details: Vec<Detail>,
    pub context: Option<Box<Value>>,
}

impl ApiError {
    pub fn new(status: StatusCode, category: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            category,
            sub_category: None,
            message: message.into(),
            details: Vec::new(),
            context: None,
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "VALIDATION_ERROR", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::CONFLICT, "CONFLICT", message)
    }

    pub fn unknown_type(segment: &str) -> Self {
        ApiError::validation(format!("Unable to infer object type from: {segment}"))
    }

    pub fn with_context(mut self, context: Value) -> Self {
        self.context = Some(Box::new(context));
        self
    }

    /// Property validation failures, in HubSpot's "Property values were not valid" form.
    pub fn invalid_properties(details: Vec<Detail>) -> Self {
        let listed: Vec<Value> = details
            .iter()
            .map(|d| {
                json!({"isValid": false, "message": d.message, "error": d.code,
                       "name": d.property})
            })
            .collect();
        let message = format!("Property values were not valid: {}", Value::Array(listed));
        ApiError { details, ..ApiError::validation(message) }
    }

    fn details_json(&self) -> Vec<Value> {
        self.details
            .iter()
            .map(|d| {
                let mut detail = json!({"message": d.message, "code": d.code});
                if let Some(name) = &d.property {
                    detail["context"] = json!({"propertyName": [name]});
                }
                detail
            })
            .collect()
    }

    /// The top-level envelope for a failed request.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "status": "error",
            "message": self.message,
            "correlationId": uuid::Uuid::new_v4().to_string(),
            "category": self.category,
        });
        if let Some(sub) = &self.sub_category {
            body["subCategory"] = json!(sub);
        }
        if !self.details.is_empty() {
            body["errors"] = json!(self.details_json());
        }
        if let Some(context) = &self.context {
            body["context"] = (**context).clone();
        }
        body
    }

    /// A `StandardError` item of a 207 batch answer.
    pub fn batch_item(&self, context: Value) -> Value {
        let mut item = json!({
            "status": "error",
            "category": self.category,
            "message": self.message,
            "context": context,
            "errors": self.details_json(),
            "links": {},
        });
        if let Some(sub) = &self.sub_category {
            item["subCategory"] = json!(sub);
        }
        item
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.category, self.message)
    }
}

impl std::error::Error for ApiError {}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// HubSpot's 429 body: no `category`, but `errorType` and `policyName`.
pub fn rate_limited(policy: &str) -> Response {
    let message = match policy {
        "DAILY" => "You have reached your daily limit.",
        "SECONDLY" => "You have reached your secondly limit.",
        _ => "You have reached your ten_secondly_rolling limit.",
    };
    let body = json!({
        "status": "error",
        "message": message,
        "errorType": "RATE_LIMIT",
        "correlationId": uuid::Uuid::new_v4().to_string(),
        "policyName": policy,
        "requestId": uuid::Uuid::new_v4().to_string(),
    });
    (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response()
}

pub type ApiResult<T> = Result<T, ApiError>;
