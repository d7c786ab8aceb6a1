//! `POST /webhooks/hubspot`: verifies HubSpot's signature on the raw body, appends the
//! events to the journal in one statement, and answers 200 only once they are committed.
//!
//! Forged, unsigned, stale or replayed requests get 401 and touch nothing. A correctly signed
//! body that does not parse gets 200 and is quarantined: HubSpot retries every 4xx for a
//! day, so refusing it would only repeat the poison.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use secrecy::ExposeSecret;
use serde_json::json;
use sqlx::PgPool;

use super::hubspot_events;
use super::settle_hook::{self, PreSettle};
use crate::config::HubspotWebhookSettings;
use crate::connector::hubspot::webhook::{
    WebhookError, WebhookRequest, WebhookVerifier, parse_events,
};
use crate::journal::{self, Doorbell};
use crate::metrics::{CHANGES_INGESTED, CONNECTOR_WEBHOOKS_REFUSED, WEBHOOK_QUARANTINED};
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
            presettle: None,
        }
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
    let Ok(body) = axum::body::to_bytes(body, state.max_body_bytes).await else {
        tracing::warn!(reason = "too_large", "webhook refused");
        metrics::counter!(CONNECTOR_WEBHOOKS_REFUSED, "reason" => "too_large").increment(1);
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    };
    let request =
        WebhookRequest { method: "POST", url: &state.public_url, headers: &headers, body: &body };
    if let Err(err) = state.verifier.authenticate(&request, chrono::Utc::now()) {
        return refuse(StatusCode::UNAUTHORIZED, err.reason());
    }
    match parse_events(&body) {
        Ok(events) => journal_events(&state, &events).await,
        Err(WebhookError::Malformed(problem)) => quarantine(&state, body, &problem).await,
        Err(other) => refuse(StatusCode::UNAUTHORIZED, other.reason()),
    }
}

async fn journal_events(
    state: &WebhookState,
    events: &[crate::connector::hubspot::webhook::WebhookEvent],
) -> Response {
    let changes: Vec<_> =
        events.iter().flat_map(|e| hubspot_events::changes(&state.connector, e)).collect();
    tracing::Span::current().record("events", events.len());
    let settled = settle_hook::settled(state.presettle.as_deref(), &state.pool, &changes).await;
    match store::journal::append_settled(&state.pool, &changes, &settled).await {
        Ok(inserted) => {
            count_ingested(&changes, inserted);
            if inserted > 0 {
                state.doorbell.ring();
            }
            (StatusCode::OK, axum::Json(json!({ "journalled": inserted }))).into_response()
        }
        Err(err) => unavailable(&err),
    }
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

async fn quarantine(state: &WebhookState, body: Bytes, problem: &str) -> Response {
    let stored = store::quarantine::keep(&state.pool, "hubspot", problem, &body).await;
    match stored {
        Ok(_) => {
            tracing::warn!(problem, "signed webhook body does not parse; quarantined");
            metrics::counter!(WEBHOOK_QUARANTINED).increment(1);
            (StatusCode::OK, axum::Json(json!({ "quarantined": true }))).into_response()
        }
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
