//! The daily API allocation: a rolling 24-hour count of data requests, the
//! `Sforce-Limit-Info` header on every data answer (refusals included), 403 `REQUEST_LIMIT_EXCEEDED` past the
//! allocation, and `GET /limits`.

use std::collections::VecDeque;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::error::{SfError, json_response};
use super::state::SharedState;

/// Requests counted per hour over the last 24 hours.
#[derive(Debug)]
pub struct ApiUsage {
    pub max: u64,
    hours: VecDeque<(i64, u64)>,
}

impl ApiUsage {
    pub fn new(max: u64) -> Self {
        ApiUsage { max, hours: VecDeque::new() }
    }

    /// Requests counted in the 24 hours before `now`.
    pub fn used(&mut self, now: DateTime<Utc>) -> u64 {
        let hour = now.timestamp() / 3600;
        while self.hours.front().is_some_and(|(h, _)| *h <= hour - 24) {
            self.hours.pop_front();
        }
        self.hours.iter().map(|(_, n)| n).sum()
    }

    /// Counts one request, or refuses it when the allocation is spent.
    pub fn spend(&mut self, now: DateTime<Utc>) -> Result<u64, u64> {
        let used = self.used(now);
        if used >= self.max {
            return Err(used);
        }
        self.add(now, 1);
        Ok(used + 1)
    }

    /// Adds `n` requests at `now` (tests use it to stand near the limit).
    pub fn add(&mut self, now: DateTime<Utc>, n: u64) {
        let hour = now.timestamp() / 3600;
        match self.hours.back_mut() {
            Some((h, count)) if *h == hour => *count += n,
            _ => self.hours.push_back((hour, n)),
        }
    }

    pub fn reset(&mut self) {
        self.hours.clear();
    }
}

const LIMIT_INFO: &str = "sforce-limit-info";

/// Middleware: spends one request of the allocation and reports usage on the answer.
pub async fn meter(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let spent = state.usage.lock().expect("usage lock").spend(state.now());
    let (mut response, used) = match spent {
        Ok(used) => (next.run(request).await, used),
        Err(used) => (SfError::request_limit_exceeded().into_response(), used),
    };
    report_usage(&mut response, used, state.config.daily_api_limit);
    response
}

/// Middleware, outside the fault, version and session layers: an answer made before
/// [`meter`] ran (an injected fault, a 401, a 404 for a malformed version) still carries
/// `Sforce-Limit-Info`, and counts as a call when `count_refused_calls`.
pub async fn report(State(state): State<SharedState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if response.headers().contains_key(LIMIT_INFO) {
        return response;
    }
    let used = {
        let mut usage = state.usage.lock().expect("usage lock");
        if state.config.count_refused_calls {
            usage.add(state.now(), 1);
        }
        usage.used(state.now())
    };
    report_usage(&mut response, used, state.config.daily_api_limit);
    response
}

fn report_usage(response: &mut Response, used: u64, max: u64) {
    let info = format!("api-usage={used}/{max}");
    if let Ok(value) = HeaderValue::from_str(&info) {
        response.headers_mut().insert(LIMIT_INFO, value);
    }
}

/// `GET /limits`.
pub async fn limits(State(state): State<SharedState>) -> Response {
    let used = state.usage.lock().expect("usage lock").used(state.now());
    let max = state.config.daily_api_limit;
    let body = json!({
        "DailyApiRequests": { "Max": max, "Remaining": max.saturating_sub(used) },
        "DailyBulkApiBatches": { "Max": 15000, "Remaining": 15000 },
        "DailyBulkV2QueryJobs": { "Max": 10000, "Remaining": 10000 },
        "DailyBulkV2QueryFileStorageMB": { "Max": 1_000_000, "Remaining": 1_000_000 },
        "DataStorageMB": { "Max": 1024, "Remaining": 1024 },
    });
    json_response(StatusCode::OK, &body)
}
