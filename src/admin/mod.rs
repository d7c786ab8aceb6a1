//! The admin HTTP server: health, readiness and Prometheus metrics.

mod health;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use axum::Router;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;

/// What the admin handlers share.
#[derive(Clone)]
pub struct AdminState {
    pub pool: PgPool,
    pub metrics: PrometheusHandle,
    /// Set once start-up (database wait, migrations, workers) has finished.
    pub started: Arc<AtomicBool>,
}

pub fn router(state: AdminState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .with_state(state)
}
