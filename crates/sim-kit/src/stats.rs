//! What a simulator served, per endpoint: requests, answers by status, records written and
//! records read.
//! Tests and benchmarks read these counts.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

/// Counts for one endpoint, keyed by `METHOD /route/pattern`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct EndpointStats {
    pub requests: u64,
    pub by_status: BTreeMap<u16, u64>,
    pub records_written: u64,
    /// Records an answer returned (query pages, retrieves, single reads).
    pub records_read: u64,
}

/// Shared counters. Clones count into the same table.
#[derive(Debug, Clone, Default)]
pub struct SimStats {
    inner: Arc<Mutex<BTreeMap<String, EndpointStats>>>,
}

impl SimStats {
    pub fn record_response(&self, endpoint: &str, status: u16) {
        let mut table = self.inner.lock().expect("stats lock");
        let entry = table.entry(endpoint.to_string()).or_default();
        entry.requests += 1;
        *entry.by_status.entry(status).or_default() += 1;
    }

    pub fn record_written(&self, endpoint: &str, records: u64) {
        let mut table = self.inner.lock().expect("stats lock");
        table.entry(endpoint.to_string()).or_default().records_written += records;
    }

    pub fn record_read(&self, endpoint: &str, records: u64) {
        let mut table = self.inner.lock().expect("stats lock");
        table.entry(endpoint.to_string()).or_default().records_read += records;
    }

    pub fn snapshot(&self) -> BTreeMap<String, EndpointStats> {
        self.inner.lock().expect("stats lock").clone()
    }

    /// All requests served, on every endpoint.
    pub fn total_requests(&self) -> u64 {
        self.snapshot().values().map(|s| s.requests).sum()
    }

    /// All answers with this status, on every endpoint.
    pub fn total_with_status(&self, status: u16) -> u64 {
        self.snapshot().values().filter_map(|s| s.by_status.get(&status)).sum()
    }

    /// All records written, on every endpoint.
    pub fn total_written(&self) -> u64 {
        self.snapshot().values().map(|s| s.records_written).sum()
    }

    /// All records returned, on every endpoint.
    pub fn total_read(&self) -> u64 {
        self.snapshot().values().map(|s| s.records_read).sum()
    }

    pub fn reset(&self) {
        self.inner.lock().expect("stats lock").clear();
    }
}

/// The endpoint name of a request: its method and matched route pattern.
pub fn endpoint_of(request: &Request) -> String {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    format!("{} {route}", request.method())
}

/// A response extension a handler sets to say how many records it wrote; [`count`] adds it
/// to the endpoint's `records_written`.
#[derive(Debug, Clone, Copy)]
pub struct RecordsWritten(pub u64);

/// A response extension a handler sets to say how many records its answer returns; [`count`]
/// adds it to the endpoint's `records_read`.
#[derive(Debug, Clone, Copy)]
pub struct RecordsRead(pub u64);

impl RecordsRead {
    /// `response`, marked as returning `n` records.
    pub fn mark(n: usize, mut response: Response) -> Response {
        response.extensions_mut().insert(RecordsRead(n as u64));
        response
    }
}

/// Middleware that counts every request, its answer's status and the records it wrote or
/// returned.
pub async fn count(State(stats): State<SimStats>, request: Request, next: Next) -> Response {
    let endpoint = endpoint_of(&request);
    let response = next.run(request).await;
    stats.record_response(&endpoint, response.status().as_u16());
    if let Some(RecordsWritten(written)) = response.extensions().get::<RecordsWritten>() {
        stats.record_written(&endpoint, *written);
    }
    if let Some(RecordsRead(read)) = response.extensions().get::<RecordsRead>() {
        stats.record_read(&endpoint, *read);
    }
    response
}
