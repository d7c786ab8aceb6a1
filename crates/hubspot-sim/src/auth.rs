//! Bearer-token checks (private-app tokens and OAuth access tokens that expire on the sim
//! clock) and the OAuth refresh endpoint `POST /oauth/v1/token`.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::json;

use super::SimState;
use super::error::ApiError;

/// Who is calling: the app behind the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The app behind the token; writes are recorded and rate windows kept under it.
    pub app_id: u64,
    /// The token itself.
    pub token: String,
    /// OAuth-authorised calls get no daily rate-limit headers.
    pub oauth: bool,
}

#[derive(Debug, Clone)]
struct Issued {
    app_id: u64,
    expires_at: i64,
}

/// Access tokens issued by the OAuth endpoint.
#[derive(Debug, Default)]
pub struct AuthState {
    issued: Mutex<HashMap<String, Issued>>,
}

impl AuthState {
    fn issue(&self, app_id: u64, expires_at: i64) -> String {
        let token = format!("sim-oauth-{}", uuid::Uuid::new_v4());
        let mut issued = self.issued.lock().expect("auth lock");
        issued.insert(token.clone(), Issued { app_id, expires_at });
        token
    }

    fn lookup(&self, token: &str) -> Option<Issued> {
        self.issued.lock().expect("auth lock").get(token).cloned()
    }
}

fn invalid_authentication() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "INVALID_AUTHENTICATION",
        "Authentication credentials not found. This API supports OAuth 2.0 authentication and \
         you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview",
    )
}

fn expired(seconds_ago: i64) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "EXPIRED_AUTHENTICATION",
        format!("The OAuth token used to make this call expired {seconds_ago} second(s) ago."),
    )
}

/// Identifies the caller from its bearer token, or answers 401.
pub fn identify(state: &SimState, authorization: Option<&str>) -> Result<Caller, ApiError> {
    let token = authorization
        .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
        .map(str::trim)
        .ok_or_else(invalid_authentication)?;
    if let Some(app) = state.config.tokens.iter().find(|t| t.token == token) {
        return Ok(Caller { app_id: app.app_id, token: token.to_string(), oauth: false });
    }
    let issued = state.auth.lookup(token).ok_or_else(invalid_authentication)?;
    let now = state.clock.now_millis();
    if now >= issued.expires_at {
        return Err(expired((now - issued.expires_at) / 1000));
    }
    Ok(Caller { app_id: issued.app_id, token: token.to_string(), oauth: true })
}

/// Middleware: refuses unauthenticated calls and attaches the [`Caller`].
pub async fn authenticate(
    State(state): State<SimState>,
    mut request: Request,
    next: Next,
) -> Response {
    let header = request.headers().get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    match identify(&state, header) {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(err) => err.into_response(),
    }
}

fn oauth_error(status: &str, message: &str) -> Response {
    let body = json!({"status": status, "message": message,
                      "correlationId": uuid::Uuid::new_v4().to_string()});
    (StatusCode::BAD_REQUEST, Json(body)).into_response()
}

/// `POST /oauth/v1/token` with `grant_type=refresh_token`: a fresh short-lived access token.
pub async fn token(
    State(state): State<SimState>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let app = &state.config.oauth;
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if field("grant_type") != "refresh_token" {
        return oauth_error("BAD_GRANT_TYPE", "grant_type must be refresh_token");
    }
    if field("client_id") != app.client_id {
        return oauth_error("BAD_CLIENT_ID", "missing or unknown client id");
    }
    if field("client_secret") != app.client_secret {
        return oauth_error("BAD_CLIENT_SECRET", "missing or invalid client secret");
    }
    if field("refresh_token") != app.refresh_token {
        return oauth_error("BAD_REFRESH_TOKEN", "missing or unknown refresh token");
    }
    let ttl = app.access_token_ttl.as_secs() as i64;
    let access = state.auth.issue(app.app_id, state.clock.now_millis() + ttl * 1000);
    Json(json!({
        "access_token": access,
        "refresh_token": app.refresh_token,
        "expires_in": ttl,
        "token_type": "bearer",
        "token_use": "access_token",
        "hub_id": state.config.portal_id,
        "user_id": 1,
        "scopes": ["crm.objects.contacts.read", "crm.objects.contacts.write"],
    }))
    .into_response()
}

/// `GET /oauth/v1/access-tokens/{token}`: what an issued access token is for and how long
/// it has left; 404 for tokens the simulator never issued.
pub async fn token_info(State(state): State<SimState>, Path(token): Path<String>) -> Response {
    let Some(issued) = state.auth.lookup(&token) else {
        let mut response = oauth_error("NOT_FOUND", "access token not found");
        *response.status_mut() = StatusCode::NOT_FOUND;
        return response;
    };
    let left = (issued.expires_at - state.clock.now_millis()).max(0) / 1000;
    Json(json!({
        "token": token, "user": "sim-user@example.com", "hub_domain": "sim.hubspot.local",
        "scopes": ["crm.objects.contacts.read", "crm.objects.contacts.write"],
        "hub_id": state.config.portal_id, "app_id": issued.app_id, "expires_in": left,
        "user_id": 1, "token_type": "access",
    }))
    .into_response()
}
