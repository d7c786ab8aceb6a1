//! Single-record sObject REST: describe, create, read, update, delete, read by external id
//! and upsert by external id (201, 200 `created:false` on v46.0+ or 204 before, 300).

use axum::body::Bytes;
use axum::extract::{MatchedPath, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::DateTime;
use serde_json::{Value, json};

use super::{Params, SfPath, api_version, call_client, count_written, json_object, object};
use crate::config::{MultipleChoicesBody, UpdateOnlyMiss};
use crate::error::{SfError, json_response};
use crate::ids;
use crate::render;
use crate::schema::{FieldDef, FieldType, ObjectDef, describe};
use crate::state::{SfState, SharedState};
use crate::store::{Record, Upserted};
use crate::value::parse_datetime;
use sim_kit::stats::RecordsRead;

type ObjectPath = SfPath<(String, String)>;
type RecordPath = SfPath<(String, String, String)>;
type ExternalPath = SfPath<(String, String, String, String)>;

#[derive(serde::Deserialize)]
pub struct FieldsParam {
    fields: Option<String>,
}

#[derive(serde::Deserialize)]
pub struct UpsertParams {
    #[serde(default, rename = "updateOnly")]
    update_only: bool,
}

/// `GET /sobjects/`.
pub async fn global_describe(
    State(state): State<SharedState>,
    SfPath(version): SfPath<String>,
) -> Response {
    json_response(StatusCode::OK, &describe::global(&state.store().schema, &version))
}

/// `GET /sobjects/{T}/describe`.
pub async fn describe_object(
    State(state): State<SharedState>,
    SfPath((v, t)): ObjectPath,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    Ok(json_response(StatusCode::OK, &describe::object(&object, &v)))
}

/// `GET /sobjects/{T}/`: basic information.
pub async fn basic_info(
    State(state): State<SharedState>,
    SfPath((v, t)): ObjectPath,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    let body =
        json!({ "objectDescribe": describe::object_summary(&object, &v), "recentItems": [] });
    Ok(json_response(StatusCode::OK, &body))
}

/// `POST /sobjects/{T}/`.
pub async fn create(
    State(state): State<SharedState>,
    SfPath((_, t)): ObjectPath,
    method: Method,
    matched: MatchedPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    let input = json_object(&body)?;
    let actor = state.api_actor(call_client(&headers));
    let id = state.store().create(&object, &input, &actor, state.now())?;
    count_written(&state, &method, &matched, 1);
    Ok(json_response(StatusCode::CREATED, &json!({"id": id, "success": true, "errors": []})))
}

/// `POST /sobjects/{T}/Id` (v37.0+): a plain insert addressed as an upsert on `Id` with a
/// null value. Elsewhere, and before v37.0 when version gates are on, the path names a record
/// and POST is not one of its methods.
pub async fn create_via_id(
    state: State<SharedState>,
    SfPath((v, t, field)): RecordPath,
    method: Method,
    matched: MatchedPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SfError> {
    let too_old = state.config.enforce_version_gates && api_version(&v).is_some_and(|n| n < 37.0);
    if !field.eq_ignore_ascii_case("Id") || too_old {
        return Err(not_allowed("POST", "GET,PATCH,DELETE"));
    }
    create(state, SfPath((v, t)), method, matched, headers, body).await
}

fn not_allowed(method: &str, allowed: &str) -> SfError {
    let message = format!("HTTP Method '{method}' not allowed. Allowed are {allowed}");
    SfError::new(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", message)
}

/// The record id in a path, or Salesforce's answer to a segment that is not an id. The
/// segment `Id` names the resource `sobjects/{T}/Id`, which allows GET, HEAD and POST:
/// PATCH and DELETE of it answer 405, as Salesforce answers clients that upsert on `Id`
/// without a value (restforce#263, jsforce#667).
fn record_id(segment: &str, method: &Method) -> Result<String, SfError> {
    if segment.eq_ignore_ascii_case("Id") && (*method == Method::PATCH || *method == Method::DELETE)
    {
        return Err(not_allowed(method.as_str(), "GET,HEAD,POST"));
    }
    ids::normalize(segment).ok_or_else(|| SfError::no_such_external_id_field(segment))
}

/// The canonical names in a `fields=A,B` parameter.
fn field_list(object: &ObjectDef, fields: Option<&str>) -> Result<Option<Vec<String>>, SfError> {
    let Some(list) = fields.filter(|f| !f.trim().is_empty()) else { return Ok(None) };
    let names = list.split(',').map(|name| {
        let name = name.trim();
        let def = object.field(name).ok_or_else(|| SfError::invalid_field(&object.name, name))?;
        Ok(def.name.clone())
    });
    names.collect::<Result<Vec<_>, _>>().map(Some)
}

/// `GET /sobjects/{T}/{id}[?fields=]`.
pub async fn read(
    State(state): State<SharedState>,
    SfPath((v, t, id)): RecordPath,
    Params(params): Params<FieldsParam>,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    let id = record_id(&id, &Method::GET)?;
    let fields = field_list(&object, params.fields.as_deref())?;
    let store = state.store();
    let record = store.live(&object, &id)?;
    let body = render::record(&object, record, fields.as_deref(), &v);
    Ok(RecordsRead::mark(1, json_response(StatusCode::OK, &body)))
}

/// `PATCH /sobjects/{T}/{id}`: 204.
pub async fn update(
    State(state): State<SharedState>,
    SfPath((_, t, id)): RecordPath,
    method: Method,
    matched: MatchedPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    let id = record_id(&id, &method)?;
    let input = json_object(&body)?;
    let actor = state.api_actor(call_client(&headers));
    let mut store = state.store();
    check_unmodified_since(&headers, store.live_for_write(&object, &id)?)?;
    store.update(&object, &id, &input, &actor, state.now())?;
    drop(store);
    count_written(&state, &method, &matched, 1);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `If-Unmodified-Since` (RFC 1123): 412 if the record changed after that instant.
fn check_unmodified_since(headers: &HeaderMap, record: &Record) -> Result<(), SfError> {
    let Some(since) = headers.get("if-unmodified-since").and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let since = DateTime::parse_from_rfc2822(since).map_err(|_| {
        SfError::bad_request("INVALID_HEADER_TYPE", "If-Unmodified-Since must be an RFC 1123 date")
    })?;
    let modified = record.get("LastModifiedDate").as_str().and_then(parse_datetime);
    if modified.is_some_and(|at| at.timestamp() > since.timestamp()) {
        let message = format!("The requested resource has been modified since {since}");
        return Err(SfError::new(StatusCode::PRECONDITION_FAILED, "PRECONDITION_FAILED", message));
    }
    Ok(())
}

/// `DELETE /sobjects/{T}/{id}`: 204; the record goes to the recycle bin.
pub async fn delete(
    State(state): State<SharedState>,
    SfPath((_, t, id)): RecordPath,
    method: Method,
    matched: MatchedPath,
    headers: HeaderMap,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    let id = record_id(&id, &method)?;
    let actor = state.api_actor(call_client(&headers));
    state.store().delete(Some(&object), &id, &actor, state.now())?;
    count_written(&state, &method, &matched, 1);
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The External ID field named in a path (or `Id`), or 404 `NOT_FOUND`.
pub fn external_field<'a>(object: &'a ObjectDef, name: &str) -> Result<&'a FieldDef, SfError> {
    object
        .field(name)
        .filter(|f| f.external_id || f.kind == FieldType::Id)
        .ok_or_else(|| SfError::no_such_external_id_field(name))
}

/// The External ID field an upsert is keyed on, or 404 `NOT_FOUND`. `Id` is refused:
/// Salesforce's REST upserts, single and collections, take external ids only ("In REST API,
/// upsert uses external ids, not record ids"; collections: "Only external ids are
/// supported. Don't use record ids"). Its one exception, `POST sobjects/{T}/Id` with no
/// value, is a plain insert.
pub fn upsert_key_field<'a>(object: &'a ObjectDef, name: &str) -> Result<&'a FieldDef, SfError> {
    let field = external_field(object, name)?;
    match field.kind {
        FieldType::Id => Err(SfError::no_such_external_id_field(&field.name)),
        _ => Ok(field),
    }
}

/// `GET /sobjects/{T}/{ExtField}/{value}`.
pub async fn read_by_external_id(
    State(state): State<SharedState>,
    SfPath((v, t, field, value)): ExternalPath,
    Params(params): Params<FieldsParam>,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    let field = external_field(&object, &field)?;
    let fields = field_list(&object, params.fields.as_deref())?;
    let store = state.store();
    let matches = store.find_indexed(&object.name, &field.name, &Value::String(value));
    match matches.as_slice() {
        [] => Err(SfError::not_found()),
        [record] => {
            let body = render::record(&object, record, fields.as_deref(), &v);
            Ok(RecordsRead::mark(1, json_response(StatusCode::OK, &body)))
        }
        several => {
            let ids = several.iter().map(|r| r.id());
            Ok(multiple_choices(&state, &v, &object, ids))
        }
    }
}

/// The 300 answer naming the records that hold one external id, in the configured shape.
fn multiple_choices<'a>(
    state: &SfState,
    version: &str,
    object: &ObjectDef,
    ids: impl Iterator<Item = &'a str>,
) -> Response {
    let url = |id: &str| render::record_url(version, &object.name, id);
    let body: Vec<Value> = match state.config.multiple_choices_body {
        MultipleChoicesBody::RecordUrls => ids.map(|id| json!(url(id))).collect(),
        MultipleChoicesBody::Records => ids
            .map(|id| json!({"attributes": {"type": object.name, "url": url(id)}, "Id": id}))
            .collect(),
    };
    json_response(StatusCode::MULTIPLE_CHOICES, &Value::Array(body))
}

/// `PATCH /sobjects/{T}/{ExtField}/{value}`: upsert by external id.
#[allow(clippy::too_many_arguments)]
pub async fn upsert(
    State(state): State<SharedState>,
    SfPath((v, t, field, value)): ExternalPath,
    Params(params): Params<UpsertParams>,
    method: Method,
    matched: MatchedPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SfError> {
    let object = object(&state, &t)?;
    let field = upsert_key_field(&object, &field)?.clone();
    let input = json_object(&body)?;
    check_body_key(&field, &input, &value)?;
    let actor = state.api_actor(call_client(&headers));
    let key = Value::String(value);
    let mut store = state.store();
    if params.update_only && store.find_indexed(&object.name, &field.name, &key).is_empty() {
        return Err(update_only_miss(&state, &object, &field, &key));
    }
    let outcome = store.upsert(&object, &field, &key, &input, &actor, state.now())?;
    drop(store);
    if !matches!(outcome, Upserted::Ambiguous(_)) {
        count_written(&state, &method, &matched, 1);
    }
    Ok(upsert_response(&state, &v, &object, outcome))
}

/// The configured answer to an `updateOnly` upsert whose key no record holds.
fn update_only_miss(state: &SfState, object: &ObjectDef, field: &FieldDef, key: &Value) -> SfError {
    match state.config.update_only_miss {
        UpdateOnlyMiss::NotFound => SfError::not_found(),
        UpdateOnlyMiss::InvalidCrossReferenceKey => {
            let key = key.as_str().unwrap_or_default();
            let message = format!(
                "updateOnly: no {} record has {} = {key}, and none is created",
                object.name, field.name
            );
            SfError::bad_request("INVALID_CROSS_REFERENCE_KEY", message).with_fields(&[&field.name])
        }
    }
}

/// The body may repeat the external id only with the value in the URL.
fn check_body_key(
    field: &FieldDef,
    input: &serde_json::Map<String, Value>,
    value: &str,
) -> Result<(), SfError> {
    let repeated = input.iter().find(|(k, _)| k.eq_ignore_ascii_case(&field.name));
    match repeated {
        Some((_, Value::String(s))) if s.eq_ignore_ascii_case(value) => Ok(()),
        Some(_) => {
            let message =
                format!("The external ID field {} in the body must match the URL", field.name);
            Err(SfError::bad_request("INVALID_FIELD", message).with_fields(&[&field.name]))
        }
        None => Ok(()),
    }
}

fn upsert_response(
    state: &SfState,
    version: &str,
    object: &ObjectDef,
    outcome: Upserted,
) -> Response {
    let modern = api_version(version).is_some_and(|v| v >= 46.0);
    match outcome {
        Upserted::Created(id) => {
            let body = json!({"id": id, "success": true, "errors": [], "created": true});
            json_response(StatusCode::CREATED, &body)
        }
        Upserted::Updated(id) if modern => {
            let body = json!({"id": id, "success": true, "errors": [], "created": false});
            json_response(StatusCode::OK, &body)
        }
        Upserted::Updated(_) => StatusCode::NO_CONTENT.into_response(),
        Upserted::Ambiguous(ids) => {
            multiple_choices(state, version, object, ids.iter().map(String::as_str))
        }
    }
}
