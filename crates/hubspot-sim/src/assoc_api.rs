//! Associations v4 endpoints: labels, batch create/default/read/archive, and per-record
//! list, put and delete. Association changes never bump the last-modified date, as in HubSpot.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::SimState;
pub use super::assoc_links::{
    AssocInput, IdRef, Link, TypeSpec, associate, check_inputs, disassociate, link_all,
};
use super::assoc_links::{existing, find_label, invalid_type, labels_between, pair};
use super::associations::AssocLabel;
use super::auth::Caller;
use super::batch::envelope;
use super::error::{ApiError, ApiResult};
use super::render::v4_types;
use super::routes::{Body, Params, ok, wrote};
use super::store::{Source, Store};
use super::types::ObjectType;
use super::write::WriteCtx;

fn labels_json(labels: &[AssocLabel]) -> Value {
    let results: Vec<Value> = labels
        .iter()
        .map(|l| json!({"category": l.category, "typeId": l.type_id, "label": l.label}))
        .collect();
    json!({"results": results})
}

/// `GET …/{from}/{to}/labels`.
pub async fn list_labels(
    State(state): State<SimState>,
    Path((from, to)): Path<(String, String)>,
) -> ApiResult<Response> {
    state.read_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        Ok(ok(labels_json(&labels_between(store, &from, &to))))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelInput {
    label: String,
    name: Option<String>,
    inverse_label: Option<String>,
}

/// `POST …/{from}/{to}/labels`: a USER_DEFINED association type.
pub async fn create_label(
    State(state): State<SimState>,
    Path((from, to)): Path<(String, String)>,
    Body(input): Body<LabelInput>,
) -> ApiResult<Response> {
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        let label = store.associations.define(
            &from.type_id,
            &to.type_id,
            Some(input.label),
            input.inverse_label,
            input.name,
            "USER_DEFINED",
        );
        Ok(ok(labels_json(&[label])))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelUpdate {
    association_type_id: u32,
    label: String,
}

/// `PUT …/{from}/{to}/labels`: 204.
pub async fn update_label(
    State(state): State<SimState>,
    Path((from, to)): Path<(String, String)>,
    Body(input): Body<LabelUpdate>,
) -> ApiResult<Response> {
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        if !store.associations.relabel(
            &from.type_id,
            &to.type_id,
            input.association_type_id,
            input.label,
        ) {
            return Err(invalid_type(input.association_type_id));
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

/// `DELETE …/{from}/{to}/labels/{typeId}`: 204.
pub async fn delete_label(
    State(state): State<SimState>,
    Path((from, to, type_id)): Path<(String, String, u32)>,
) -> ApiResult<Response> {
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        if !store.associations.undefine(&from.type_id, &to.type_id, type_id) {
            return Err(invalid_type(type_id));
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

#[derive(Debug, Deserialize)]
pub struct Inputs<T> {
    pub inputs: Vec<T>,
}

#[derive(Debug, Deserialize)]
pub struct PairInput {
    from: IdRef,
    to: IdRef,
    #[serde(default)]
    types: Vec<TypeSpec>,
}

fn check_size(count: usize, max: usize) -> ApiResult<()> {
    if count > max {
        return Err(ApiError::validation(format!(
            "Batch size {count} is over the limit of {max} inputs"
        )));
    }
    Ok(())
}

fn pair_result(
    from: &ObjectType,
    from_id: u64,
    to: &ObjectType,
    to_id: u64,
    labels: &[AssocLabel],
) -> Value {
    let names: Vec<&str> = labels.iter().filter_map(|l| l.label.as_deref()).collect();
    json!({"fromObjectTypeId": from.type_id, "fromObjectId": from_id.to_string(),
           "toObjectTypeId": to.type_id, "toObjectId": to_id.to_string(), "labels": names})
}

fn create_one(
    store: &mut Store,
    from: &ObjectType,
    to: &ObjectType,
    input: &PairInput,
    ctx: &WriteCtx,
) -> ApiResult<Value> {
    let from_id = existing(store, from, &input.from.id)?;
    let to_id = existing(store, to, &input.to.id)?;
    let labels = input
        .types
        .iter()
        .map(|s| find_label(store, from, to, s))
        .collect::<ApiResult<Vec<_>>>()?;
    for label in &labels {
        associate(store, (from, from_id), (to, to_id), label, ctx);
    }
    Ok(pair_result(from, from_id, to, to_id, &labels))
}

/// `POST /crm/v4/associations/{from}/{to}/batch/create`: 201, or 207 with errors.
pub async fn batch_create(
    State(state): State<SimState>,
    Path((from, to)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<Inputs<PairInput>>,
) -> ApiResult<Response> {
    check_size(body.inputs.len(), state.config.strict.association_batch_limit)?;
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for input in &body.inputs {
            match create_one(store, &from, &to, input, &ctx) {
                Ok(result) => results.push(result),
                Err(err) => errors.push(
                    err.batch_item(json!({"fromId": [input.from.id], "toId": [input.to.id]})),
                ),
            }
        }
        let written = results.len();
        let (status, body) = envelope(results, errors, ctx.now, StatusCode::CREATED);
        Ok(wrote(status, body, written))
    })
}

fn default_label(store: &Store, from: &ObjectType, to: &ObjectType) -> ApiResult<AssocLabel> {
    labels_between(store, from, to).into_iter().next().ok_or_else(|| {
        ApiError::validation(format!("{} and {} cannot be associated", from.name, to.name))
    })
}

fn default_one(
    store: &mut Store,
    from: &ObjectType,
    to: &ObjectType,
    from_raw: &str,
    to_raw: &str,
    ctx: &WriteCtx,
) -> ApiResult<Value> {
    let from_id = existing(store, from, from_raw)?;
    let to_id = existing(store, to, to_raw)?;
    let label = default_label(store, from, to)?;
    associate(store, (from, from_id), (to, to_id), &label, ctx);
    Ok(json!({"from": {"id": from_id.to_string()}, "to": {"id": to_id.to_string()},
              "associationSpec": {"associationCategory": label.category, "associationTypeId": label.type_id}}))
}

/// `POST …/batch/associate/default`.
pub async fn batch_default(
    State(state): State<SimState>,
    Path((from, to)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<Inputs<PairInput>>,
) -> ApiResult<Response> {
    check_size(body.inputs.len(), state.config.strict.association_batch_limit)?;
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for input in &body.inputs {
            match default_one(store, &from, &to, &input.from.id, &input.to.id, &ctx) {
                Ok(result) => results.push(result),
                Err(err) => errors.push(err.batch_item(json!({"fromId": [input.from.id]}))),
            }
        }
        let written = results.len();
        let (status, body) = envelope(results, errors, ctx.now, StatusCode::OK);
        Ok(wrote(status, body, written))
    })
}

fn targets_json(store: &Store, from: &ObjectType, id: u64, to: &ObjectType) -> Vec<Value> {
    let labels = labels_between(store, from, to);
    store
        .associations
        .of((&from.type_id, id), &to.type_id)
        .iter()
        .map(|(to_id, types)| json!({"toObjectId": to_id.to_string(), "associationTypes": v4_types(types, &labels)}))
        .collect()
}

#[derive(Debug, Deserialize)]
pub struct ReadInput {
    #[serde(deserialize_with = "IdRef::text")]
    id: String,
    after: Option<String>,
}

const READ_PAGE: usize = 500;

fn no_associations(from: &ObjectType, to: &ObjectType, id: &str) -> Value {
    let message = format!("No {} is associated with {} {id}.", to.singular, from.singular);
    let mut err = ApiError::not_found(message);
    err.sub_category = Some("crm.associations.NO_ASSOCIATIONS_FOUND".into());
    err.batch_item(json!({"fromObjectId": [id]}))
}

/// One input's page of targets (500 at most), with `paging` when more remain.
fn read_one(store: &Store, from: &ObjectType, to: &ObjectType, input: &ReadInput) -> Option<Value> {
    let id = input.id.parse::<u64>().ok().and_then(|id| store.table(&from.type_id).resolve(id))?;
    let targets = targets_json(store, from, id, to);
    let skip = input.after.as_deref().and_then(|a| a.parse::<usize>().ok()).unwrap_or(0);
    if targets.is_empty() {
        return None;
    }
    let page: Vec<Value> = targets.iter().skip(skip).take(READ_PAGE).cloned().collect();
    let mut result = json!({"from": {"id": input.id}, "to": page});
    if skip + READ_PAGE < targets.len() {
        result["paging"] = json!({"next": {"after": (skip + READ_PAGE).to_string()}});
    }
    Some(result)
}

/// `POST …/batch/read`: at most 1,000 inputs; records without associations are errors.
pub async fn batch_read(
    State(state): State<SimState>,
    Path((from, to)): Path<(String, String)>,
    Body(body): Body<Inputs<ReadInput>>,
) -> ApiResult<Response> {
    check_size(body.inputs.len(), 1000)?;
    let now = state.clock.now_millis();
    state.read_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for input in &body.inputs {
            match read_one(store, &from, &to, input) {
                Some(result) => results.push(result),
                None => errors.push(no_associations(&from, &to, &input.id)),
            }
        }
        let (status, body) = envelope(results, errors, now, StatusCode::OK);
        Ok((status, axum::Json(body)).into_response())
    })
}

#[derive(Debug, Deserialize)]
pub struct ArchiveInput {
    from: IdRef,
    to: Vec<IdRef>,
}

fn parse_id(raw: &str) -> Option<u64> {
    raw.parse().ok()
}

/// `POST …/batch/archive`: removes every association type between each pair; 204.
pub async fn batch_archive(
    State(state): State<SimState>,
    Path((from, to)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<Inputs<ArchiveInput>>,
) -> ApiResult<Response> {
    check_size(body.inputs.len(), state.config.strict.association_batch_limit)?;
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        for input in &body.inputs {
            let Some(from_id) = parse_id(&input.from.id) else { continue };
            for target in input.to.iter().filter_map(|t| parse_id(&t.id)) {
                disassociate(store, (&from, from_id), (&to, target), None, &ctx);
            }
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

/// `POST …/batch/labels/archive`: removes only the given types; removing the unlabeled
/// type removes every label between the pair. 204.
pub async fn batch_archive_labels(
    State(state): State<SimState>,
    Path((from, to)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    Body(body): Body<Inputs<PairInput>>,
) -> ApiResult<Response> {
    check_size(body.inputs.len(), state.config.strict.association_batch_limit)?;
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        for input in &body.inputs {
            let (Some(from_id), Some(to_id)) = (parse_id(&input.from.id), parse_id(&input.to.id))
            else {
                continue;
            };
            let labels = input
                .types
                .iter()
                .map(|s| find_label(store, &from, &to, s))
                .collect::<ApiResult<Vec<_>>>()?;
            let all = labels.iter().any(|l| l.label.is_none() && l.category == "HUBSPOT_DEFINED");
            disassociate(
                store,
                (&from, from_id),
                (&to, to_id),
                (!all).then_some(labels.as_slice()),
                &ctx,
            );
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}

/// `GET /crm/v4/objects/{type}/{id}/associations/{toType}`: pages of at most 500.
pub async fn list_for_record(
    State(state): State<SimState>,
    Path((from, raw, to)): Path<(String, String, String)>,
    params: Params,
) -> ApiResult<Response> {
    let limit = params.number("limit")?.unwrap_or(500).clamp(1, 500);
    let after = params.number("after")?.unwrap_or(0);
    state.read_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        let id = super::objects::locate(store, &from, &raw, None, false)?;
        let all = targets_json(store, &from, id, &to);
        let page: Vec<Value> = all.iter().skip(after).take(limit).cloned().collect();
        let mut body = json!({"results": page});
        if after + limit < all.len() {
            body["paging"] = json!({"next": {"after": (after + limit).to_string()}});
        }
        Ok(ok(body))
    })
}

/// `PUT /crm/v4/objects/{type}/{id}/associations/{toType}/{toId}` with types: 201.
pub async fn put_labelled(
    State(state): State<SimState>,
    Path((from, raw, to, to_raw)): Path<(String, String, String, String)>,
    Extension(caller): Extension<Caller>,
    Body(types): Body<Vec<TypeSpec>>,
) -> ApiResult<Response> {
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        let input = PairInput { from: IdRef { id: raw }, to: IdRef { id: to_raw }, types };
        let result = create_one(store, &from, &to, &input, &ctx)?;
        Ok(wrote(StatusCode::CREATED, result, 1))
    })
}

/// `PUT …/associations/default/{toType}/{toId}`: 200 with the default association made.
pub async fn put_default(
    State(state): State<SimState>,
    Path((from, raw, to, to_raw)): Path<(String, String, String, String)>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Response> {
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        let result = default_one(store, &from, &to, &raw, &to_raw, &ctx)?;
        let (status, body) = envelope(vec![result], Vec::new(), ctx.now, StatusCode::OK);
        Ok(wrote(status, body, 1))
    })
}

/// `DELETE …/associations/{toType}/{toId}`: removes every type between the two; 204.
pub async fn delete_between(
    State(state): State<SimState>,
    Path((from, raw, to, to_raw)): Path<(String, String, String, String)>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Response> {
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let (from, to) = pair(store, &from, &to)?;
        if let (Some(a), Some(b)) = (parse_id(&raw), parse_id(&to_raw)) {
            disassociate(store, (&from, a), (&to, b), None, &ctx);
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}
