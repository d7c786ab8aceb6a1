//! The admin HTTP server: health, readiness, Prometheus metrics, and the token-protected
//! operator API under `/api`.

mod auth;
mod body;
mod conflicts_api;
mod dashboard;
mod error;
mod health;
mod journal_api;
mod operator;
mod pause_api;
mod record_api;
mod status_api;

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

pub use auth::{Caller, Tokens};
pub use body::read_bodies;
pub use error::ApiError;
pub use operator::OperatorState;

/// What the admin handlers share.
#[derive(Clone)]
pub struct AdminState {
    pub pool: PgPool,
    pub metrics: PrometheusHandle,
    /// Set once start-up (database wait, migrations, workers) has finished.
    pub started: Arc<AtomicBool>,
    pub tokens: Tokens,
    /// Probes and metrics answer without a token.
    pub open_probes: bool,
    pub max_body_bytes: usize,
    /// The running connectors, once start-up has built them: readiness reports one whose
    /// credentials the API refuses.
    pub connectors: Arc<OnceLock<crate::ingest::plan::Connectors>>,
    /// Readiness fails while a connector's CRM clock is further off than this.
    pub max_clock_skew: std::time::Duration,
}

impl FromRef<AdminState> for Tokens {
    fn from_ref(state: &AdminState) -> Tokens {
        state.tokens.clone()
    }
}

pub fn router(state: AdminState) -> Router {
    let probes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route_layer(middleware::from_fn_with_state(state.clone(), guard_probes));
    let api = Router::new()
        .route("/api/journal", get(journal_api::list))
        .route("/api/journal/{id}", get(journal_api::show))
        .route("/api/journal/retry", post(journal_api::retry))
        .route("/api/journal/skip", post(journal_api::skip))
        .layer(DefaultBodyLimit::max(state.max_body_bytes));
    probes.merge(api).with_state(state)
}

/// The dashboard and the operator endpoints that need the sync rules: status, pause and
/// resume, conflicts and record timelines. Merged next to [`router`] by the daemon.
pub fn operator_router(admin: AdminState, settings: Arc<crate::config::Settings>) -> Router {
    let limit = DefaultBodyLimit::max(admin.max_body_bytes);
    Router::new()
        .route("/", get(dashboard::page))
        .route("/dashboard.js", get(dashboard::script))
        .route("/api/status", get(status_api::status))
        .route("/api/status/history", get(status_api::history))
        .route("/api/pause", post(pause_api::pause))
        .route("/api/resume", post(pause_api::resume))
        .route("/api/conflicts", get(conflicts_api::list))
        .route("/api/conflicts/{id}/resolve", post(conflicts_api::resolve))
        .route("/api/records/{key}", get(record_api::show))
        .layer(limit)
        .with_state(OperatorState { admin, settings })
}

/// With `open_probes = false`, the probes and metrics need a token like the API.
async fn guard_probes(
    State(state): State<AdminState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    if !state.open_probes {
        let (mut parts, body) = request.into_parts();
        <Caller as axum::extract::FromRequestParts<AdminState>>::from_request_parts(
            &mut parts, &state,
        )
        .await?;
        return Ok(next.run(Request::from_parts(parts, body)).await);
    }
    Ok(next.run(request).await)
}
