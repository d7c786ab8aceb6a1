//! The simulator's routes and the layers around them: request counting, injected faults,
//! the version segment, the session check and the API allocation, with or without a
//! trailing slash.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{any, get, patch, post};
use tower::Layer;
use tower_http::normalize_path::NormalizePathLayer;

use super::error::SfError;
use super::rest::{self, collections, records, replication};
use super::state::SharedState;
use super::{auth, limits, soql};
use sim_kit::{faults, stats};

/// The largest request body taken; past it, 413 (as a JSON error array).
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Every route of the simulator, and its own `/__sim/` routes.
pub fn router(state: SharedState) -> Router {
    let clock = state.clock.clone();
    finish(
        Router::new()
            .merge(data_routes(state.clone()))
            .merge(public_routes(state.clone()))
            .merge(identity_routes(state.clone()))
            .merge(super::control::routes(state)),
    )
    .layer(from_fn_with_state(clock, sim_kit::clock::date_header))
}

/// A login host's routes (token and identity), when the data API has its own listener.
pub fn login_router(state: SharedState) -> Router {
    let clock = state.clock.clone();
    finish(public_routes(state.clone()).merge(identity_routes(state)))
        .layer(from_fn_with_state(clock, sim_kit::clock::date_header))
}

fn finish(routes: Router) -> Router {
    let inner = routes
        .fallback(|| async { SfError::not_found() })
        .method_not_allowed_fallback(|| async { method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(from_fn(super::error::json_errors));
    let normalized = NormalizePathLayer::trim_trailing_slash().layer(inner);
    Router::new().fallback_service(normalized)
}

fn public_routes(state: SharedState) -> Router {
    Router::new()
        .route("/services/data", get(rest::versions))
        .route("/services/oauth2/token", post(auth::token))
        .route_layer(from_fn_with_state(state.faults.clone(), faults::inject))
        .route_layer(from_fn_with_state(state.stats.clone(), stats::count))
        .with_state(state)
}

fn method_not_allowed() -> SfError {
    let message = "HTTP method not allowed on this resource";
    SfError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", message)
}

/// The identity URL a token response names: who the token acts as.
fn identity_routes(state: SharedState) -> Router {
    Router::new()
        .route("/id/{org}/{user}", get(auth::identity))
        .route_layer(from_fn_with_state(state.clone(), auth::require_session))
        .route_layer(from_fn_with_state(state.faults.clone(), faults::inject))
        .route_layer(from_fn_with_state(state.stats.clone(), stats::count))
        .with_state(state)
}

fn data_routes(state: SharedState) -> Router {
    const SOBJECT: &str = "/services/data/{v}/sobjects/{t}";
    const COMPOSITE: &str = "/services/data/{v}/composite/sobjects";
    Router::new()
        .route("/services/data/{v}", get(rest::resources))
        .route("/services/data/{v}/sobjects", get(records::global_describe))
        .route(SOBJECT, get(records::basic_info).post(records::create))
        .route(&format!("{SOBJECT}/describe"), get(records::describe_object))
        .route(&format!("{SOBJECT}/updated"), get(replication::updated))
        .route(&format!("{SOBJECT}/deleted"), get(replication::deleted))
        .route(
            &format!("{SOBJECT}/{{id}}"),
            get(records::read)
                .patch(records::update)
                .delete(records::delete)
                .post(records::create_via_id),
        )
        .route(
            &format!("{SOBJECT}/{{field}}/{{value}}"),
            get(records::read_by_external_id).patch(records::upsert),
        )
        .route(
            COMPOSITE,
            post(collections::create).patch(collections::update).delete(collections::delete),
        )
        .route(
            &format!("{COMPOSITE}/{{t}}"),
            get(collections::retrieve_get).post(collections::retrieve_post),
        )
        .route(&format!("{COMPOSITE}/{{t}}/{{field}}"), patch(collections::upsert))
        .route("/services/data/{v}/query", get(soql::query))
        .route("/services/data/{v}/queryAll", get(soql::query_all))
        .route("/services/data/{v}/query/{locator}", get(soql::more))
        .route("/services/data/{v}/queryAll/{locator}", get(soql::more))
        .route("/services/data/{v}/limits", get(limits::limits))
        .route("/services/data/{v}/{*rest}", any(rest::unknown_resource))
        .route_layer(from_fn_with_state(state.clone(), limits::meter))
        .route_layer(from_fn_with_state(state.clone(), auth::require_session))
        .route_layer(from_fn(rest::require_version))
        .route_layer(from_fn_with_state(state.faults.clone(), faults::inject))
        .route_layer(from_fn_with_state(state.clone(), limits::report))
        .route_layer(from_fn_with_state(state.stats.clone(), stats::count))
        .with_state(state)
}
