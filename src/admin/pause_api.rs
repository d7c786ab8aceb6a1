//! `POST /api/pause` and `POST /api/resume`: stop and restart a sync block's writes
//! (operate scope, audited).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;

use super::auth::Caller;
use super::error::ApiError;
use super::operator::{OperatorState, body};
use crate::operate::{self, PauseOutcome};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    sync: String,
    #[serde(default)]
    reason: Option<String>,
}

pub async fn pause(
    State(state): State<OperatorState>,
    caller: Caller,
    request: Result<Json<PauseBody>, JsonRejection>,
) -> Result<Json<PauseOutcome>, ApiError> {
    caller.must_operate("pause")?;
    let request = body(&state, request)?;
    let reason = request.reason.as_deref().unwrap_or("operator");
    let pool = &state.admin.pool;
    let outcome =
        operate::pause(pool, &state.settings, &request.sync, reason, &caller.actor()).await?;
    Ok(Json(outcome))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResumeBody {
    sync: String,
}

pub async fn resume(
    State(state): State<OperatorState>,
    caller: Caller,
    request: Result<Json<ResumeBody>, JsonRejection>,
) -> Result<Json<PauseOutcome>, ApiError> {
    caller.must_operate("resume")?;
    let request = body(&state, request)?;
    let pool = &state.admin.pool;
    Ok(Json(operate::resume(pool, &state.settings, &request.sync, &caller.actor()).await?))
}
