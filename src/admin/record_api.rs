//! `GET /api/records/{key}`: one record's timeline across both sides (read scope).

use axum::Json;
use axum::extract::{Path, State};

use super::auth::Caller;
use super::error::ApiError;
use super::operator::OperatorState;
use crate::operate::{self, Timeline};

pub async fn show(
    State(state): State<OperatorState>,
    _caller: Caller,
    Path(key): Path<String>,
) -> Result<Json<Timeline>, ApiError> {
    Ok(Json(operate::timeline(&state.admin.pool, &state.settings, &key).await?))
}
