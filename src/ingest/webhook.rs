//! `POST /webhooks/hubspot`: verifies HubSpot's signature on the raw body, appends the
//! events to the journal in one transaction, and answers 200 only once they are committed.
//!
//! Forged, unsigned and stale requests get 401 and touch nothing; a replay of a request
//! already accepted gets 200 and touches nothing. A correctly signed body that is not an
//! event array, and each signed event that does not parse or that the journal cannot store
//! (a NUL), is quarantined with its reason and answered 200 with the rest of its batch
//! journalled: HubSpot retries every 4xx and 5xx for a day, so refusing it would only
//! repeat the poison, and hold back the good events delivered with it.
//!
//! A declared body over the limit gets 413 before any of it is read; one that takes longer
//! than the read timeout to arrive gets 408.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::PgPool;

use super::hubspot_events;
use super::quarantine::{self, WEBHOOK_SOURCE, keep_webhook};
use super::settle_hook::{self, PreSettle};
use crate::config::HubspotWebhookSettings;
use crate::connector::hubspot::webhook::{
    BatchEvent, WebhookError, WebhookRequest, WebhookVerifier, parse_batch,
};
use crate::journal::{self, Doorbell, NewChange};
use crate::metrics::{CHANGES_INGESTED, CONNECTOR_WEBHOOKS_REFUSED};
use crate::store;

/// What the receiver needs.
#[derive(Clone)]
pub struct WebhookState {
    pool: PgPool,
    doorbell: Doorbell,
    verifier: Arc<WebhookVerifier>,
    public_url: String,
    connector: String,
    max_body_bytes: usize,
    /// How long the whole body may take to arrive.
    read_timeout: Duration,
    /// Settles notices of hubsync's own writes as they are journalled.
    presettle: Option<Arc<dyn PreSettle>>,
}

impl WebhookState {
    pub fn new(settings: &HubspotWebhookSettings, pool: PgPool, doorbell: Doorbell) -> Self {
        let secret = |s: &crate::config::Secret| s.value().expose_secret().to_string().into();
        let mut verifier = WebhookVerifier::new(secret(&settings.client_secret));
        if let Some(previous) = &settings.previous_client_secret {
            verifier = verifier.also_accept(secret(previous));
        }
        if settings.accept_v1 {
            verifier = verifier.accept_v1();
        }
        WebhookState {
            pool,
            doorbell,
            verifier: Arc::new(verifier),
            public_url: settings.public_url.clone(),
            connector: settings.connector.clone(),
            max_body_bytes: settings.max_body_bytes.get() as usize,
            read_timeout: Duration::from_secs(10),
            presettle: None,
        }
    }

    /// Answers 408 to a body that has not fully arrived within `timeout` (default 10 s).
    pub fn with_read_timeout(mut self, timeout: Duration) -> Self {
        self.read_timeout = timeout;
        self
    }

    /// Journals the events `presettle` (the reconciler's) finds settled as already settled.
    pub fn with_presettle(mut self, presettle: Arc<dyn PreSettle>) -> Self {
        self.presettle = Some(presettle);
        self
    }
}

pub fn router(state: WebhookState) -> Router {
    Router::new().route("/webhooks/hubspot", post(receive)).with_state(state)
}

#[tracing::instrument(skip_all, fields(events))]
async fn receive(State(state): State<WebhookState>, headers: HeaderMap, body: Body) -> Response {
    let body = match read_body(&state, &headers, body).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    let request =
        WebhookRequest { method: "POST", url: &state.public_url, headers: &headers, body: &body };
    match state.verifier.authenticate(&request, chrono::Utc::now()) {
        Ok(()) => {}
        // already accepted: its events are journalled, and HubSpot needs no retry
        Err(WebhookError::Replayed) => {
            return (StatusCode::OK, axum::Json(json!({ "duplicate": true }))).into_response();
        }
        Err(err) => return refuse(StatusCode::UNAUTHORIZED, err.reason()),
    }
    match parse_batch(&body) {
        Ok(batch) => journal_batch(&state, batch).await,
        Err(WebhookError::Malformed(problem)) => quarantine_body(&state, body, &problem).await,
        Err(other) => refuse(StatusCode::UNAUTHORIZED, other.reason()),
    }
}

/// The whole body, within the size limit and the read timeout.
async fn read_body(
    state: &WebhookState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, Response> {
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse().ok());
    if declared.is_some_and(|length: u64| length > state.max_body_bytes as u64) {
        return Err(refuse_read(StatusCode::PAYLOAD_TOO_LARGE, "too_large"));
    }
    let read = axum::body::to_bytes(body, state.max_body_bytes);
    match tokio::time::timeout(state.read_timeout, read).await {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(_)) => Err(refuse_read(StatusCode::PAYLOAD_TOO_LARGE, "too_large")),
        Err(_) => Err(refuse_read(StatusCode::REQUEST_TIMEOUT, "read_timeout")),
    }
}

fn refuse_read(status: StatusCode, reason: &'static str) -> Response {
    tracing::warn!(reason, "webhook refused");
    metrics::counter!(CONNECTOR_WEBHOOKS_REFUSED, "reason" => reason).increment(1);
    refuse(status, reason)
}

/// Journals the events that parsed and can be stored, and quarantines each other one with
/// its reason, in one transaction.
async fn journal_batch(state: &WebhookState, batch: Vec<BatchEvent>) -> Response {
    tracing::Span::current().record("events", batch.len());
    let mut changes: Vec<NewChange> = Vec::with_capacity(batch.len());
    let mut poison = Vec::new();
    for BatchEvent { raw, parsed } in batch {
        let event = match parsed {
            Ok(event) => event,
            Err(rejection) => {
                poison.push((rejection.code, rejection.detail, raw));
                continue;
            }
        };
        let of_event = hubspot_events::changes(&state.connector, &event);
        match of_event.iter().find_map(store::journal::unstorable) {
            None => changes.extend(of_event),
            Some(detail) => poison.push(("unstorable_value", detail, raw)),
        }
    }
    let settled = settle_hook::settled(state.presettle.as_deref(), &state.pool, &changes).await;
    match commit(state, &changes, &settled, &poison).await {
        Ok(inserted) => {
            crate::failpoint::hit("ingest::after_commit_before_ack").await;
            count_ingested(&changes, inserted);
            if inserted > 0 {
                state.doorbell.ring();
            }
            let body = json!({ "journalled": inserted, "quarantined": poison.len() });
            (StatusCode::OK, axum::Json(body)).into_response()
        }
        Err(err) => unavailable(&err),
    }
}

async fn commit(
    state: &WebhookState,
    changes: &[NewChange],
    settled: &[Option<settle_hook::Settled>],
    poison: &[(&'static str, String, String)],
) -> Result<u64, journal::JournalError> {
    let mut tx = state.pool.begin().await?;
    let inserted = store::journal::append_settled(&mut *tx, changes, settled).await?;
    for (_, detail, raw) in poison {
        // kept as a one-event batch, so a replay reads it as the receiver would
        let body = format!("[{raw}]");
        store::quarantine::keep(&mut *tx, WEBHOOK_SOURCE, detail, body.as_bytes()).await?;
    }
    crate::failpoint::hit("ingest::before_commit").await;
    tx.commit().await?;
    for (code, _, _) in poison {
        tracing::warn!(reason = code, "signed webhook event quarantined");
        quarantine::count("webhook", code);
    }
    Ok(inserted)
}

/// Counts new rows per object; duplicates of already-journalled events are not counted.
fn count_ingested(changes: &[journal::NewChange], inserted: u64) {
    if inserted == 0 {
        return;
    }
    let object = changes.first().map(|c| c.object_type.clone()).unwrap_or_default();
    let labels = [("side", "hubspot".to_string()), ("object", object), ("path", "webhook".into())];
    metrics::counter!(CHANGES_INGESTED, &labels).increment(inserted);
}

/// A signed body that is not an event array, kept whole.
async fn quarantine_body(state: &WebhookState, body: Bytes, problem: &str) -> Response {
    match keep_webhook(&state.pool, "not_an_array", problem, &body).await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({ "quarantined": 1 }))).into_response(),
        Err(err) => unavailable(&journal::JournalError::from(err)),
    }
}

/// The journal could not take the events: 503, so HubSpot delivers them again.
fn unavailable(err: &journal::JournalError) -> Response {
    tracing::error!(error = %crate::error_kind::report(err), "webhook events not journalled");
    refuse(StatusCode::SERVICE_UNAVAILABLE, "journal_unavailable")
}

fn refuse(status: StatusCode, reason: &str) -> Response {
    (status, axum::Json(json!({ "error": reason }))).into_response()
}
