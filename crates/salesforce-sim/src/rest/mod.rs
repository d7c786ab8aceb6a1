//! The REST data endpoints under `/services/data/vNN.N/`, and what they share: the API
//! version, the caller's `Sforce-Call-Options` client, JSON bodies and object lookup.

pub mod collections;
pub mod records;
pub mod replication;

use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::error::{SfError, json_response};
use super::schema::ObjectDef;
use super::state::SfState;

/// Query-string parameters; a malformed one gets Salesforce's JSON error array rather than
/// axum's plain-text rejection.
pub struct Params<T>(pub T);

impl<T, S> FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = SfError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, SfError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query).map(Params).map_err(|err| {
            SfError::bad_request("INVALID_QUERY_PARAMETER", format!("invalid parameter: {err}"))
        })
    }
}

/// Path segments; one that cannot be decoded (`%FF`) names no resource: 404 `NOT_FOUND`
/// in Salesforce's JSON error array rather than axum's plain-text rejection.
pub struct SfPath<T>(pub T);

impl<T, S> FromRequestParts<S> for SfPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = SfError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, SfError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(SfPath(value)),
            Err(rejection) => {
                let message =
                    format!("The requested resource does not exist: {}", rejection.body_text());
                Err(SfError::new(StatusCode::NOT_FOUND, "NOT_FOUND", message))
            }
        }
    }
}

/// The `vNN.N` segment as a number, e.g. 59.0.
pub fn api_version(segment: &str) -> Option<f64> {
    let number = segment.strip_prefix('v')?;
    let (major, minor) = number.split_once('.')?;
    let valid = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (valid(major) && valid(minor)).then(|| number.parse().ok()).flatten()
}

/// The answer to a data-API path that names no resource, routed so that it passes the
/// version and session checks and is metered like any other data call.
pub async fn unknown_resource() -> SfError {
    SfError::not_found()
}

/// Middleware: data paths must carry a `vNN.N` version segment.
pub async fn require_version(request: Request, next: Next) -> Response {
    let segment = request.uri().path().split('/').nth(3).unwrap_or_default();
    match api_version(segment) {
        Some(_) => next.run(request).await,
        None => SfError::not_found().into_response(),
    }
}

/// The `client=` value of `Sforce-Call-Options`, hubsync's echo marker.
pub fn call_client(headers: &HeaderMap) -> Option<String> {
    let options = headers.get("sforce-call-options")?.to_str().ok()?;
    options
        .split(',')
        .filter_map(|part| part.trim().split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("client"))
        .map(|(_, value)| value.trim().to_string())
        .filter(|value| !value.is_empty())
}

/// A JSON object body, or `JSON_PARSER_ERROR`.
pub fn json_object(body: &[u8]) -> Result<Map<String, Value>, SfError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(SfError::json_parser("Expected a JSON object")),
        Err(err) => Err(SfError::json_parser(format!("Unexpected character: {err}"))),
    }
}

/// The object named in a path, in any case, or 404 `NOT_FOUND`.
pub fn object(state: &SfState, name: &str) -> Result<Arc<ObjectDef>, SfError> {
    state.store().object(name).ok_or_else(SfError::not_found)
}

/// Counts records written against the endpoint, for tests and benchmarks.
pub fn count_written(state: &SfState, method: &Method, path: &MatchedPath, n: usize) {
    state.stats.record_written(&format!("{method} {}", path.as_str()), n as u64);
}

/// `GET /services/data/`: the API versions (served without a session).
pub async fn versions() -> Response {
    let list: Vec<Value> = (46..=66)
        .map(|n| {
            json!({"label": format!("v{n}.0"), "url": format!("/services/data/v{n}.0"), "version": format!("{n}.0")})
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

/// `GET /services/data/vNN.N/`: the resources of a version.
pub async fn resources(SfPath(version): SfPath<String>) -> Response {
    let base = format!("/services/data/{version}");
    let body = json!({
        "sobjects": format!("{base}/sobjects"),
        "query": format!("{base}/query"),
        "queryAll": format!("{base}/queryAll"),
        "composite": format!("{base}/composite"),
        "limits": format!("{base}/limits"),
    });
    json_response(StatusCode::OK, &body)
}
