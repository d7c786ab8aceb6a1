//! The route table and the request plumbing every handler shares: JSON bodies with HubSpot's
//! 400 on malformed input, repeated or comma-separated query values, and counted writes.

use axum::extract::{FromRequest, Query, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router, middleware};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::control;
use super::error::ApiError;
use super::{
    SimState, assoc_api, auth, batch, merge, objects, owners, props_api, ratelimit, schemas,
    search, webhooks_api,
};
use sim_kit::faults;
use sim_kit::stats::{self, RecordsWritten};

/// A JSON request body; malformed JSON is HubSpot's 400 `VALIDATION_ERROR`.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = bytes::Bytes::from_request(request, state).await.map_err(|err| {
            ApiError::validation(format!("Could not read the request body: {err}"))
        })?;
        let bytes = if bytes.is_empty() { bytes::Bytes::from_static(b"{}") } else { bytes };
        serde_json::from_slice(&bytes)
            .map(Body)
            .map_err(|err| ApiError::validation(format!("Invalid input JSON: {err}")))
    }
}

/// Query parameters, where a name may repeat (`properties=a&properties=b`) or list
/// values with commas; both read the same.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn get(&self, name: &str) -> Option<String> {
        let values: Vec<&str> =
            self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
        (!values.is_empty()).then(|| values.join(","))
    }

    pub fn flag(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| v == "true")
    }

    pub fn number(&self, name: &str) -> Result<Option<usize>, ApiError> {
        self.get(name)
            .map(|v| {
                v.parse().map_err(|_| ApiError::validation(format!("{name} must be an integer")))
            })
            .transpose()
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        let Query(pairs) =
            Query::<Vec<(String, String)>>::from_request_parts(parts, state)
                .await
                .map_err(|err| ApiError::validation(format!("Invalid query string: {err}")))?;
        Ok(Params(pairs))
    }
}

/// A JSON answer that wrote `written` records, counted by the stats middleware.
pub fn wrote(status: StatusCode, body: Value, written: usize) -> Response {
    let mut response = (status, Json(body)).into_response();
    response.extensions_mut().insert(RecordsWritten(written as u64));
    response
}

pub fn ok(body: Value) -> Response {
    Json(body).into_response()
}

fn object_routes() -> Router<SimState> {
    Router::new()
        .route("/{object_type}", get(objects::list).post(objects::create))
        .route(
            "/{object_type}/{object_id}",
            get(objects::read).patch(objects::update).delete(objects::archive),
        )
        .route("/{object_type}/batch/create", post(batch::create))
        .route("/{object_type}/batch/read", post(batch::read))
        .route("/{object_type}/batch/update", post(batch::update))
        .route("/{object_type}/batch/upsert", post(batch::upsert))
        .route("/{object_type}/batch/archive", post(batch::archive))
        .route("/{object_type}/search", post(search::search))
        .route("/{object_type}/merge", post(merge::merge))
        .route("/{object_type}/gdpr-delete", post(merge::gdpr_delete))
}

fn property_routes() -> Router<SimState> {
    Router::new()
        .route("/{object_type}", get(props_api::list).post(props_api::create))
        .route("/{object_type}/batch/read", post(props_api::batch_read))
        .route("/{object_type}/batch/create", post(props_api::batch_create))
        .route("/{object_type}/batch/archive", post(props_api::batch_archive))
        .route("/{object_type}/groups", get(props_api::list_groups).post(props_api::create_group))
        .route(
            "/{object_type}/groups/{group}",
            get(props_api::read_group)
                .patch(props_api::update_group)
                .delete(props_api::archive_group),
        )
        .route(
            "/{object_type}/{name}",
            get(props_api::read).patch(props_api::update).delete(props_api::archive),
        )
}

fn schema_routes() -> Router<SimState> {
    Router::new()
        .route("/", get(schemas::list).post(schemas::create))
        .route("/{object_type}", get(schemas::read).patch(schemas::update).delete(schemas::archive))
        .route("/{object_type}/associations", post(schemas::create_association))
}

fn association_routes() -> Router<SimState> {
    Router::new()
        .route(
            "/{from}/{to}/labels",
            get(assoc_api::list_labels).post(assoc_api::create_label).put(assoc_api::update_label),
        )
        .route("/{from}/{to}/labels/{type_id}", delete(assoc_api::delete_label))
        .route("/{from}/{to}/batch/create", post(assoc_api::batch_create))
        .route("/{from}/{to}/batch/associate/default", post(assoc_api::batch_default))
        .route("/{from}/{to}/batch/read", post(assoc_api::batch_read))
        .route("/{from}/{to}/batch/archive", post(assoc_api::batch_archive))
        .route("/{from}/{to}/batch/labels/archive", post(assoc_api::batch_archive_labels))
}

fn record_association_routes() -> Router<SimState> {
    Router::new()
        .route("/{object_type}/{object_id}/associations/{to_type}", get(assoc_api::list_for_record))
        .route(
            "/{object_type}/{object_id}/associations/{to_type}/{to_id}",
            put(assoc_api::put_labelled).delete(assoc_api::delete_between),
        )
        .route(
            "/{object_type}/{object_id}/associations/default/{to_type}/{to_id}",
            put(assoc_api::put_default),
        )
}

/// Every HubSpot endpoint the simulator serves, behind faults, auth and rate limits, and the
/// simulator's own `/__sim/` routes outside them.
pub fn router(state: SimState) -> Router {
    let api = Router::new()
        .nest("/crm/v3/objects", object_routes())
        .nest("/crm/objects/2026-03", object_routes())
        .nest("/crm/v3/properties", property_routes())
        .nest("/crm/properties/2026-03", property_routes())
        .nest("/crm/v3/schemas", schema_routes())
        .nest("/crm-object-schemas/v3/schemas", schema_routes())
        .route("/crm/v3/owners", get(owners::list))
        .route("/crm/v3/owners/", get(owners::list))
        .route("/crm/v3/owners/{owner_id}", get(owners::read))
        .nest("/crm/v4/associations", association_routes())
        .nest("/crm/associations/v4", association_routes())
        .nest("/crm/v4/objects", record_association_routes())
        .route_layer(middleware::from_fn_with_state(state.clone(), ratelimit::limit))
        .route_layer(middleware::from_fn_with_state(state.clone(), auth::authenticate));
    let webhooks = Router::new()
        .route(
            "/webhooks/v3/{app_id}/settings",
            get(webhooks_api::read_settings)
                .put(webhooks_api::put_settings)
                .delete(webhooks_api::delete_settings),
        )
        .route(
            "/webhooks/v3/{app_id}/subscriptions",
            get(webhooks_api::list_subscriptions).post(webhooks_api::create_subscription),
        )
        .route(
            "/webhooks/v3/{app_id}/subscriptions/{id}",
            get(webhooks_api::read_subscription)
                .patch(webhooks_api::update_subscription)
                .delete(webhooks_api::delete_subscription),
        )
        .route_layer(middleware::from_fn_with_state(state.clone(), webhooks_api::developer_key));
    let oauth = Router::new()
        .route("/oauth/v1/token", post(auth::token))
        .route("/oauth/v1/access-tokens/{token}", get(auth::token_info));
    api.merge(oauth)
        .merge(webhooks)
        .route_layer(middleware::from_fn(uri_too_long))
        .route_layer(middleware::from_fn_with_state(state.faults.clone(), faults::inject))
        .route_layer(middleware::from_fn_with_state(state.stats.clone(), stats::count))
        .fallback(not_found)
        .layer(middleware::map_response(correlation_id))
        .layer(middleware::from_fn_with_state(state.clock.clone(), sim_kit::clock::date_header))
        .with_state(state.clone())
        .merge(control::routes(state))
}

/// Every answer carries an `X-HubSpot-Correlation-Id`, as HubSpot's do.
async fn correlation_id(mut response: Response) -> Response {
    let id = uuid::Uuid::new_v4().to_string();
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-hubspot-correlation-id", value);
    }
    response
}

/// The longest request URI HubSpot's servers take, as front ends commonly allow.
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// 414 for a request URI past [`MAX_URI_BYTES`] (a long `properties` query string).
async fn uri_too_long(request: Request, next: middleware::Next) -> Response {
    let length = request.uri().to_string().len();
    if length > MAX_URI_BYTES {
        let message = format!("Request-URI of {length} bytes is over {MAX_URI_BYTES}");
        return ApiError::new(StatusCode::URI_TOO_LONG, "URI_TOO_LONG", message).into_response();
    }
    next.run(request).await
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "OBJECT_NOT_FOUND", "Not found: no such endpoint")
}
