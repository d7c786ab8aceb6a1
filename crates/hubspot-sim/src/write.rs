//! Writing records: value validation as HubSpot does it, unique-value checks, and applying
//! a change with its history, index updates, search staging and webhook changes.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::error::{ApiError, ApiResult, Detail};
use super::events::{Change, ChangeKind};
use super::store::{HistoryEntry, ObjectTable, Record, Source, Store, unique_key};
use super::types::ObjectType;

/// Who writes, when, and how long search takes to see it.
#[derive(Debug, Clone)]
pub struct WriteCtx {
    pub source: Source,
    pub now: i64,
    pub search_lag_ms: i64,
    pub archived_values_stay_unique: bool,
}

/// Checked, normalised values ready to apply.
pub type Values = Vec<(String, String)>;

/// A property value from a request body as a string; `null` clears.
fn value_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Checks each value against its definition; every bad property gets its own detail.
pub fn check_values(
    table: &ObjectTable,
    object: &ObjectType,
    input: &Map<String, Value>,
    current: Option<&Record>,
    blocked_emails: &HashSet<String>,
) -> ApiResult<Values> {
    let mut values = Vec::with_capacity(input.len());
    let mut details = Vec::new();
    for (name, raw) in input {
        let text = value_text(raw);
        match check_one(table, object, name, &text, current, blocked_emails) {
            Ok(stored) => values.push((name.clone(), stored)),
            Err((code, message)) => {
                details.push(Detail { message, code: code.into(), property: Some(name.clone()) })
            }
        }
    }
    if details.is_empty() { Ok(values) } else { Err(ApiError::invalid_properties(details)) }
}

fn check_one(
    table: &ObjectTable,
    object: &ObjectType,
    name: &str,
    text: &str,
    current: Option<&Record>,
    blocked_emails: &HashSet<String>,
) -> Result<String, (&'static str, String)> {
    let def = match table.properties.get(name) {
        Some(def) if !def.archived => def,
        _ => return Err(("PROPERTY_DOESNT_EXIST", format!("Property \"{name}\" does not exist"))),
    };
    if def.read_only_value {
        let message = format!("\"{name}\" is a read only property; its value cannot be set.");
        return Err(("READ_ONLY_VALUE", message));
    }
    let stored = def
        .normalise(text, current.and_then(|r| r.get(name)))
        .map_err(|err| (err.code, err.message))?;
    if object.type_id == "0-1" && name == "email" && !stored.is_empty() {
        check_email(&stored, blocked_emails)?;
    }
    if name == "lifecyclestage" {
        check_forward(def, current.and_then(|r| r.get(name)), &stored)?;
    }
    Ok(stored)
}

/// `lifecyclestage` only moves forward; going back needs clearing it first.
fn check_forward(
    def: &super::properties::PropertyDef,
    current: Option<&str>,
    new: &str,
) -> Result<(), (&'static str, String)> {
    let rank = |value: &str| def.options.iter().position(|o| o.value == value);
    match (current.and_then(rank), rank(new)) {
        (Some(from), Some(to)) if to < from => Err((
            "INVALID_OPTION",
            format!(
                "lifecyclestage can only move forward, from {} to {new} is backwards; clear it first",
                current.unwrap_or_default()
            ),
        )),
        _ => Ok(()),
    }
}

fn check_email(email: &str, blocked: &HashSet<String>) -> Result<(), (&'static str, String)> {
    let well_formed = email
        .split_once('@')
        .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'));
    if !well_formed {
        return Err(("INVALID_EMAIL", format!("Email address {email} is invalid")));
    }
    if blocked.contains(&email.to_lowercase()) {
        let message = format!("Email address {email} was removed by a GDPR delete");
        return Err(("INVALID_EMAIL", message));
    }
    Ok(())
}

/// Required properties must be present and non-empty on create.
pub fn check_required(object: &ObjectType, values: &Values) -> ApiResult<()> {
    let missing: Vec<Detail> = object
        .required
        .iter()
        .filter(|name| !values.iter().any(|(n, v)| n == *name && !v.is_empty()))
        .map(|name| Detail {
            message: format!("Property \"{name}\" is required"),
            code: "REQUIRED_PROPERTY".into(),
            property: Some(name.clone()),
        })
        .collect();
    if missing.is_empty() { Ok(()) } else { Err(ApiError::invalid_properties(missing)) }
}

/// Refuses a unique value held by another record (409), or by an earlier input of the
/// same batch (`batch_keys`).
pub fn check_unique(
    store: &Store,
    object: &ObjectType,
    own_id: Option<u64>,
    values: &Values,
    ctx: &WriteCtx,
    batch_keys: Option<&mut HashSet<(String, String)>>,
) -> ApiResult<()> {
    let table = store.table(&object.type_id);
    let mut fresh = Vec::new();
    for (name, value) in
        values.iter().filter(|(n, v)| !v.is_empty() && table.is_unique(&object.type_id, n))
    {
        let key = unique_key(name, value);
        let holder = table.unique.get(name).and_then(|index| index.get(&key)).copied();
        if let Some(other) = holder.filter(|other| Some(*other) != own_id) {
            let archived = table.records.get(&other).is_some_and(Record::archived);
            if !archived || ctx.archived_values_stay_unique {
                return Err(conflict(object, name, value, other));
            }
        }
        fresh.push((name.clone(), key));
    }
    if let Some(seen) = batch_keys {
        for key in fresh {
            if !seen.insert(key.clone()) {
                return Err(ApiError::conflict(format!(
                    "Duplicate value `{}` for unique property {} within the batch",
                    key.1, key.0
                )));
            }
        }
    }
    Ok(())
}

fn conflict(object: &ObjectType, name: &str, value: &str, existing: u64) -> ApiError {
    if object.type_id == "0-1" && name == "email" {
        return ApiError::conflict(format!("Contact already exists. Existing ID: {existing}"));
    }
    ApiError::conflict(format!(
        "A {} with {name} `{value}` already exists. Existing ID: {existing}",
        object.singular
    ))
}

/// Inserts a new record with already-checked values and returns its id.
pub fn insert(store: &mut Store, object: &ObjectType, values: Values, ctx: &WriteCtx) -> u64 {
    let id = store.mint_id();
    let mut record = Record {
        id,
        properties: Default::default(),
        history: Default::default(),
        created_at: ctx.now,
        updated_at: ctx.now,
        archived_at: None,
    };
    let stamp = super::properties::iso_ms(ctx.now);
    record.properties.insert("hs_object_id".into(), id.to_string());
    record.properties.insert(object.created_property.clone(), stamp.clone());
    store.table_mut(&object.type_id).records.insert(id, record);
    note(store, object, id, ChangeKind::Creation, ctx);
    apply(store, object, id, values, ctx, true);
    id
}

/// Applies checked values to an existing record: only real changes move, each with history,
/// index update and a `propertyChange`; any change bumps the last-modified date.
pub fn apply(
    store: &mut Store,
    object: &ObjectType,
    id: u64,
    values: Values,
    ctx: &WriteCtx,
    created: bool,
) {
    let uniques: Vec<bool> = {
        let table = store.table(&object.type_id);
        values.iter().map(|(n, _)| table.is_unique(&object.type_id, n)).collect()
    };
    let table = store.table_mut(&object.type_id);
    let mut changed = Vec::new();
    for ((name, value), unique) in values.into_iter().zip(uniques) {
        let record = table.records.get_mut(&id).expect("applying to an existing record");
        let old = record.properties.get(&name).cloned().unwrap_or_default();
        if old == value {
            continue;
        }
        record.history.entry(name.clone()).or_default().insert(0, history(&value, ctx));
        if value.is_empty() {
            record.properties.remove(&name);
        } else {
            record.properties.insert(name.clone(), value.clone());
        }
        if unique {
            reindex(table, &name, &old, &value, id);
        }
        changed.push((name, value));
    }
    let record = table.records.get_mut(&id).expect("applying to an existing record");
    if created || !changed.is_empty() {
        record.updated_at = ctx.now;
        let stamp = super::properties::iso_ms(ctx.now);
        record.properties.insert(object.modified_property.clone(), stamp);
        stage_search(store, &object.type_id, id, ctx);
    }
    for (name, value) in changed {
        note(store, object, id, ChangeKind::PropertyChange { name, value }, ctx);
    }
}

fn history(value: &str, ctx: &WriteCtx) -> HistoryEntry {
    HistoryEntry {
        value: value.to_string(),
        timestamp: ctx.now,
        source_type: ctx.source.source_type.clone(),
        source_id: ctx.source.source_id.clone(),
        updated_by_user_id: ctx.source.user_id,
    }
}

fn reindex(table: &mut ObjectTable, name: &str, old: &str, new: &str, id: u64) {
    let index = table.unique.entry(name.to_string()).or_default();
    if !old.is_empty() && index.get(&unique_key(name, old)) == Some(&id) {
        index.remove(&unique_key(name, old));
    }
    if !new.is_empty() {
        index.insert(unique_key(name, new), id);
    }
}

pub fn stage_search(store: &mut Store, type_id: &str, id: u64, ctx: &WriteCtx) {
    let visible_at = ctx.now.saturating_add(ctx.search_lag_ms);
    let Store { tables, search, types, .. } = store;
    let modified = types.resolve(type_id).map(|t| t.modified_property.as_str());
    if let Some(record) = tables.get(type_id).and_then(|t| t.records.get(&id)) {
        search.stage(type_id, record, modified, visible_at);
    }
}

pub fn note(store: &mut Store, object: &ObjectType, id: u64, kind: ChangeKind, ctx: &WriteCtx) {
    store.note(Change {
        type_id: object.type_id.clone(),
        object_id: id,
        kind,
        occurred_at: ctx.now,
        source_type: ctx.source.source_type.clone(),
        source_id: ctx.source.source_id.clone(),
    });
}

/// Moves a record to the recycle bin. Archiving an archived record changes nothing.
pub fn archive(store: &mut Store, object: &ObjectType, id: u64, ctx: &WriteCtx) {
    let table = store.table_mut(&object.type_id);
    let Some(record) = table.records.get_mut(&id) else { return };
    if record.archived() {
        return;
    }
    record.archived_at = Some(ctx.now);
    if !ctx.archived_values_stay_unique {
        let values: Vec<(String, String)> =
            record.properties.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (name, value) in values {
            reindex(table, &name, &value, "", id);
        }
    }
    stage_search(store, &object.type_id, id, ctx);
    note(store, object, id, ChangeKind::Deletion, ctx);
}

/// Brings an archived record back, as a user does from the recycle bin.
pub fn restore(store: &mut Store, object: &ObjectType, id: u64, ctx: &WriteCtx) -> bool {
    let table = store.table_mut(&object.type_id);
    let Some(record) = table.records.get_mut(&id).filter(|r| r.archived()) else { return false };
    record.archived_at = None;
    let values: Vec<(String, String)> =
        record.properties.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    for (name, value) in values {
        if table.is_unique(&object.type_id, &name) {
            reindex(table, &name, "", &value, id);
        }
    }
    stage_search(store, &object.type_id, id, ctx);
    note(store, object, id, ChangeKind::Restore, ctx);
    true
}

/// Create in one step: check, then insert. Used by single creates, the handle and seeds.
pub fn create(
    store: &mut Store,
    object: &ObjectType,
    input: &Map<String, Value>,
    ctx: &WriteCtx,
) -> ApiResult<u64> {
    let values =
        check_values(store.table(&object.type_id), object, input, None, &store.blocked_emails)?;
    check_required(object, &values)?;
    check_unique(store, object, None, &values, ctx, None)?;
    Ok(insert(store, object, values, ctx))
}

/// Update in one step: check against the current record, then apply.
pub fn update(
    store: &mut Store,
    object: &ObjectType,
    id: u64,
    input: &Map<String, Value>,
    ctx: &WriteCtx,
) -> ApiResult<()> {
    let table = store.table(&object.type_id);
    let current = table.records.get(&id);
    let values = check_values(table, object, input, current, &store.blocked_emails)?;
    check_unique(store, object, Some(id), &values, ctx, None)?;
    apply(store, object, id, values, ctx, false);
    Ok(())
}
