//! The state of the operator endpoints: the admin state plus the sync rules they report on.

use std::sync::Arc;

use axum::Json;
use axum::extract::FromRef;
use axum::extract::rejection::JsonRejection;

use super::{AdminState, ApiError, Tokens};
use crate::config::Settings;

#[derive(Clone)]
pub struct OperatorState {
    pub admin: AdminState,
    pub settings: Arc<Settings>,
}

impl FromRef<OperatorState> for Tokens {
    fn from_ref(state: &OperatorState) -> Tokens {
        state.admin.tokens.clone()
    }
}

/// A JSON body, or the precise reason it was refused (413 names the configured limit).
pub fn body<T>(state: &OperatorState, body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    let Json(body) = body.map_err(|rejection| match ApiError::from(rejection) {
        ApiError::TooLarge(_) => ApiError::TooLarge(state.admin.max_body_bytes),
        other => other,
    })?;
    Ok(body)
}
