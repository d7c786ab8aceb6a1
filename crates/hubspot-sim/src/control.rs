//! The HubSpot simulator's `/__sim/` routes: the shared stats, faults and clock routes, and
//! the switches only HubSpot has:
//!
//! - `GET /__sim/webhooks/deliveries`: every delivery attempt (event ids, attempt, status)
//! - `PUT /__sim/webhooks/chaos` `{"duplicate_fraction", "out_of_order_fraction",
//!   "delay_fraction", "delay_ms"}`: misbehaviour of the webhook deliveries
//! - `POST /__sim/search/hold` `{"object", "id", "extra_ms"}`: one record's changes reach
//!   search late

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sim_kit::control::{self, BadRequest, Body, Control};

use super::SimState;
use super::webhooks::{Chaos, WebhookSettings};

/// Every `/__sim/` route of the HubSpot simulator.
pub fn routes(state: SimState) -> Router {
    let shared = Control {
        faults: state.faults.clone(),
        stats: state.stats.clone(),
        clock: state.clock.clone(),
        presets: &[],
    };
    Router::new()
        .route("/__sim/webhooks/deliveries", get(deliveries))
        .route("/__sim/webhooks/chaos", put(set_chaos))
        .route("/__sim/search/hold", post(hold_from_search))
        .with_state(state)
        .merge(control::routes(shared))
}

/// Keeps a record's changes out of search until `extra` past the simulator's now.
pub fn hold(
    state: &SimState,
    object: &str,
    id: u64,
    extra: Duration,
) -> super::error::ApiResult<()> {
    let until = state.clock.now_millis() + extra.as_millis() as i64;
    state.with_store(|store| {
        let object = store.object_type(object)?;
        store.search.hold(&object.type_id, id, until);
        Ok(())
    })
}

async fn deliveries(State(state): State<SimState>) -> Json<Value> {
    let log = state.webhooks.log.lock().expect("webhook lock").clone();
    let attempts: Vec<Value> = log
        .iter()
        .map(|d| {
            json!({"event_ids": d.event_ids, "attempt": d.attempt, "status": d.status,
                   "duplicate": d.duplicate})
        })
        .collect();
    Json(json!({"deliveries": attempts}))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChaosSpec {
    #[serde(default)]
    duplicate_fraction: f64,
    #[serde(default)]
    out_of_order_fraction: f64,
    #[serde(default)]
    delay_fraction: f64,
    #[serde(default)]
    delay_ms: u64,
}

impl ChaosSpec {
    fn to_chaos(&self) -> Result<Chaos, BadRequest> {
        let fractions = [
            ("duplicate_fraction", self.duplicate_fraction),
            ("out_of_order_fraction", self.out_of_order_fraction),
            ("delay_fraction", self.delay_fraction),
        ];
        if let Some((field, _)) = fractions.iter().find(|(_, p)| !(0.0..=1.0).contains(p)) {
            return Err(BadRequest::new(*field, "must be between 0 and 1"));
        }
        Ok(Chaos {
            duplicate_fraction: self.duplicate_fraction,
            out_of_order_fraction: self.out_of_order_fraction,
            delay_fraction: self.delay_fraction,
            delay: Duration::from_millis(self.delay_ms),
        })
    }
}

async fn set_chaos(
    State(state): State<SimState>,
    Body(spec): Body<ChaosSpec>,
) -> Result<Response, BadRequest> {
    let chaos = spec.to_chaos()?;
    let Some(current) = state.webhooks.current() else {
        let message = "no webhook target is set: start with --webhook-url, or PUT \
                       /webhooks/v3/{appId}/settings first";
        let body = json!({"error": "no_webhooks", "field": null, "message": message});
        return Ok((StatusCode::CONFLICT, Json(body)).into_response());
    };
    let settings = WebhookSettings { chaos, ..(*current).clone() };
    state.webhooks.configure(Some(settings));
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Hold {
    object: String,
    id: u64,
    extra_ms: u64,
}

async fn hold_from_search(
    State(state): State<SimState>,
    Body(body): Body<Hold>,
) -> Result<StatusCode, BadRequest> {
    hold(&state, &body.object, body.id, Duration::from_millis(body.extra_ms))
        .map_err(|err| BadRequest::new("object", err.to_string()))?;
    Ok(StatusCode::NO_CONTENT)
}
