//! Single-record endpoints: list with paging, read by id or `idProperty`, create (201),
//! update (PATCH) and archive (204).

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::assoc_api::{self, AssocInput};
use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::render::{self, Projection};
use super::routes::{Body, Params, ok, wrote};
use super::store::{Source, Store};
use super::types::ObjectType;
use super::{SimState, write};

/// The body of a create: properties and optional associations.
#[derive(Debug, Deserialize)]
pub struct CreateInput {
    #[serde(default)]
    pub properties: Map<String, Value>,
    #[serde(default)]
    pub associations: Vec<AssocInput>,
    #[serde(default, rename = "objectWriteTraceId")]
    pub trace_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct UpdateInput {
    #[serde(default)]
    pub properties: Map<String, Value>,
}

pub fn not_found(id: &str) -> ApiError {
    ApiError::not_found("Object not found.  objectId are usually numeric.")
        .with_context(json!({"id": [id]}))
}

/// The projection a read's query asks for, with associated types resolved.
fn projection(store: &Store, params: &Params) -> Projection {
    let mut projection = Projection::from_query(
        params.get("properties").as_deref(),
        params.get("propertiesWithHistory").as_deref(),
    );
    let wanted = params.get("associations").map(|a| render::split_list(&a)).unwrap_or_default();
    projection.associations =
        wanted.iter().filter_map(|t| store.types.resolve(t).cloned()).collect();
    projection
}

fn read_json(store: &Store, object: &ObjectType, id: u64, projection: &Projection) -> Value {
    let record = store.record(&object.type_id, id).expect("a resolved id has a record");
    let mut body = render::read(object, record, projection);
    if !projection.associations.is_empty() {
        let block = render::associations_block(store, object, record.id, &projection.associations);
        if block.as_object().is_some_and(|b| !b.is_empty()) {
            body["associations"] = block;
        }
    }
    body
}

/// `limit` defaults to 10; over 100 (50 with history) is refused, or clamped when the
/// strictness switch is off.
fn list_limit(params: &Params, reject_oversized: bool) -> ApiResult<usize> {
    let limit = params.number("limit")?.unwrap_or(10);
    let max = if params.get("propertiesWithHistory").is_some() { 50 } else { 100 };
    if limit > max && reject_oversized {
        return Err(ApiError::validation(format!("limit must be at most {max}, was {limit}")));
    }
    Ok(limit.clamp(1, max))
}

/// `GET /crm/v3/objects/{type}`: pages in id order; `after` is the next id.
pub async fn list(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    params: Params,
) -> ApiResult<Response> {
    let limit = list_limit(&params, state.config.strict.reject_oversized_limits)?;
    let after: u64 = params
        .get("after")
        .map_or(Ok(0), |a| a.parse())
        .map_err(|_| ApiError::validation("after must be a valid cursor"))?;
    let archived = params.flag("archived");
    state.read_store(|store| {
        let object = store.object_type(&segment)?;
        let projection = projection(store, &params);
        let mut page = store
            .table(&object.type_id)
            .records
            .range(after..)
            .filter(|(_, r)| r.archived() == archived);
        let results: Vec<Value> = page
            .by_ref()
            .take(limit)
            .map(|(id, _)| read_json(store, &object, *id, &projection))
            .collect();
        let mut body = json!({"results": results});
        if let Some((next, _)) = page.next() {
            body["paging"] =
                json!({"next": {"after": next.to_string(), "link": format!("?after={next}")}});
        }
        Ok(ok(body))
    })
}

/// Resolves `{objectId}` (with `idProperty`) to a live (or, if allowed, archived) record.
pub fn locate(
    store: &Store,
    object: &ObjectType,
    raw: &str,
    id_property: Option<&str>,
    archived: bool,
) -> ApiResult<u64> {
    let id = store.find(object, id_property, raw)?.ok_or_else(|| not_found(raw))?;
    let record = store.record(&object.type_id, id).ok_or_else(|| not_found(raw))?;
    if record.archived() != archived {
        return Err(not_found(raw));
    }
    Ok(record.id)
}

/// `GET /crm/v3/objects/{type}/{id}`.
pub async fn read(
    State(state): State<SimState>,
    Path((segment, raw)): Path<(String, String)>,
    params: Params,
) -> ApiResult<Response> {
    state.read_store(|store| {
        let object = store.object_type(&segment)?;
        let id = locate(
            store,
            &object,
            &raw,
            params.get("idProperty").as_deref(),
            params.flag("archived"),
        )?;
        Ok(ok(read_json(store, &object, id, &projection(store, &params))))
    })
}

/// `POST /crm/v3/objects/{type}`: 201 with the new record.
pub async fn create(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Extension(caller): Extension<Caller>,
    Body(input): Body<CreateInput>,
) -> ApiResult<Response> {
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let links = assoc_api::check_inputs(store, &object, &input.associations)?;
        let id = write::create(store, &object, &input.properties, &ctx)?;
        assoc_api::link_all(store, &object, id, &links, &ctx);
        let record = store.record(&object.type_id, id).expect("just created");
        Ok(wrote(StatusCode::CREATED, render::written(record), 1))
    })
}

/// `PATCH /crm/v3/objects/{type}/{id}`.
pub async fn update(
    State(state): State<SimState>,
    Path((segment, raw)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    params: Params,
    Body(input): Body<UpdateInput>,
) -> ApiResult<Response> {
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let id = locate(store, &object, &raw, params.get("idProperty").as_deref(), false)?;
        write::update(store, &object, id, &input.properties, &ctx)?;
        let record = store.record(&object.type_id, id).expect("just updated");
        Ok(wrote(StatusCode::OK, render::written(record), 1))
    })
}

/// `DELETE /crm/v3/objects/{type}/{id}`: 204; archiving twice is fine.
pub async fn archive(
    State(state): State<SimState>,
    Path((segment, raw)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Response> {
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let id = store.find(&object, None, &raw)?.ok_or_else(|| not_found(&raw))?;
        write::archive(store, &object, id, &ctx);
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.extensions_mut().insert(sim_kit::stats::RecordsWritten(1));
        Ok(response)
    })
}
