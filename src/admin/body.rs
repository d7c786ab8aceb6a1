//! Request bodies of the admin API, read whole before a handler sees them: 413 to a
//! declared length over the limit before any of it is read, 408 to a body slower than the
//! read timeout, so a slow or lying client cannot hold a connection.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// `routes`, each request's body read whole first, within `max_bytes` and `timeout`.
pub fn read_bodies(routes: Router, max_bytes: usize, timeout: Duration) -> Router {
    routes.layer(middleware::from_fn_with_state((max_bytes, timeout), read_body))
}

async fn read_body(
    State((max_bytes, timeout)): State<(usize, Duration)>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts.headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    if declared.and_then(|v| v.parse::<u64>().ok()).is_some_and(|n| n > max_bytes as u64) {
        return ApiError::TooLarge(max_bytes).into_response();
    }
    match tokio::time::timeout(timeout, axum::body::to_bytes(body, max_bytes)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(_)) => ApiError::TooLarge(max_bytes).into_response(),
        Err(_) => ApiError::Timeout(timeout).into_response(),
    }
}
