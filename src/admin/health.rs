//! `/healthz`, `/readyz` and `/metrics`.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AdminState;
use crate::db::{self, MigrationStatus};
use crate::error_kind::report;
use crate::metrics::{DATABASE_READY, READYZ_FAILURES};

/// The process is up and serving HTTP.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when start-up has finished, the database answers and every embedded migration is
/// applied. Otherwise 503 with a reason code (`starting`, `database_unreachable`,
/// `database_timeout`, `migrations_pending`) and a fixed sentence, never the driver's text:
/// whoever can reach the probe learns nothing of the database.
pub async fn readyz(State(state): State<AdminState>) -> Response {
    if !state.started.load(std::sync::atomic::Ordering::Acquire) {
        let reason = "start-up has not finished (waiting for the database or migrating)";
        return unavailable("starting", reason.to_string());
    }
    let probe = tokio::time::timeout(Duration::from_secs(2), db::migration_status(&state.pool));
    let reason = match probe.await {
        Ok(Ok(MigrationStatus::UpToDate)) => None,
        Ok(Ok(MigrationStatus::Pending { applied, known })) => {
            Some(("migrations_pending", format!("{applied} of {known} migrations applied")))
        }
        Ok(Err(err)) => {
            // the driver's text (addresses, roles, server messages) goes to the log only
            tracing::warn!(error = %report(&err), "readiness: the database does not answer");
            Some(("database_unreachable", "the database does not answer".to_string()))
        }
        Err(_) => Some(("database_timeout", "database did not answer within 2s".to_string())),
    };
    if let Some((code, message)) = reason {
        return unavailable(code, message);
    }
    metrics::gauge!(DATABASE_READY).set(1.0);
    if let Some(refused) = refused_credentials(&state) {
        return refused;
    }
    if let Some(skewed) = clock_skew(&state) {
        return skewed;
    }
    (StatusCode::OK, Json(json!({ "status": "ready" }))).into_response()
}

/// 503 naming the first connector whose credentials the API refuses: its work waits until
/// they work again, so the daemon is not doing its job.
fn refused_credentials(state: &AdminState) -> Option<Response> {
    let connectors = state.connectors.get()?;
    let (name, why) =
        connectors.iter().find_map(|(name, api)| Some((name.clone(), api.refused()?)))?;
    let code = why.as_str();
    metrics::counter!(READYZ_FAILURES, "reason" => code).increment(1);
    let reason = format!(
        "{name}: the API refuses the connector's credentials; its work waits, unspent, until \
         they work again"
    );
    let body =
        json!({ "status": "unavailable", "code": code, "connector": name, "reason": reason });
    Some((StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response())
}

/// 503 naming the first connector whose CRM clock is further off this host's than
/// `admin.max_clock_skew`: webhooks are judged by this host's clock, so they may be refused.
fn clock_skew(state: &AdminState) -> Option<Response> {
    let connectors = state.connectors.get()?;
    let limit = chrono::Duration::from_std(state.max_clock_skew).ok()?;
    let (name, skew) = connectors.iter().find_map(|(name, api)| {
        let skew = api.clock_skew()?;
        (skew.abs() > limit).then(|| (name.clone(), skew))
    })?;
    metrics::counter!(READYZ_FAILURES, "reason" => "clock_skew").increment(1);
    let seconds = skew.num_milliseconds() as f64 / 1000.0;
    let reason = format!(
        "this host's clock is {seconds:+.0}s off {name}'s: fix the host's time sync (webhooks \
         are checked against this host's clock)"
    );
    let body = json!({ "status": "unavailable", "code": "clock_skew", "connector": name,
                       "skew_seconds": seconds, "reason": reason });
    Some((StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response())
}

fn unavailable(code: &'static str, reason: String) -> Response {
    metrics::gauge!(DATABASE_READY).set(0.0);
    metrics::counter!(READYZ_FAILURES, "reason" => code).increment(1);
    let body = json!({ "status": "unavailable", "code": code, "reason": reason });
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}

pub async fn metrics(State(state): State<AdminState>) -> Response {
    let content_type = [(header::CONTENT_TYPE, "text/plain; version=0.0.4")];
    (content_type, state.metrics.render()).into_response()
}
