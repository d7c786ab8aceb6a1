//! `GET /api/conflicts` with cursor paging, and `POST /api/conflicts/{id}/resolve`
//! (operate scope, audited).

use axum::Json;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::ApiError;
use super::operator::{OperatorState, body};
use crate::operate::{self, ConflictFilter, ConflictStatus, Take};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    status: Option<String>,
    sync: Option<String>,
    limit: Option<i64>,
    before: Option<i64>,
}

/// Conflicts newest first; `next_before` pages on.
pub async fn list(
    State(state): State<OperatorState>,
    _caller: Caller,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(params) = params?;
    let status = match params.status.as_deref() {
        Some(text) => ConflictStatus::parse(text).map_err(ApiError::BadRequest)?,
        None => ConflictStatus::Open,
    };
    let filter = ConflictFilter { status, sync: params.sync, before: params.before };
    let limit = params.limit.unwrap_or(50).clamp(1, 1000);
    let rows = operate::list_conflicts(&state.admin.pool, &filter, limit).await?;
    let next = (rows.len() as i64 == limit).then(|| rows.last().map(|c| c.id)).flatten();
    Ok(Json(json!({ "rows": rows, "next_before": next })))
}

/// `{"take": "hubspot" | "external" | "value=TEXT"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    take: String,
}

pub async fn resolve(
    State(state): State<OperatorState>,
    caller: Caller,
    Path(id): Path<i64>,
    request: Result<Json<ResolveBody>, JsonRejection>,
) -> Result<Json<operate::Resolution>, ApiError> {
    caller.must_operate("resolve")?;
    let request = body(&state, request)?;
    let take = Take::parse(&request.take).map_err(ApiError::BadRequest)?;
    let pool = &state.admin.pool;
    let resolution =
        operate::resolve_conflict(pool, &state.settings, id, &take, &caller.actor()).await?;
    Ok(Json(resolution))
}
