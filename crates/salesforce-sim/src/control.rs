//! The Salesforce simulator's `/__sim/` routes: the shared stats, faults and clock routes
//! (with Salesforce's ready-made faults as presets), and the switches only Salesforce has:
//!
//! - `POST /__sim/sessions/expire`: every token gets 401 `INVALID_SESSION_ID` from now on
//! - `GET /__sim/api-usage`, `PUT /__sim/api-usage` `{"used": N}`: the daily allocation
//! - `POST /__sim/record-faults` `{"object", "lock_rows": N}` or `{"object", "reject":
//!   {"field", "value", "message"}}`, `DELETE /__sim/record-faults`: per-record failures
//!
//! The handle ([`crate::SalesforceSim`]) calls the same functions.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use sim_kit::control::{self, BadRequest, Body, Control};

use super::error::SfError;
use super::fault;
use super::schema::ObjectDef;
use super::state::{SfState, SharedState};
use super::store::RecordRule;

/// Every `/__sim/` route of the Salesforce simulator.
pub fn routes(state: SharedState) -> Router {
    let shared = Control {
        faults: state.faults.clone(),
        stats: state.stats.clone(),
        clock: state.clock.clone(),
        presets: fault::PRESETS,
    };
    Router::new()
        .route("/__sim/sessions/expire", post(expire))
        .route("/__sim/api-usage", get(usage).put(set_usage))
        .route("/__sim/record-faults", post(add_record_fault).delete(clear_record_faults))
        .with_state(state)
        .merge(control::routes(shared))
}

/// Ends every session.
pub fn expire_tokens(state: &SfState) {
    state.sessions.lock().expect("sessions lock").expire_all();
}

/// Requests counted against the daily allocation in the last 24 hours.
pub fn api_usage(state: &SfState) -> u64 {
    state.usage.lock().expect("usage lock").used(state.now())
}

/// Sets the count of requests used.
pub fn set_api_usage(state: &SfState, used: u64) {
    let mut usage = state.usage.lock().expect("usage lock");
    usage.reset();
    usage.add(state.now(), used);
}

/// Writes of `object` records whose `field` holds `value` fail with 400
/// `FIELD_CUSTOM_VALIDATION_EXCEPTION` and `message`.
pub fn reject_records(
    state: &SfState,
    object: &str,
    field: &str,
    value: Value,
    message: &str,
) -> Result<(), SfError> {
    let object = object_def(state, object)?;
    let field = object.field(field).ok_or_else(|| SfError::invalid_field(&object.name, field))?;
    let error = SfError::bad_request("FIELD_CUSTOM_VALIDATION_EXCEPTION", message)
        .with_fields(&[&field.name]);
    let when = Some((field.name.clone(), value));
    state.store().add_rule(RecordRule {
        object: object.name.clone(),
        when,
        error,
        remaining: None,
    });
    Ok(())
}

/// The next `writes` record writes to `object` fail with `UNABLE_TO_LOCK_ROW`.
pub fn lock_rows(state: &SfState, object: &str, writes: u32) -> Result<(), SfError> {
    let object = object_def(state, object)?;
    let message = "unable to obtain exclusive access to this record or 1 records";
    let error = SfError::bad_request("UNABLE_TO_LOCK_ROW", message);
    let rule =
        RecordRule { object: object.name.clone(), when: None, error, remaining: Some(writes) };
    state.store().add_rule(rule);
    Ok(())
}

pub fn object_def(state: &SfState, name: &str) -> Result<Arc<ObjectDef>, SfError> {
    state.store().object(name).ok_or_else(|| SfError::invalid_type(name))
}

async fn expire(State(state): State<SharedState>) -> StatusCode {
    expire_tokens(&state);
    StatusCode::NO_CONTENT
}

fn usage_view(state: &SfState) -> Json<Value> {
    Json(json!({"used": api_usage(state), "limit": state.config.daily_api_limit}))
}

async fn usage(State(state): State<SharedState>) -> Json<Value> {
    usage_view(&state)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Usage {
    used: u64,
}

async fn set_usage(State(state): State<SharedState>, Body(body): Body<Usage>) -> Json<Value> {
    set_api_usage(&state, body.used);
    usage_view(&state)
}

/// `{"object": "Contact", "lock_rows": 2}` or `{"object": "Contact", "reject": {"field":
/// "Email", "value": "x@example.com", "message": "…"}}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordFault {
    object: String,
    lock_rows: Option<u32>,
    reject: Option<Rejection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rejection {
    field: String,
    value: Value,
    #[serde(default = "default_message")]
    message: String,
}

fn default_message() -> String {
    "Rejected by a validation rule".into()
}

async fn add_record_fault(
    State(state): State<SharedState>,
    Body(body): Body<RecordFault>,
) -> Result<StatusCode, BadRequest> {
    object_def(&state, &body.object).map_err(|err| BadRequest::new("object", err.message))?;
    match (body.lock_rows, body.reject) {
        (Some(0), None) => Err(BadRequest::new("lock_rows", "must be at least 1")),
        (Some(writes), None) => lock_rows(&state, &body.object, writes)
            .map_err(|err| BadRequest::new("object", err.message)),
        (None, Some(rule)) => {
            reject_records(&state, &body.object, &rule.field, rule.value, &rule.message)
                .map_err(|err| BadRequest::new("reject.field", err.message))
        }
        _ => Err(BadRequest::new("lock_rows", "give exactly one of `lock_rows` and `reject`")),
    }
    .map(|()| StatusCode::CREATED)
}

async fn clear_record_faults(State(state): State<SharedState>) -> StatusCode {
    state.store().clear_rules();
    StatusCode::NO_CONTENT
}
