//! `/api/journal…`: the journal for scripts and the dashboard, with cursor paging, and the
//! operator actions retry and skip.

use axum::Json;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::AdminState;
use super::auth::Caller;
use super::error::ApiError;
use crate::journal;
use crate::store;
use crate::store::journal::{JournalFilter, OperatorAction};

/// Query parameters of `GET /api/journal`; lists are comma-separated.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    object: Option<String>,
    side: Option<String>,
    record: Option<String>,
    since: Option<String>,
    until: Option<String>,
    error_kind: Option<String>,
    limit: Option<i64>,
    before: Option<i64>,
}

impl ListParams {
    fn filter(&self) -> Result<JournalFilter, ApiError> {
        let bad = ApiError::BadRequest;
        let statuses = match &self.status {
            Some(list) => {
                list.split(',').map(journal::parse_status).collect::<Result<_, _>>().map_err(bad)?
            }
            None => Vec::new(),
        };
        Ok(JournalFilter {
            ids: Vec::new(),
            side: self.side.as_deref().map(journal::parse_side).transpose().map_err(bad)?,
            object_type: self.object.clone(),
            record_id: self.record.clone(),
            statuses,
            since: self.since.as_deref().map(journal::parse_when).transpose().map_err(bad)?,
            until: self.until.as_deref().map(journal::parse_when).transpose().map_err(bad)?,
            error_kind: self.error_kind.clone(),
            before_id: self.before,
        })
    }
}

/// Rows newest first; `next_before` pages on.
pub async fn list(
    State(state): State<AdminState>,
    _caller: Caller,
    params: Result<Query<ListParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let limit = params.limit.unwrap_or(50).clamp(1, 1000);
    let rows = store::journal::query(&state.pool, &params.filter()?, limit).await?;
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|row| row.id)).flatten();
    Ok(Json(json!({ "rows": rows, "next_before": next })))
}

/// One row and every attempt.
pub async fn show(
    State(state): State<AdminState>,
    _caller: Caller,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    let rows = store::journal::query(&state.pool, &JournalFilter::ids([id]), 1).await?;
    let row = rows.into_iter().next().ok_or(ApiError::NotFound(format!("journal row {id}")))?;
    let attempts = store::journal::attempts(&state.pool, id).await?;
    Ok(Json(json!({ "row": row, "attempts": attempts })))
}

/// Body of `POST /api/journal/retry` and `/skip`: explicit ids.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    ids: Vec<i64>,
}

pub async fn retry(
    state: State<AdminState>,
    caller: Caller,
    body: Result<Json<ActionBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    act(state, caller, body, OperatorAction::Retry).await
}

pub async fn skip(
    state: State<AdminState>,
    caller: Caller,
    body: Result<Json<ActionBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    act(state, caller, body, OperatorAction::Skip).await
}

async fn act(
    State(state): State<AdminState>,
    caller: Caller,
    body: Result<Json<ActionBody>, axum::extract::rejection::JsonRejection>,
    action: OperatorAction,
) -> Result<Json<Value>, ApiError> {
    caller.must_operate(action.verb())?;
    let Json(body) = body.map_err(|rejection| match ApiError::from(rejection) {
        ApiError::TooLarge(_) => ApiError::TooLarge(state.max_body_bytes),
        other => other,
    })?;
    if body.ids.is_empty() {
        return Err(ApiError::BadRequest("`ids` must name at least one journal row".into()));
    }
    let filter =
        JournalFilter { statuses: action.movable().to_vec(), ..JournalFilter::ids(body.ids) };
    let changed = store::journal::act(&state.pool, action, &filter, &caller.actor()).await?;
    Ok(Json(json!({ "action": action.verb(), "ids": changed })))
}
