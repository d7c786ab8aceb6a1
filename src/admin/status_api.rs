//! `GET /api/status` and `GET /api/status/history`: is the sync keeping up (read scope).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::ApiError;
use super::operator::OperatorState;
use crate::operate;

pub async fn status(
    State(state): State<OperatorState>,
    _caller: Caller,
) -> Result<Json<operate::StatusReport>, ApiError> {
    Ok(Json(operate::status(&state.admin.pool, &state.settings).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryParams {
    sync: String,
}

/// Lag per minute of the last hour, for the dashboard's chart.
pub async fn history(
    State(state): State<OperatorState>,
    _caller: Caller,
    params: Result<Query<HistoryParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let points = operate::lag_history(&state.admin.pool, &state.settings, &params.sync).await?;
    Ok(Json(json!({ "sync": params.sync, "points": points })))
}
