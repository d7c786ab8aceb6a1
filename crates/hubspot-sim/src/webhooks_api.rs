//! The webhook management API of legacy public apps (`/webhooks/v3/{appId}/settings` and
//! `…/subscriptions`), authorised by the developer API key in `hapikey`, so a standalone
//! simulator's webhooks can be configured over HTTP.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::SimState;
use super::error::{ApiError, ApiResult};
use super::properties::iso_ms;
use super::routes::{Body, Params, ok};
use super::webhooks::{Subscription, WebhookSettings};

/// Middleware: the `hapikey` query parameter must be the developer API key.
pub async fn developer_key(
    State(state): State<SimState>,
    params: Params,
    request: Request,
    next: Next,
) -> Response {
    if params.get("hapikey").as_deref() == Some(state.config.developer_api_key.as_str()) {
        return next.run(request).await;
    }
    let message = "The API key provided is invalid. View or manage your API key here: https://app.hubspot.com/l/api-key/";
    ApiError::new(StatusCode::UNAUTHORIZED, "INVALID_AUTHENTICATION", message).into_response()
}

/// The current settings, or empty ones for `app_id` (no target, no subscriptions).
fn current(state: &SimState, app_id: u64) -> WebhookSettings {
    match state.webhooks.current() {
        Some(settings) => (*settings).clone(),
        None => {
            let mut settings =
                WebhookSettings::new("", &state.config.oauth.client_secret, Vec::new());
            settings.app_id = app_id;
            settings
        }
    }
}

fn settings_json(state: &SimState, settings: &WebhookSettings) -> Value {
    let now = iso_ms(state.clock.now_millis());
    json!({"targetUrl": settings.target_url,
           "throttling": {"maxConcurrentRequests": settings.max_concurrent, "period": "SECONDLY"},
           "createdAt": now, "updatedAt": now})
}

/// `GET /webhooks/v3/{appId}/settings`: 404 until a target URL is set.
pub async fn read_settings(
    State(state): State<SimState>,
    Path(app_id): Path<u64>,
) -> ApiResult<Response> {
    let settings = current(&state, app_id);
    if settings.target_url.is_empty() {
        return Err(ApiError::not_found(format!("No webhook settings for app {app_id}")));
    }
    Ok(ok(settings_json(&state, &settings)))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettingsInput {
    target_url: String,
    throttling: Option<Throttling>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    max_concurrent_requests: usize,
}

/// `PUT /webhooks/v3/{appId}/settings`.
pub async fn put_settings(
    State(state): State<SimState>,
    Path(app_id): Path<u64>,
    Body(input): Body<SettingsInput>,
) -> ApiResult<Response> {
    if reqwest::Url::parse(&input.target_url).is_err() {
        return Err(ApiError::validation(format!(
            "{} is not a valid target URL",
            input.target_url
        )));
    }
    let mut settings = current(&state, app_id);
    settings.target_url = input.target_url;
    settings.app_id = app_id;
    if let Some(throttling) = input.throttling {
        settings.max_concurrent = throttling.max_concurrent_requests.max(1);
    }
    let body = settings_json(&state, &settings);
    state.webhooks.configure(Some(settings));
    Ok(ok(body))
}

/// `DELETE /webhooks/v3/{appId}/settings`: removes the target, which pauses delivery.
pub async fn delete_settings(State(state): State<SimState>, Path(app_id): Path<u64>) -> Response {
    let mut settings = current(&state, app_id);
    settings.target_url.clear();
    state.webhooks.configure(Some(settings));
    StatusCode::NO_CONTENT.into_response()
}

fn subscription_json(state: &SimState, subscription: &Subscription) -> Value {
    let now = iso_ms(state.clock.now_millis());
    let mut body = json!({"id": subscription.id.to_string(), "eventType": subscription.event_type,
                          "active": subscription.active, "createdAt": now, "updatedAt": now});
    if let Some(name) = &subscription.property_name {
        body["propertyName"] = json!(name);
    }
    if let Some(type_id) = &subscription.object_type_id {
        body["objectTypeId"] = json!(type_id);
    }
    body
}

/// `GET /webhooks/v3/{appId}/subscriptions`.
pub async fn list_subscriptions(
    State(state): State<SimState>,
    Path(app_id): Path<u64>,
) -> Response {
    let settings = current(&state, app_id);
    let results: Vec<Value> =
        settings.subscriptions.iter().map(|s| subscription_json(&state, s)).collect();
    ok(json!({"results": results}))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionInput {
    event_type: String,
    property_name: Option<String>,
    #[serde(default)]
    active: bool,
    object_type_id: Option<String>,
}

const MAX_SUBSCRIPTIONS: usize = 1000;

/// `POST /webhooks/v3/{appId}/subscriptions`: 201; new subscriptions start paused.
pub async fn create_subscription(
    State(state): State<SimState>,
    Path(app_id): Path<u64>,
    Body(input): Body<SubscriptionInput>,
) -> ApiResult<Response> {
    if !input.event_type.contains('.') {
        return Err(ApiError::validation(format!(
            "{} is not a subscription type",
            input.event_type
        )));
    }
    let mut settings = current(&state, app_id);
    if settings.subscriptions.len() >= MAX_SUBSCRIPTIONS {
        return Err(ApiError::validation(format!(
            "An app can have at most {MAX_SUBSCRIPTIONS} subscriptions"
        )));
    }
    let id = settings.subscriptions.iter().map(|s| s.id).max().unwrap_or(0) + 1;
    let mut subscription = Subscription::new(id, &input.event_type);
    subscription.property_name = input.property_name;
    subscription.object_type_id = input.object_type_id;
    subscription.active = input.active;
    let body = subscription_json(&state, &subscription);
    settings.subscriptions.push(subscription);
    state.webhooks.configure(Some(settings));
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}

fn missing(id: u64) -> ApiError {
    ApiError::not_found(format!("Subscription {id} does not exist"))
}

/// `GET /webhooks/v3/{appId}/subscriptions/{id}`.
pub async fn read_subscription(
    State(state): State<SimState>,
    Path((app_id, id)): Path<(u64, u64)>,
) -> ApiResult<Response> {
    let settings = current(&state, app_id);
    let found = settings.subscriptions.iter().find(|s| s.id == id).ok_or_else(|| missing(id))?;
    Ok(ok(subscription_json(&state, found)))
}

#[derive(Debug, Deserialize)]
pub struct ActiveInput {
    active: bool,
}

/// `PATCH /webhooks/v3/{appId}/subscriptions/{id}` with `{"active": …}`.
pub async fn update_subscription(
    State(state): State<SimState>,
    Path((app_id, id)): Path<(u64, u64)>,
    Body(input): Body<ActiveInput>,
) -> ApiResult<Response> {
    let mut settings = current(&state, app_id);
    let found =
        settings.subscriptions.iter_mut().find(|s| s.id == id).ok_or_else(|| missing(id))?;
    found.active = input.active;
    let body = subscription_json(&state, found);
    state.webhooks.configure(Some(settings));
    Ok(ok(body))
}

/// `DELETE /webhooks/v3/{appId}/subscriptions/{id}`: 204.
pub async fn delete_subscription(
    State(state): State<SimState>,
    Path((app_id, id)): Path<(u64, u64)>,
) -> Response {
    let mut settings = current(&state, app_id);
    settings.subscriptions.retain(|s| s.id != id);
    state.webhooks.configure(Some(settings));
    StatusCode::NO_CONTENT.into_response()
}
