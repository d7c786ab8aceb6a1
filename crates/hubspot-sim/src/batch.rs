//! Batch endpoints (create, read, update, upsert, archive): at most 100 inputs, each input
//! judged on its own, 207 with `errors`/`numErrors` when some fail and the rest applied.

use std::collections::HashSet;

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::SimState;
use super::assoc_api::{self, Inputs};
use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::objects::CreateInput;
use super::properties::iso_ms;
use super::render::{self, Projection};
use super::routes::{Body, Params, wrote};
use super::store::{Source, Store};
use super::types::ObjectType;
use super::write::{self, WriteCtx};

const MAX_INPUTS: usize = 100;

/// The batch answer: `status: COMPLETE`, results, timestamps, and on partial failure
/// 207 with `numErrors` and `errors`.
pub fn envelope(
    results: Vec<Value>,
    errors: Vec<Value>,
    started: i64,
    success: StatusCode,
) -> (StatusCode, Value) {
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": iso_ms(started),
        "completedAt": iso_ms(started),
    });
    if errors.is_empty() {
        return (success, body);
    }
    body["numErrors"] = json!(errors.len());
    body["errors"] = Value::Array(errors);
    (StatusCode::MULTI_STATUS, body)
}

fn check_size(count: usize) -> ApiResult<()> {
    if count > MAX_INPUTS {
        return Err(ApiError::validation(format!(
            "Batch input size {count} is over the limit of {MAX_INPUTS} inputs per request"
        )));
    }
    Ok(())
}

fn check_distinct<'a>(state: &SimState, ids: impl Iterator<Item = &'a str>) -> ApiResult<()> {
    if !state.config.strict.reject_duplicate_batch_ids {
        return Ok(());
    }
    let mut seen = HashSet::new();
    let duplicates: Vec<&str> = ids.filter(|id| !seen.insert(*id)).collect();
    if duplicates.is_empty() {
        return Ok(());
    }
    Err(ApiError::validation(format!("Duplicate IDs found in batch input: {duplicates:?}")))
}

fn trace_context(trace: Option<&str>, id: Option<&str>) -> Value {
    match (trace, id) {
        (Some(trace), _) => json!({"objectWriteTraceId": [trace]}),
        (None, Some(id)) => json!({"id": [id]}),
        (None, None) => json!({}),
    }
}

type Checked = (write::Values, Vec<assoc_api::Link>);

fn check_create(
    store: &Store,
    object: &ObjectType,
    input: &CreateInput,
    ctx: &WriteCtx,
    keys: &mut HashSet<(String, String)>,
) -> ApiResult<Checked> {
    let table = store.table(&object.type_id);
    let values =
        write::check_values(table, object, &input.properties, None, &store.blocked_emails)?;
    write::check_required(object, &values)?;
    write::check_unique(store, object, None, &values, ctx, Some(keys))?;
    let links = assoc_api::check_inputs(store, object, &input.associations)?;
    Ok((values, links))
}

fn insert(store: &mut Store, object: &ObjectType, checked: Checked, ctx: &WriteCtx) -> Value {
    let (values, links) = checked;
    let id = write::insert(store, object, values, ctx);
    assoc_api::link_all(store, object, id, &links, ctx);
    render::written(store.record(&object.type_id, id).expect("just created"))
}

/// Without a distinct `objectWriteTraceId` on every input, HubSpot fails the whole batch on
/// the first bad input.
fn all_or_nothing(state: &SimState, inputs: &[CreateInput]) -> bool {
    let traces: HashSet<&str> = inputs.iter().filter_map(|i| i.trace_id.as_deref()).collect();
    state.config.strict.batch_create_all_or_nothing && traces.len() != inputs.len()
}

/// `POST …/batch/create`: 201, or 207 when inputs carry trace ids and some fail.
pub async fn create(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<Inputs<CreateInput>>,
) -> ApiResult<Response> {
    check_size(body.inputs.len())?;
    let ctx = state.write_ctx(Source::api(caller.app_id));
    let whole = all_or_nothing(&state, &body.inputs);
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let mut keys = HashSet::new();
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        if whole {
            let checked = body
                .inputs
                .iter()
                .map(|i| check_create(store, &object, i, &ctx, &mut keys))
                .collect::<ApiResult<Vec<_>>>()?;
            results = checked.into_iter().map(|c| insert(store, &object, c, &ctx)).collect();
        } else {
            for input in &body.inputs {
                match check_create(store, &object, input, &ctx, &mut keys) {
                    Ok(checked) => results.push(insert(store, &object, checked, &ctx)),
                    Err(err) => {
                        errors.push(err.batch_item(trace_context(input.trace_id.as_deref(), None)))
                    }
                }
            }
        }
        let written = results.len();
        let (status, body) = envelope(results, errors, ctx.now, StatusCode::CREATED);
        Ok(wrote(status, body, written))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadBody {
    inputs: Vec<assoc_api::IdRef>,
    #[serde(default)]
    properties: Option<Vec<String>>,
    #[serde(default)]
    properties_with_history: Vec<String>,
    id_property: Option<String>,
}

/// `POST …/batch/read`: found records, plus one `OBJECT_NOT_FOUND` error naming the rest.
pub async fn read(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    params: Params,
    Body(body): Body<ReadBody>,
) -> ApiResult<Response> {
    check_size(body.inputs.len())?;
    let archived = params.flag("archived");
    let now = state.clock.now_millis();
    state.read_store(|store| {
        let object = store.object_type(&segment)?;
        let properties = body.properties.clone().filter(|p| !p.is_empty());
        let projection = Projection {
            properties,
            with_history: body.properties_with_history.clone(),
            associations: Vec::new(),
        };
        let (mut results, mut missing) = (Vec::new(), Vec::new());
        for input in &body.inputs {
            let found = store.find(&object, body.id_property.as_deref(), &input.id)?;
            match found
                .and_then(|id| store.record(&object.type_id, id))
                .filter(|r| r.archived() == archived)
            {
                Some(record) => results.push(render::read(&object, record, &projection)),
                None => missing.push(input.id.clone()),
            }
        }
        let errors =
            if missing.is_empty() { Vec::new() } else { vec![not_found_item(&object, missing)] };
        let (status, body) = envelope(results, errors, now, StatusCode::OK);
        Ok((status, axum::Json(body)).into_response())
    })
}

fn not_found_item(object: &ObjectType, ids: Vec<String>) -> Value {
    let message = format!(
        "Could not get some {} objects, they may be deleted or not exist. Check that ids are valid.",
        object.upper()
    );
    ApiError::not_found(message).batch_item(json!({"ids": ids}))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInput {
    #[serde(deserialize_with = "super::assoc_api::IdRef::text")]
    id: String,
    id_property: Option<String>,
    #[serde(default)]
    properties: Map<String, Value>,
    object_write_trace_id: Option<String>,
}

fn update_one(
    store: &mut Store,
    object: &ObjectType,
    input: &UpdateInput,
    ctx: &WriteCtx,
    strict_email: bool,
) -> ApiResult<Value> {
    if strict_email && object.type_id == "0-1" && input.id_property.as_deref() == Some("email") {
        return Err(ApiError::validation(
            "batch update takes record ids; idProperty email is not supported",
        ));
    }
    let id = super::objects::locate(store, object, &input.id, input.id_property.as_deref(), false)?;
    write::update(store, object, id, &input.properties, ctx)?;
    Ok(render::written(store.record(&object.type_id, id).expect("just updated")))
}

/// `POST …/batch/update`: 200, or 207 with an error per failed input.
pub async fn update(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<Inputs<UpdateInput>>,
) -> ApiResult<Response> {
    check_size(body.inputs.len())?;
    check_distinct(&state, body.inputs.iter().map(|i| i.id.as_str()))?;
    let ctx = state.write_ctx(Source::api(caller.app_id));
    let strict_email = state.config.strict.reject_email_id_property_on_batch_update;
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for input in &body.inputs {
            match update_one(store, &object, input, &ctx, strict_email) {
                Ok(result) => results.push(result),
                Err(err) => errors.push(err.batch_item(trace_context(
                    input.object_write_trace_id.as_deref(),
                    Some(&input.id),
                ))),
            }
        }
        let written = results.len();
        let (status, body) = envelope(results, errors, ctx.now, StatusCode::OK);
        Ok(wrote(status, body, written))
    })
}

fn upsert_one(
    store: &mut Store,
    object: &ObjectType,
    input: &UpdateInput,
    ctx: &WriteCtx,
) -> ApiResult<Value> {
    let id_property = input
        .id_property
        .as_deref()
        .ok_or_else(|| ApiError::validation("idProperty is required for upsert"))?;
    let found = store.find(object, Some(id_property), &input.id)?;
    let (id, new) = match found {
        Some(id) if store.record(&object.type_id, id).is_some_and(|r| r.archived()) => {
            return Err(ApiError::conflict(format!(
                "An archived {} holds {id_property} `{}`. Existing ID: {id}",
                object.singular, input.id
            )));
        }
        Some(id) => {
            write::update(store, object, id, &input.properties, ctx)?;
            (id, false)
        }
        None => {
            let mut properties = input.properties.clone();
            properties.insert(id_property.to_string(), json!(input.id));
            (write::create(store, object, &properties, ctx)?, true)
        }
    };
    let mut result = render::written(store.record(&object.type_id, id).expect("just written"));
    result["new"] = json!(new);
    Ok(result)
}

/// `POST …/batch/upsert`: match on `idProperty`, update or create; `new` per result.
pub async fn upsert(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<Inputs<UpdateInput>>,
) -> ApiResult<Response> {
    check_size(body.inputs.len())?;
    check_distinct(&state, body.inputs.iter().map(|i| i.id.as_str()))?;
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for input in &body.inputs {
            match upsert_one(store, &object, input, &ctx) {
                Ok(result) => results.push(result),
                Err(err) => errors.push(err.batch_item(trace_context(
                    input.object_write_trace_id.as_deref(),
                    Some(&input.id),
                ))),
            }
        }
        let written = results.len();
        let (status, body) = envelope(results, errors, ctx.now, StatusCode::OK);
        Ok(wrote(status, body, written))
    })
}

/// `POST …/batch/archive`: 204; unknown ids are ignored.
pub async fn archive(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<Inputs<assoc_api::IdRef>>,
) -> ApiResult<Response> {
    check_size(body.inputs.len())?;
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let mut written = 0;
        for input in &body.inputs {
            if let Some(id) = store.find(&object, None, &input.id)? {
                write::archive(store, &object, id, &ctx);
                written += 1;
            }
        }
        let mut response = StatusCode::NO_CONTENT.into_response();
        response.extensions_mut().insert(sim_kit::stats::RecordsWritten(written));
        Ok(response)
    })
}
