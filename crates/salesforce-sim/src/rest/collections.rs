//! sObject Collections: create, update, upsert and delete up to 200 records in one call,
//! per-record results in request order, `allOrNone` with rollback; and retrieve by ids.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{MatchedPath, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::records::upsert_key_field;
use super::{Params, SfPath, api_version, call_client, count_written, json_object, object};
use crate::error::{SfError, json_response};
use crate::ids;
use crate::render;
use crate::state::{SfState, SharedState};
use crate::store::{Actor, Store, Upserted};
use crate::value::index_key;
use sim_kit::stats::RecordsRead;

/// Most records one collections call takes.
pub const MAX_RECORDS: usize = 200;
/// Most ids a retrieve takes in a POST body.
const MAX_RETRIEVE: usize = 2000;

type ItemResult = Result<Value, (Option<String>, SfError)>;

struct Batch {
    all_or_none: bool,
    records: Vec<Map<String, Value>>,
}

fn batch(body: &[u8]) -> Result<Batch, SfError> {
    let mut body = json_object(body)?;
    let all_or_none = body.get("allOrNone").and_then(Value::as_bool).unwrap_or(false);
    let records = match body.remove("records") {
        Some(Value::Array(records)) => records,
        _ => return Err(SfError::json_parser("records is required and must be an array")),
    };
    if records.len() > MAX_RECORDS {
        let message = format!(
            "record limit reached. cannot submit more than {MAX_RECORDS} records into this call"
        );
        return Err(SfError::bad_request("EXCEEDED_ID_LIMIT", message));
    }
    let records = records
        .into_iter()
        .map(|r| match r {
            Value::Object(map) => Ok(map),
            _ => Err(SfError::json_parser("each record must be a JSON object")),
        })
        .collect::<Result<_, _>>()?;
    Ok(Batch { all_or_none, records })
}

fn gate(state: &SfState, version: &str, minimum: f64) -> Result<(), SfError> {
    let too_old = api_version(version).is_some_and(|v| v < minimum);
    if state.config.enforce_version_gates && too_old { Err(SfError::not_found()) } else { Ok(()) }
}

fn type_of(record: &Map<String, Value>) -> Option<&str> {
    record.get("attributes")?.get("type")?.as_str()
}

/// Runs `apply` on each record under one store lock; with `all_or_none`, any failure
/// rolls every change back and marks the others `ALL_OR_NONE_OPERATION_ROLLED_BACK`.
fn run_batch<F>(
    state: &SfState,
    all_or_none: bool,
    count: usize,
    mut apply: F,
) -> (Vec<ItemResult>, usize)
where
    F: FnMut(&mut Store, usize) -> ItemResult,
{
    let mut store = state.store();
    if all_or_none {
        store.begin();
    }
    let results: Vec<ItemResult> = (0..count).map(|i| apply(&mut store, i)).collect();
    let failed = results.iter().any(Result::is_err);
    if all_or_none && failed {
        store.rollback();
        return (results.into_iter().map(rolled_back).collect(), 0);
    }
    store.commit();
    let written = results.iter().filter(|r| r.is_ok()).count();
    (results, written)
}

fn rolled_back(result: ItemResult) -> ItemResult {
    match result {
        Err(failure) => Err(failure),
        Ok(_) => {
            let message = "Record rolled back because not all records were valid and the request was using AllOrNone header";
            Err((None, SfError::bad_request("ALL_OR_NONE_OPERATION_ROLLED_BACK", message)))
        }
    }
}

fn respond(results: Vec<ItemResult>) -> Response {
    let items: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(value) => value,
            Err((id, err)) => {
                let mut item = json!({"success": false, "errors": [err.item()]});
                if let Some(id) = id {
                    item["id"] = Value::String(id);
                }
                item
            }
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(items))
}

fn success(id: &str) -> Value {
    json!({"id": id, "success": true, "errors": []})
}

/// `POST /composite/sobjects`: create; records may be of several types.
pub async fn create(
    State(state): State<SharedState>,
    SfPath(version): SfPath<String>,
    method: Method,
    matched: MatchedPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SfError> {
    gate(&state, &version, 42.0)?;
    let batch = batch(&body)?;
    let actor = state.api_actor(call_client(&headers));
    let now = state.now();
    let (results, written) =
        run_batch(&state, batch.all_or_none, batch.records.len(), |store, i| {
            let record = &batch.records[i];
            create_one(store, record, &actor, now).map(|id| success(&id)).map_err(|e| (None, e))
        });
    count_written(&state, &method, &matched, written);
    Ok(respond(results))
}

fn create_one(
    store: &mut Store,
    record: &Map<String, Value>,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String, SfError> {
    let object = typed_object(store, record)?;
    if record.keys().any(|k| k.eq_ignore_ascii_case("Id")) {
        let message = "cannot specify Id in an insert call";
        return Err(
            SfError::bad_request("INVALID_FIELD_FOR_INSERT_UPDATE", message).with_fields(&["Id"])
        );
    }
    store.create(&object, record, actor, now)
}

fn typed_object(
    store: &Store,
    record: &Map<String, Value>,
) -> Result<std::sync::Arc<crate::schema::ObjectDef>, SfError> {
    let name = type_of(record).ok_or_else(|| {
        SfError::bad_request("INVALID_TYPE", "Must specify a type in attributes for each record")
    })?;
    store.object(name).ok_or_else(|| SfError::invalid_type(name))
}

/// `PATCH /composite/sobjects`: update records by `id`.
pub async fn update(
    State(state): State<SharedState>,
    SfPath(version): SfPath<String>,
    method: Method,
    matched: MatchedPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SfError> {
    gate(&state, &version, 42.0)?;
    let batch = batch(&body)?;
    let actor = state.api_actor(call_client(&headers));
    let now = state.now();
    let (results, written) =
        run_batch(&state, batch.all_or_none, batch.records.len(), |store, i| {
            let mut record = batch.records[i].clone();
            let id = take_id(&mut record);
            let outcome = id.clone().ok_or_else(|| {
                SfError::bad_request("MISSING_ARGUMENT", "Id not specified in an update call")
                    .with_fields(&["Id"])
            });
            outcome
                .and_then(|id| {
                    let object = typed_object(store, &record)?;
                    store.update(&object, &id, &record, &actor, now).map(|_| success(&id))
                })
                .map_err(|e| (id, e))
        });
    count_written(&state, &method, &matched, written);
    Ok(respond(results))
}

fn take_id(record: &mut Map<String, Value>) -> Option<String> {
    let key = record.keys().find(|k| k.eq_ignore_ascii_case("Id"))?.clone();
    let value = record.remove(&key)?;
    value.as_str().and_then(ids::normalize)
}

/// `PATCH /composite/sobjects/{T}/{ExtIdField}`: upsert by external id. Keyed on `Id` (or
/// any field that is not an External ID), the whole request is refused with 404 `NOT_FOUND`
/// before any record is looked at.
pub async fn upsert(
    State(state): State<SharedState>,
    SfPath((version, t, field)): SfPath<(String, String, String)>,
    method: Method,
    matched: MatchedPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, SfError> {
    gate(&state, &version, 46.0)?;
    let object = object(&state, &t)?;
    let field = upsert_key_field(&object, &field)?.clone();
    let batch = batch(&body)?;
    let duplicates = duplicate_keys(&batch.records, &field.name);
    let actor = state.api_actor(call_client(&headers));
    let now = state.now();
    let (results, written) =
        run_batch(&state, batch.all_or_none, batch.records.len(), |store, i| {
            let record = &batch.records[i];
            upsert_one(store, &object, &field, record, duplicates.get(&i), &actor, now)
                .map_err(|e| (None, e))
        });
    count_written(&state, &method, &matched, written);
    Ok(respond(results))
}

/// Records whose external id value appears more than once in the batch.
fn duplicate_keys(records: &[Map<String, Value>], field: &str) -> HashMap<usize, String> {
    let key_of = |r: &Map<String, Value>| {
        r.iter().find(|(k, _)| k.eq_ignore_ascii_case(field)).and_then(|(_, v)| index_key(v))
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for key in records.iter().filter_map(key_of) {
        *seen.entry(key).or_default() += 1;
    }
    let keyed = records.iter().enumerate().filter_map(|(i, r)| Some((i, key_of(r)?)));
    keyed.filter(|(_, key)| seen[key] > 1).collect()
}

fn upsert_one(
    store: &mut Store,
    object: &crate::schema::ObjectDef,
    field: &crate::schema::FieldDef,
    record: &Map<String, Value>,
    duplicate: Option<&String>,
    actor: &Actor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Value, SfError> {
    if type_of(record).is_some_and(|t| !t.eq_ignore_ascii_case(&object.name)) {
        return Err(SfError::bad_request(
            "INVALID_TYPE",
            "all records must be of the type in the URL",
        ));
    }
    if let Some(key) = duplicate {
        let message = format!("Duplicate external id specified: {key}");
        return Err(
            SfError::bad_request("DUPLICATE_EXTERNAL_ID", message).with_fields(&[&field.name])
        );
    }
    let key = record.iter().find(|(k, _)| k.eq_ignore_ascii_case(&field.name)).map(|(_, v)| v);
    let key = key.filter(|v| !v.is_null()).ok_or_else(|| {
        let message = format!("Required fields are missing: [{}]", field.name);
        SfError::bad_request("REQUIRED_FIELD_MISSING", message).with_fields(&[&field.name])
    })?;
    match store.upsert(object, field, key, record, actor, now)? {
        Upserted::Created(id) => {
            Ok(json!({"id": id, "success": true, "errors": [], "created": true}))
        }
        Upserted::Updated(id) => {
            Ok(json!({"id": id, "success": true, "errors": [], "created": false}))
        }
        Upserted::Ambiguous(ids) => {
            let message =
                format!("Multiple records found with this external ID: {}", ids.join(", "));
            Err(SfError::bad_request("DUPLICATE_EXTERNAL_ID", message).with_fields(&[&field.name]))
        }
    }
}

#[derive(serde::Deserialize)]
pub struct DeleteParams {
    ids: Option<String>,
    #[serde(default, rename = "allOrNone")]
    all_or_none: bool,
}

/// `DELETE /composite/sobjects?ids=a,b[&allOrNone=true]`.
pub async fn delete(
    State(state): State<SharedState>,
    SfPath(version): SfPath<String>,
    Params(params): Params<DeleteParams>,
    method: Method,
    matched: MatchedPath,
    headers: HeaderMap,
) -> Result<Response, SfError> {
    gate(&state, &version, 42.0)?;
    let ids: Vec<String> = params
        .ids
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect();
    if ids.is_empty() || ids.len() > MAX_RECORDS {
        return Err(SfError::bad_request(
            "INVALID_ID_FIELD",
            format!("ids must name 1 to {MAX_RECORDS} records"),
        ));
    }
    let actor = state.api_actor(call_client(&headers));
    let now = state.now();
    let (results, written) = run_batch(&state, params.all_or_none, ids.len(), |store, i| {
        let raw = &ids[i];
        let id = ids::normalize(raw).ok_or_else(|| {
            (Some(raw.clone()), SfError::bad_request("MALFORMED_ID", format!("malformed id {raw}")))
        })?;
        let outcome = store.delete(None, &id, &actor, now);
        outcome.map(|_| success(&id)).map_err(|e| (Some(id), e))
    });
    count_written(&state, &method, &matched, written);
    Ok(respond(results))
}

#[derive(serde::Deserialize)]
pub struct RetrieveParams {
    ids: Option<String>,
    fields: Option<String>,
}

/// `GET /composite/sobjects/{T}?ids=&fields=`.
pub async fn retrieve_get(
    State(state): State<SharedState>,
    SfPath((version, t)): SfPath<(String, String)>,
    Params(params): Params<RetrieveParams>,
) -> Result<Response, SfError> {
    let split = |s: Option<String>| -> Vec<String> {
        s.unwrap_or_default()
            .split(',')
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .collect()
    };
    retrieve(&state, &version, &t, split(params.ids), split(params.fields))
}

/// `POST /composite/sobjects/{T}` with `{"ids": [...], "fields": [...]}`.
pub async fn retrieve_post(
    State(state): State<SharedState>,
    SfPath((version, t)): SfPath<(String, String)>,
    body: Bytes,
) -> Result<Response, SfError> {
    let body = json_object(&body)?;
    let strings = |key: &str| -> Vec<String> {
        let list = body.get(key).and_then(Value::as_array);
        list.into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
    };
    retrieve(&state, &version, &t, strings("ids"), strings("fields"))
}

fn retrieve(
    state: &SfState,
    version: &str,
    t: &str,
    ids: Vec<String>,
    fields: Vec<String>,
) -> Result<Response, SfError> {
    gate(state, version, 42.0)?;
    let object = object(state, t)?;
    if ids.is_empty() || ids.len() > MAX_RETRIEVE || fields.is_empty() {
        return Err(SfError::bad_request("INVALID_FIELD", "ids and fields are required"));
    }
    let fields = fields
        .iter()
        .map(|f| {
            object
                .field(f)
                .map(|d| d.name.clone())
                .ok_or_else(|| SfError::invalid_field(&object.name, f))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let store = state.store();
    let rows: Vec<Value> = ids
        .iter()
        .map(|id| {
            let record = store.get(id).filter(|r| r.object == object.name && !r.is_deleted());
            record.map_or(Value::Null, |r| render::record(&object, r, Some(&fields), version))
        })
        .collect();
    let found = rows.iter().filter(|row| !row.is_null()).count();
    Ok(RecordsRead::mark(found, json_response(StatusCode::OK, &Value::Array(rows))))
}
